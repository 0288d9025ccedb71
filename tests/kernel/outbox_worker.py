"""A process that drains the outbox, for the crash-and-restart test. Its handlers append to
the file named by OUTBOX_LOG; with OUTBOX_CRASH=1 the 'crasher' handler kills the process
in the middle of its delivery, as a power cut or OOM kill would."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import ClassVar

from sqlalchemy.orm import Session

from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher, Event, bus


class Pinged(Event):
    name: ClassVar[str] = "test.outbox_worker.pinged"
    n: int


def _log(line: str) -> None:
    with Path(os.environ["OUTBOX_LOG"]).open("a") as fh:
        fh.write(line + "\n")


@bus.subscribe(Pinged, name="test.steady")
def steady(session: Session, event: Pinged) -> None:
    _log(f"steady {event.n}")


@bus.subscribe(Pinged, name="test.crasher")
def crasher(session: Session, event: Pinged) -> None:
    if os.environ.get("OUTBOX_CRASH") == "1":
        os._exit(17)
    _log(f"crasher {event.n}")


if __name__ == "__main__":
    database = Database(sys.argv[1])
    Dispatcher(database).dispatch_pending()
    database.dispose()
