"""Benchmark: SLA deadline arithmetic (`groundswell.care.domain.due` and
`business_time_between`) for short and long targets, dense and sparse hours, zones with and
without DST, with holidays.

Each case is timed over repeated calls (best of 5 rounds, mean per call within a round) and
printed with its answer. Figures are measured, never asserted. Usage:
``python bench/sla.py [--rounds 5]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from groundswell.care.domain import BusinessHours, business_time_between, due, parse_instant

OFFICE = "mon-fri 09:00-17:00; sat 10:00-14:00"
CASES = [
    # (label, hours, zone, holidays, start, minutes)
    ("60 min, office hours", OFFICE, "Europe/Berlin", (), "2026-11-27T16:30:00", 60),
    ("1 week of minutes", OFFICE, "America/New_York", (), "2026-11-23T08:00:00", 2_640),
    ("100,000 min, office hours", OFFICE, "Europe/Berlin", (), "2026-11-23T08:00:00", 100_000),
    (
        "100,000 min, 20 holidays",
        OFFICE,
        "Australia/Sydney",
        tuple(f"2027-{month:02d}-{day:02d}" for month in range(1, 11) for day in (5, 20)),
        "2026-11-23T08:00:00",
        100_000,
    ),
    (
        "100,000 min, always open",
        "mon-sun 00:00-24:00",
        "America/New_York",
        (),
        "2026-11-23T08:00:00",
        100_000,
    ),
    (
        "100,000 min, 1 h a week",
        "mon 09:00-10:00",
        "Europe/Berlin",
        (),
        "2026-11-23T08:00:00",
        100_000,
    ),
    ("100,000 min, 1 h a week, UTC", "mon 09:00-10:00", "UTC", (), "2026-11-23T08:00:00", 100_000),
    ("100,000 min, 1 min a week", "mon 09:00-09:01", "UTC", (), "2026-11-23T08:00:00", 100_000),
]


def best_per_call(call: Callable[[], object], rounds: int) -> float:
    start = time.perf_counter()
    call()
    once = time.perf_counter() - start
    calls = max(1, min(1000, int(0.2 / max(once, 1e-9))))
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            call()
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    print(f"{'case':32} {'due':28} {'due()':>10} {'between()':>10}")
    for label, spec, zone, holidays, start_text, minutes in CASES:
        hours = BusinessHours.parse(spec, zone, holidays)
        start = parse_instant(start_text, hours.zone)
        answer = due(start, minutes, hours)
        elapsed = business_time_between(start, answer, hours)
        assert elapsed == timedelta(minutes=minutes), "inconsistent answer"
        t_due = best_per_call(partial(due, start, minutes, hours), args.rounds)
        t_between = best_per_call(partial(business_time_between, start, answer, hours), args.rounds)
        print(f"{label:32} {answer.isoformat():28} {t_due * 1e3:8.3f}ms {t_between * 1e3:8.3f}ms")


if __name__ == "__main__":
    main()
