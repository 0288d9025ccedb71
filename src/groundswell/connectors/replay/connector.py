"""The ``replay`` connector: a `StreamSource` that replays a files-format JSONL file with the
posts' original timing (their ``created_at``), sped up by ``speed``.

The first line replayed sets time zero; a line is due ``(created_at - first) / speed`` seconds
later on the wall clock (a line without a readable ``created_at``, or dated before the one
before it, is due at once). Lines due together travel in one batch (at most ``batch``); a
batch is yielded before each wait. The cursor is the number of the last line replayed, so a
restart resumes on the next line: no gap, no duplicate (its timing starts again from there).

Options: ``path`` (required: the JSONL file), ``speed`` (a positive number, default 1; ``max``
replays without waiting), ``batch`` (lines per batch, default 500).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from datetime import datetime
from pathlib import Path

from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import SourceUnavailable
from groundswell.connectors.replay.parse import FORMAT, created_at, parse_record

DEFAULT_BATCH = 500
GATHER_SECONDS = 0.05  # lines due within this of each other share a batch
BOM = b"\xef\xbb\xbf"


class ReplayConnector:
    """A file replayed in time. `sleep` and `monotonic` are injectable so tests run instantly."""

    name = "replay"
    capabilities = Capabilities(
        streams=True, options=("path", "speed", "batch"), required=("path",)
    )

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sleep = sleep
        self.monotonic = monotonic

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_record(record)

    def stream(self, config: SourceConfig, cursor: str | None) -> Generator[Batch, None, None]:
        path, speed, size = _options(config)
        done = _line_of(cursor)
        try:
            stream = Path(path).open("rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise SourceUnavailable(f"replay: cannot read {path}: {exc.strerror or exc}") from exc
        with stream:
            yield from self._replay(stream, done, speed, size)

    def _replay(
        self, lines: Iterator[bytes], done: int, speed: float | None, size: int
    ) -> Iterator[Batch]:
        pending: list[RawRecord] = []
        first_post: datetime | None = None
        first_wall = self.monotonic()
        for line_no, raw in enumerate(lines, start=1):
            if line_no <= done:
                continue
            if line_no == 1 and raw.startswith(BOM):
                raw = raw[len(BOM) :]
            payload = raw.rstrip(b"\r\n")
            if not payload.strip():
                continue
            at = created_at(payload) if speed is not None else None
            if at is not None and speed is not None:
                if first_post is None:
                    first_post, first_wall = at, self.monotonic()
                due = first_wall + (at - first_post).total_seconds() / speed
                wait = due - self.monotonic()
                if wait > GATHER_SECONDS and pending:
                    yield _batch(pending)
                    pending = []
                    wait = due - self.monotonic()
                if wait > 0:
                    self.sleep(wait)
            pending.append(RawRecord(payload, line_no, FORMAT))
            if len(pending) >= size:
                yield _batch(pending)
                pending = []
        if pending:
            yield _batch(pending)


def _batch(records: list[RawRecord]) -> Batch:
    return Batch(records=tuple(records), cursor=str(records[-1].position))


def _line_of(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        line = int(cursor)
    except ValueError:
        raise SourceUnavailable(f"replay: unreadable cursor {cursor[:40]!r}") from None
    if line < 0:
        raise SourceUnavailable(f"replay: unreadable cursor {cursor[:40]!r}")
    return line


def _options(config: SourceConfig) -> tuple[str, float | None, int]:
    """(path, speed or None for no waiting, batch size)."""
    path = (config.options.get("path") or "").strip()
    if not path:
        raise SourceUnavailable("replay: option path (a JSONL file) is required")
    raw_speed = (config.options.get("speed") or "1").strip().lower()
    speed: float | None
    if raw_speed == "max":
        speed = None
    else:
        try:
            speed = float(raw_speed)
        except ValueError:
            speed = 0.0
        if not speed > 0:  # also refuses NaN
            raise SourceUnavailable("replay: option speed must be a positive number or max")
    try:
        size = int(config.options.get("batch") or DEFAULT_BATCH)
    except ValueError:
        size = 0
    if size < 1:
        raise SourceUnavailable("replay: option batch must be a positive integer")
    return path, speed, size
