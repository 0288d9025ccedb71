"""Scheduled work. A room registers a job with `@job(name, every=...)` on a function
``fn(db, clock) -> int`` (how many things it did); `run_due` runs those whose interval has
passed since this process last ran them. `groundswell serve` and `groundswell worker` call
`run_due` every few seconds.

Jobs must be idempotent and safe when two processes run them at once (claim rows, or update
with a compare-and-set): the schedule is per process, not a lock. A job that raises is logged
and retried at its next turn; it never stops the others. Tests call the job function directly
with a `FrozenClock`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database

JobFn = Callable[[Database, Clock], int]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    every: timedelta
    run: JobFn


JOBS: dict[str, Job] = {}


def job(name: str, *, every: timedelta) -> Callable[[JobFn], JobFn]:
    """Register `fn` as the job `name`, due every `every`. Registering a name twice replaces
    the first (a module imported again)."""
    if every <= timedelta(0):
        raise ValueError("a job's interval must be positive")

    def register(fn: JobFn) -> JobFn:
        JOBS[name] = Job(name, every, fn)
        return fn

    return register


class Schedule:
    """When each job last ran in this process."""

    def __init__(self) -> None:
        self.last_run: dict[str, datetime] = {}

    def due(self, now: datetime) -> list[Job]:
        return [
            j
            for j in sorted(JOBS.values(), key=lambda j: j.name)
            if (last := self.last_run.get(j.name)) is None or now - last >= j.every
        ]


_default_schedule = Schedule()


def run_due(db: Database, clock: Clock, *, schedule: Schedule | None = None) -> dict[str, int]:
    """Run every job that is due; returns what each one that ran reported (-1: it failed)."""
    schedule = schedule or _default_schedule
    now = clock.now()
    results: dict[str, int] = {}
    for due in schedule.due(now):
        schedule.last_run[due.name] = now
        try:
            results[due.name] = due.run(db, clock)
        except Exception:  # one failing job must not stop the others; it runs again next turn
            log.exception("job %s failed", due.name)
            results[due.name] = -1
    return results
