"""The outbox: events commit with their change, and each handler gets each event exactly once,
even when a handler crashes and the process restarts."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import ClassVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher, Event, EventBus, emit
from groundswell.kernel.tables import AuditEntry, OutboxDelivery
from tests.kernel import outbox_worker


class ThingHappened(Event):
    name: ClassVar[str] = "test.thing_happened"
    thing_id: str


def _bus(calls: dict[str, list[str]], *, crash_first: bool) -> EventBus:
    bus = EventBus()
    state = {"crashed": False}

    @bus.subscribe(ThingHappened, name="steady")
    def steady(session: Session, event: ThingHappened) -> None:
        calls["steady"].append(event.thing_id)

    @bus.subscribe(ThingHappened, name="flaky")
    def flaky(session: Session, event: ThingHappened) -> None:
        # The handler writes in the same transaction as its delivery mark.
        audit.record(session, audit.SYSTEM, "flaky.saw", "thing", event.thing_id)
        if crash_first and not state["crashed"]:
            state["crashed"] = True
            raise RuntimeError("handler bug")
        calls["flaky"].append(event.thing_id)

    return bus


def test_crashed_handler_is_redelivered_after_restart_exactly_once(
    db: Database, clock: FrozenClock
) -> None:
    calls: dict[str, list[str]] = {"steady": [], "flaky": []}
    bus = _bus(calls, crash_first=True)
    with db.unit_of_work() as session:
        emit(session, ThingHappened(thing_id="t1"), clock=clock, on=bus)

    first = Dispatcher(db, on=bus, clock=clock)
    assert first.dispatch_pending() == 1  # steady delivered, flaky crashed
    assert calls == {"steady": ["t1"], "flaky": []}
    with db.reader() as session:
        # the crashed handler's own writes rolled back with it
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 0
        pending = (
            session.execute(select(OutboxDelivery).where(OutboxDelivery.delivered_at.is_(None)))
            .scalars()
            .all()
        )
        assert [(p.handler, p.attempts) for p in pending] == [("flaky", 1)]
        assert pending[0].last_error is not None
        assert "handler bug" in pending[0].last_error

    # "Restart": a new dispatcher (new process) with the same database, after the back-off.
    clock.advance(timedelta(minutes=1))
    restarted = Dispatcher(db, on=bus, clock=clock)
    assert restarted.dispatch_pending() == 1
    assert restarted.dispatch_pending() == 0
    assert calls == {"steady": ["t1"], "flaky": ["t1"]}
    with db.reader() as session:
        assert session.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == 1


def test_backoff_delays_the_retry(db: Database, clock: FrozenClock) -> None:
    calls: dict[str, list[str]] = {"steady": [], "flaky": []}
    bus = _bus(calls, crash_first=True)
    with db.unit_of_work() as session:
        emit(session, ThingHappened(thing_id="t2"), clock=clock, on=bus)
    dispatcher = Dispatcher(db, on=bus, clock=clock)
    dispatcher.dispatch_pending()
    assert dispatcher.dispatch_pending() == 0  # not due yet
    clock.advance(timedelta(seconds=3))
    assert dispatcher.dispatch_pending() == 1


def test_event_rolls_back_with_its_change(db: Database, clock: FrozenClock) -> None:
    calls: dict[str, list[str]] = {"steady": [], "flaky": []}
    bus = _bus(calls, crash_first=False)
    try:
        with db.unit_of_work() as session:
            emit(session, ThingHappened(thing_id="t3"), clock=clock, on=bus)
            raise ValueError("the change failed")
    except ValueError:
        pass
    assert Dispatcher(db, on=bus, clock=clock).dispatch_pending() == 0
    assert calls == {"steady": [], "flaky": []}


def test_after_commit_hook_dispatches_at_once(db: Database, clock: FrozenClock) -> None:
    calls: dict[str, list[str]] = {"steady": [], "flaky": []}
    bus = _bus(calls, crash_first=False)
    db.after_commit_hooks.append(Dispatcher(db, on=bus, clock=clock))
    with db.unit_of_work() as session:
        emit(session, ThingHappened(thing_id="t4"), clock=clock, on=bus)
    assert calls == {"steady": ["t4"], "flaky": ["t4"]}


def test_two_processes_draining_the_same_outbox_deliver_once(
    db: Database, clock: FrozenClock, database_url: str
) -> None:
    """Several web workers drain one outbox: each delivery runs exactly once."""
    calls: list[str] = []
    lock = threading.Lock()
    bus = EventBus()

    @bus.subscribe(ThingHappened, name="counted")
    def counted(session: Session, event: ThingHappened) -> None:
        with lock:
            calls.append(event.thing_id)

    with db.unit_of_work() as session:
        for i in range(20):
            emit(session, ThingHappened(thing_id=f"t{i}"), clock=clock, on=bus)
    other = Database(database_url)  # a second process's connections
    try:
        workers = [Dispatcher(db, on=bus, clock=clock), Dispatcher(other, on=bus, clock=clock)]
        threads = [threading.Thread(target=w.dispatch_pending) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        other.dispose()
    assert sorted(calls) == sorted(f"t{i}" for i in range(20))


def test_a_process_killed_inside_a_handler_is_redelivered_after_restart(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "deliveries.log"
    with db.unit_of_work() as session:
        emit(session, outbox_worker.Pinged(n=1))
    env = {**os.environ, "OUTBOX_LOG": str(log), "PYTHONPATH": str(Path(__file__).parents[2])}
    command = [sys.executable, "-m", "tests.kernel.outbox_worker", database_url]
    crashed = subprocess.run(command, env={**env, "OUTBOX_CRASH": "1"}, check=False)
    assert crashed.returncode == 17  # died mid-delivery
    assert log.read_text().splitlines() == ["steady 1"]
    # The restarted process delivers the interrupted handler, and only that one.
    subprocess.run(command, env={**env, "OUTBOX_CRASH": "0"}, check=True)
    subprocess.run(command, env={**env, "OUTBOX_CRASH": "0"}, check=True)
    assert log.read_text().splitlines() == ["steady 1", "crasher 1"]
