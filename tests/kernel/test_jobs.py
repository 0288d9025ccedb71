"""The job schedule: due by interval per process, a failing job does not stop the others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from groundswell.kernel import jobs
from groundswell.kernel.clock import Clock, FrozenClock
from groundswell.kernel.db import Database


@pytest.fixture
def registry() -> Iterator[dict[str, jobs.Job]]:
    saved = dict(jobs.JOBS)
    jobs.JOBS.clear()
    yield jobs.JOBS
    jobs.JOBS.clear()
    jobs.JOBS.update(saved)


def test_runs_each_job_when_due(registry: dict[str, jobs.Job], db: Database) -> None:
    calls: list[str] = []

    @jobs.job("test.fast", every=timedelta(minutes=1))
    def fast(db: Database, clock: Clock) -> int:
        calls.append("fast")
        return 1

    @jobs.job("test.slow", every=timedelta(minutes=10))
    def slow(db: Database, clock: Clock) -> int:
        calls.append("slow")
        return 2

    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    schedule = jobs.Schedule()
    assert jobs.run_due(db, clock, schedule=schedule) == {"test.fast": 1, "test.slow": 2}
    assert jobs.run_due(db, clock, schedule=schedule) == {}
    clock.advance(timedelta(minutes=1))
    assert jobs.run_due(db, clock, schedule=schedule) == {"test.fast": 1}
    clock.advance(timedelta(minutes=9))
    assert jobs.run_due(db, clock, schedule=schedule) == {"test.fast": 1, "test.slow": 2}
    assert calls == ["fast", "slow", "fast", "fast", "slow"]


def test_a_failing_job_is_reported_and_others_run(
    registry: dict[str, jobs.Job], db: Database
) -> None:
    @jobs.job("test.broken", every=timedelta(seconds=5))
    def broken(db: Database, clock: Clock) -> int:
        raise RuntimeError("boom")

    @jobs.job("test.fine", every=timedelta(seconds=5))
    def fine(db: Database, clock: Clock) -> int:
        return 3

    clock = FrozenClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    assert jobs.run_due(db, clock, schedule=jobs.Schedule()) == {"test.broken": -1, "test.fine": 3}


def test_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        jobs.job("test.never", every=timedelta(0))
