"""Benchmark: the crisis spike detector on simulated traffic with injected spikes.

Traffic (per 5-minute bucket, or ``--bucket``): Poisson counts whose rate is

    level × daily(hour) × weekly(day) × trend(t) × noise(t)

* daily: a smooth curve, trough about 0.35× the day's mean around 04:00, peak in the afternoon
  and evening (two harmonics, phase jittered per run);
* weekly: weekends at 0.65-0.9× (drawn per run), Mondays slightly busier;
* trend: exponential growth or decline of up to ±15 % a week plus a slow wave over weeks;
* noise: a log-AR(1) process on the hourly rate (stationary sd 0.12) and an independent
  log-normal factor per bucket (sd 0.05): real traffic is over-dispersed, not pure Poisson.

Spikes: at random onsets (at least a day after the start, at least 12 h apart), the rate of
``--duration`` minutes is multiplied by ``--size`` (3× for 30 min by default). Scoring, on the
overall volume series:

* recall: a spike counts as detected when an alert fires between its onset and its end;
* delay: ``at`` of that first alert minus the onset (the onset is uniform inside a bucket, so
  the end-of-bucket latency is part of it);
* false alarms per week: alerts on runs *without* spikes, per simulated week after the
  24-hour warm-up, also shown excluding the first week (when only an hour-of-day profile
  exists).

Runs several seeds per traffic level and prints one table. Figures are measured, never
asserted. Usage: ``python bench/crisis.py [--seeds 8] [--weeks 6] [--size 3] [--duration 30]
[--sensitivity 1] [--json]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

from groundswell.crisis.domain import Counts, Detector, DetectorConfig

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
LEVELS = (1_000, 5_000, 20_000, 100_000)  # mean posts per day


@dataclass
class Traffic:
    counts: np.ndarray  # posts per bucket
    onsets: list[int]  # onset offsets in seconds from START


def _rate(rng: np.random.Generator, buckets: int, bucket_s: int, per_day: float) -> np.ndarray:
    """Expected posts per bucket, before spikes."""
    t = np.arange(buckets) * bucket_s + bucket_s / 2
    hours = t / 3600.0
    hour_of_day = hours % 24
    day = (hours // 24).astype(int)
    phase = rng.normal(0, 1.0)
    daily = (
        1.0
        + 0.65 * np.cos(2 * np.pi * (hour_of_day - 16 - phase) / 24)
        + 0.2 * np.cos(4 * np.pi * (hour_of_day - 13 - phase) / 24)
    )
    daily = np.clip(daily, 0.15, None)
    weekend = rng.uniform(0.65, 0.9)
    weekday = day % 7  # START is a Monday
    weekly = np.where(weekday >= 5, weekend, np.where(weekday == 0, 1.08, 1.0))
    weeks = hours / 168.0
    growth = rng.uniform(-0.15, 0.15)
    wave = 0.1 * np.sin(2 * np.pi * weeks / rng.uniform(3, 8) + rng.uniform(0, 6.3))
    trend = np.exp(np.log1p(growth) * weeks + wave)
    n_hours = int(np.ceil(hours[-1])) + 2
    phi, sd = 0.9, 0.12
    ar = np.empty(n_hours)
    ar[0] = rng.normal(0, sd)
    eps = rng.normal(0, sd * np.sqrt(1 - phi**2), n_hours)
    for i in range(1, n_hours):
        ar[i] = phi * ar[i - 1] + eps[i]
    hourly_noise = np.interp(hours, np.arange(n_hours) + 0.5, ar)
    bucket_noise = rng.normal(0, 0.05, buckets)
    per_bucket = per_day * bucket_s / 86400.0
    shape = daily * weekly
    shape = shape / shape.mean()
    rate: np.ndarray = per_bucket * shape * trend * np.exp(hourly_noise + bucket_noise)
    return rate


def simulate(
    seed: int,
    *,
    weeks: int,
    per_day: float,
    bucket_s: int,
    spikes: bool,
    size: float,
    duration_s: int,
) -> Traffic:
    rng = np.random.default_rng(seed)
    buckets = weeks * 7 * 86400 // bucket_s
    rate = _rate(rng, buckets, bucket_s, per_day)
    counts = rng.poisson(rate).astype(np.int64)
    onsets: list[int] = []
    if spikes:
        horizon = buckets * bucket_s
        t = 86400 + int(rng.uniform(0, 12 * 3600))
        while t + duration_s < horizon:
            onsets.append(t)
            t += 12 * 3600 + int(rng.uniform(0, 24 * 3600))
        for onset in onsets:
            # Spike posts arrive uniformly over [onset, onset + duration): bucket by bucket,
            # the extra rate is (size - 1) × the baseline rate times the covered share.
            first, last = onset // bucket_s, (onset + duration_s - 1) // bucket_s
            for b in range(first, last + 1):
                lo = max(onset, b * bucket_s)
                hi = min(onset + duration_s, (b + 1) * bucket_s)
                extra = (size - 1.0) * rate[b] * (hi - lo) / bucket_s
                counts[b] += rng.poisson(extra)
    return Traffic(counts, onsets)


def alerts_of(traffic: Traffic, config: DetectorConfig) -> list[int]:
    """Alert instants (seconds from START) on the overall volume."""
    detector = Detector(config, START)
    first = detector.first_bucket
    out: list[int] = []
    start_s = int(START.timestamp())
    for i, n in enumerate(traffic.counts.tolist()):
        if not n:
            continue
        for spike in detector.close_bucket(first + i, {None: Counts(posts=n)}):
            if spike.topic is None and spike.metric == "volume":
                out.append(int(spike.at.timestamp()) - start_s)
    # close the trailing empty buckets too
    last = first + len(traffic.counts) - 1
    if detector.next_bucket <= last:
        for spike in detector.close_bucket(last, {}):
            out.append(int(spike.at.timestamp()) - start_s)
    return out


@dataclass
class Row:
    posts_per_day: int
    spikes: int
    recall: float
    median_delay_min: float | None
    p90_delay_min: float | None
    false_alarms_per_week: float
    false_alarms_per_week_after_week1: float
    seconds: float


def _p90(values: list[float]) -> float:
    return float(np.quantile(np.array(values), 0.9)) if values else float("nan")


def run_level(per_day: int, args: argparse.Namespace, config: DetectorConfig) -> Row:
    began = time.perf_counter()
    duration_s = int(args.duration * 60)
    detected = total = 0
    delays: list[float] = []
    false_alarms = false_after = 0
    weeks_normal = weeks_after = 0.0
    warm = config.warmup_hours * 3600
    for seed in range(args.seeds):
        common = {
            "weeks": args.weeks,
            "per_day": per_day,
            "bucket_s": config.bucket_seconds,
            "size": args.size,
            "duration_s": duration_s,
        }
        spiky = simulate(10_000 + seed, spikes=True, **common)
        fired = alerts_of(spiky, config)
        for onset in spiky.onsets:
            total += 1
            hits = [a for a in fired if onset < a <= onset + duration_s]
            if hits:
                detected += 1
                delays.append((min(hits) - onset) / 60.0)
        normal = simulate(20_000 + seed, spikes=False, **common)
        fired = alerts_of(normal, config)
        false_alarms += sum(1 for a in fired if a > warm)
        false_after += sum(1 for a in fired if a > 7 * 86400)
        weeks_normal += (args.weeks * 7 * 86400 - warm) / (7 * 86400)
        weeks_after += args.weeks - 1
    return Row(
        posts_per_day=per_day,
        spikes=total,
        recall=detected / total if total else float("nan"),
        median_delay_min=statistics.median(delays) if delays else None,
        p90_delay_min=_p90(delays) if delays else None,
        false_alarms_per_week=false_alarms / weeks_normal,
        false_alarms_per_week_after_week1=false_after / weeks_after if weeks_after else 0.0,
        seconds=time.perf_counter() - began,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--size", type=float, default=3.0, help="Spike multiplier.")
    parser.add_argument("--duration", type=float, default=30.0, help="Spike minutes.")
    parser.add_argument("--bucket", type=int, default=300, help="Bucket seconds.")
    parser.add_argument("--sensitivity", type=float, default=1.0)
    parser.add_argument("--levels", type=int, nargs="*", default=list(LEVELS))
    parser.add_argument("--json", action="store_true", help="One JSON object per level.")
    args = parser.parse_args()
    config = DetectorConfig(bucket_seconds=args.bucket, sensitivity=args.sensitivity)
    if not args.json:
        print(
            f"spikes {args.size:g}x for {args.duration:g} min; bucket {args.bucket}s; "
            f"sensitivity {args.sensitivity:g}; {args.seeds} seeds x {args.weeks} weeks "
            "(one run with spikes, one without, per seed)"
        )
        print(
            f"{'posts/day':>10} {'spikes':>7} {'recall':>7} {'median':>7} {'p90':>7} "
            f"{'FA/week':>8} {'FA/wk>1':>8} {'secs':>6}"
        )
    for level in args.levels:
        row = run_level(level, args, config)
        if args.json:
            print(json.dumps(asdict(row)))
            continue
        med = "-" if row.median_delay_min is None else f"{row.median_delay_min:.1f}"
        p90 = "-" if row.p90_delay_min is None else f"{row.p90_delay_min:.1f}"
        print(
            f"{row.posts_per_day:>10} {row.spikes:>7} {row.recall:>7.3f} {med:>7} {p90:>7} "
            f"{row.false_alarms_per_week:>8.2f} {row.false_alarms_per_week_after_week1:>8.2f} "
            f"{row.seconds:>6.1f}"
        )
    if not args.json:
        print("delays in minutes from onset to the alert's `at`; FA = false alarms")


if __name__ == "__main__":
    main()
