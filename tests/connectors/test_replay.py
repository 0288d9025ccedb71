"""The ``replay`` connector: a captured JSONL file replayed with its original timing divided by
`speed` (sleep and clock injected), posts due together in one batch, a restart from the cursor
resuming with no gap and no duplicate."""

from __future__ import annotations

from pathlib import Path

import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import BadRecord, Batch, SourceConfig, StreamSource
from groundswell.connectors.http import SourceUnavailable
from groundswell.connectors.replay.connector import ReplayConnector

CAPTURE = Path(__file__).parents[2] / "src/groundswell/connectors/replay/fixtures/capture.jsonl"


class FakeTime:
    """A monotonic clock that moves only when slept on (and by `work` between batches)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


def _config(**options: str) -> SourceConfig:
    return SourceConfig(options={"path": str(CAPTURE), **options})


def _lines(batches: list[Batch]) -> list[list[int]]:
    return [[r.position for r in b.records] for b in batches]


def test_is_registered_as_a_stream_source() -> None:
    connector = registry.get("replay")
    assert isinstance(connector, StreamSource)
    assert connector.capabilities.streams


def test_replays_with_the_original_timing_sped_up() -> None:
    clock = FakeTime()
    connector = ReplayConnector(sleep=clock.sleep, monotonic=clock.monotonic)
    batches = list(connector.stream(_config(speed="10"), None))
    # Lines 1, 2, 3, 5, 7, 8 are dated +0, +10, +10.02, +40, +41 and +2400 s (10:40 at
    # +01:00); at speed 10 they are due at 0, 1, 1.002, 4, 4.1 and 240 s. Line 4 is blank;
    # line 6 has no date: it goes at once, with line 5.
    assert clock.slept == [1.0, 0.002, 2.998, 0.1, 235.9]
    # Line 3 is due 2 ms after line 2: the same batch.
    assert _lines(batches) == [[1], [2, 3], [5, 6], [7], [8]]
    assert [b.cursor for b in batches] == ["1", "3", "6", "7", "8"]
    posts = [connector.parse(b.records[0]) for b in batches if b.records[0].position != 7]
    assert posts[0].external_id == "r1"
    with pytest.raises(BadRecord) as exc:
        connector.parse(batches[3].records[0])
    assert exc.value.reason == "missing_text"  # quarantined by the pipeline, not dropped


def test_time_spent_between_batches_counts_toward_the_wait() -> None:
    clock = FakeTime()
    connector = ReplayConnector(sleep=clock.sleep, monotonic=clock.monotonic)
    stream = connector.stream(_config(speed="1"), None)
    next(stream)  # line 1
    clock.now += 4.0  # the pipeline took 4 s to store it
    next(stream)  # lines 2-3, due 10 s and 10.02 s after line 1
    assert clock.slept == [6.0, 0.02]


def test_speed_max_never_waits_and_batch_bounds_the_size() -> None:
    clock = FakeTime()
    connector = ReplayConnector(sleep=clock.sleep, monotonic=clock.monotonic)
    batches = list(connector.stream(_config(speed="max", batch="4"), None))
    assert clock.slept == []
    assert _lines(batches) == [[1, 2, 3, 5], [6, 7, 8]]


def test_a_restart_from_the_cursor_resumes_without_gap_or_duplicate() -> None:
    clock = FakeTime()
    first = ReplayConnector(sleep=clock.sleep, monotonic=clock.monotonic)
    stream = first.stream(_config(speed="10"), None)
    got = [next(stream), next(stream)]
    stream.close()  # the process stops; the runner saved the last batch's cursor
    saved = got[-1].cursor
    assert saved == "3"
    restarted = ReplayConnector(sleep=clock.sleep, monotonic=clock.monotonic)
    got += list(restarted.stream(_config(speed="10"), saved))
    lines = [r.position for b in got for r in b.records]
    assert lines == [1, 2, 3, 5, 6, 7, 8]


@pytest.mark.parametrize(
    ("options", "cursor", "message"),
    [
        ({"path": ""}, None, "option path"),
        ({"path": "/nonexistent/x.jsonl"}, None, "cannot read /nonexistent/x.jsonl"),
        ({"path": str(CAPTURE), "speed": "0"}, None, "option speed"),
        ({"path": str(CAPTURE), "speed": "fast"}, None, "option speed"),
        ({"path": str(CAPTURE), "batch": "0"}, None, "option batch"),
        ({"path": str(CAPTURE)}, "line 3", "unreadable cursor"),
    ],
)
def test_bad_options_make_the_source_unavailable(
    options: dict[str, str], cursor: str | None, message: str
) -> None:
    with pytest.raises(SourceUnavailable, match=message):
        next(ReplayConnector().stream(SourceConfig(options=options), cursor))
