"""The spike detector on synthetic series: step, ramp, seasonal, noisy, sparse; no look-ahead."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from groundswell.crisis.domain import Counts, Detector, DetectorConfig, Spike

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday, on the bucket grid
BUCKET = 300
PER_HOUR = 3600 // BUCKET
PER_DAY = 24 * PER_HOUR


def run(
    series: Sequence[Mapping[str | None, Counts]], config: DetectorConfig | None = None
) -> list[Spike]:
    """Feed one mapping of counts per bucket from START; return every alert."""
    config = config or DetectorConfig()
    detector = Detector(config, START)
    spikes: list[Spike] = []
    for i, counts in enumerate(series):
        spikes.extend(detector.close_bucket(detector.first_bucket + i, counts))
    return spikes


def volume(counts: Iterable[int]) -> list[dict[str | None, Counts]]:
    return [{None: Counts(posts=int(n))} for n in counts]


def poisson(rate: Callable[[int], float], buckets: int, seed: int, cv: float = 0.0) -> np.ndarray:
    """Counts per bucket; ``cv`` adds gamma noise to each bucket's rate (over-dispersion)."""
    rng = np.random.default_rng(seed)
    lam = np.array([rate(i) for i in range(buckets)], dtype=float)
    if cv > 0:
        lam = lam * rng.gamma(1 / cv**2, cv**2, buckets)
    return rng.poisson(lam)


def at_bucket(i: int) -> datetime:
    return START + timedelta(seconds=BUCKET * i)


def daily(i: int, mean: float) -> float:
    """A daily cycle (trough at night) with quieter weekends."""
    hour = (i % PER_DAY) / PER_HOUR
    weekend = 0.7 if (i // PER_DAY) % 7 >= 5 else 1.0
    return mean * weekend * (1 + 0.7 * math.cos(2 * math.pi * (hour - 15) / 24))


def test_flat_traffic_then_a_step_alerts_once_within_15_minutes() -> None:
    onset = 3 * PER_DAY + 100
    counts = poisson(lambda i: 20.0 if i < onset else 60.0, onset + 24, seed=1)
    spikes = run(volume(counts))
    assert spikes, "the step must be detected"
    assert all(s.at > at_bucket(onset) for s in spikes), "nothing fires before the step"
    first = spikes[0]
    assert first.topic is None
    assert first.metric == "volume"
    assert first.at <= at_bucket(onset + 3)
    assert first.observed > 2 * first.expected
    assert len(spikes) == 1, "a lasting step is one episode, not an alert per bucket"


def test_a_ramp_is_caught_while_it_climbs() -> None:
    start, length = 3 * PER_DAY, 2 * PER_HOUR

    def rate(i: int) -> float:
        return 20.0 if i < start else 20.0 + 60.0 * min(1.0, (i - start) / length)

    spikes = run(volume(poisson(rate, start + length, seed=2)))
    assert len(spikes) == 1
    assert at_bucket(start) < spikes[0].at <= at_bucket(start + length)


def test_seasonal_traffic_with_a_slow_trend_is_quiet_and_a_night_spike_is_found() -> None:
    weeks = 3
    n = weeks * 7 * PER_DAY

    def trend(i: int) -> float:
        return daily(i, 30.0) * float(1.1 ** (i / (7 * PER_DAY)))

    quiet = run(volume(poisson(trend, n, seed=3)))
    assert len(quiet) <= 1, f"{len(quiet)} false alarms in three weeks of seasonal traffic"
    # 03:00 on the last Wednesday, where the daily cycle is lowest: 3x for 30 minutes.
    onset = (2 * 7 + 2) * PER_DAY + 3 * PER_HOUR
    spiky = poisson(
        lambda i: trend(i) * (3.0 if onset <= i < onset + 6 else 1.0), onset + 24, seed=4
    )
    found = [s for s in run(volume(spiky)) if s.at > at_bucket(onset)]
    assert found
    assert found[0].at <= at_bucket(onset + 6)


def test_over_dispersed_noise_is_learned_not_alerted() -> None:
    n = 2 * 7 * PER_DAY
    counts = poisson(lambda i: daily(i, 80.0), n, seed=5, cv=0.2)
    spikes = [s for s in run(volume(counts)) if s.at > at_bucket(2 * PER_DAY)]
    # 20 % extra variation per bucket: a Poisson-only model would alarm daily at this volume.
    assert len(spikes) <= 1


def test_sparse_topic_single_posts_stay_quiet_a_burst_alerts() -> None:
    n = 4 * PER_DAY
    background = poisson(lambda i: 0.05, n, seed=6)
    series = [{None: Counts(posts=int(c)), "recall": Counts(posts=int(c))} for c in background]
    assert [s for s in run(series) if s.topic == "recall"] == []
    burst = n - 10
    series[burst] = {None: Counts(posts=9), "recall": Counts(posts=9)}
    spikes = [s for s in run(series) if s.topic == "recall"]
    assert len(spikes) == 1
    assert spikes[0].at == at_bucket(burst + 1)


def test_a_topic_that_appears_mid_stream_is_scored_against_zero_history() -> None:
    n = 2 * PER_DAY
    series: list[dict[str | None, Counts]] = [{None: Counts(posts=30)} for _ in range(n)]
    series[-1] = {None: Counts(posts=36), "new": Counts(posts=6)}
    spikes = run(series)
    assert [(s.topic, s.metric) for s in spikes] == [("new", "volume")]


def test_no_alert_during_warm_up() -> None:
    series = volume([10] * 30 + [200] + [10] * 30)
    assert run(series) == []
    assert run(series, DetectorConfig(warmup_hours=1)) != []


def test_negative_share_rises_without_volume() -> None:
    n = 2 * PER_DAY + 12
    series: list[dict[str | None, Counts]]
    series = [{None: Counts(posts=20, rated=20, negative=4)} for _ in range(n)]
    for i in range(n - 3, n):
        series[i] = {None: Counts(posts=20, rated=20, negative=14)}
    spikes = run(series)
    assert {s.metric for s in spikes} == {"negative_share"}
    assert spikes[0].observed > 0.5 > spikes[0].expected


def test_risk_intents_alert_on_their_own_counts() -> None:
    n = 2 * PER_DAY
    series: list[dict[str | None, Counts]] = [{None: Counts(posts=20)} for _ in range(n)]
    series[-1] = {None: Counts(posts=20, risks={"safety_risk": 4})}
    spikes = run(series)
    assert [(s.metric, s.observed) for s in spikes] == [("safety_risk", 4.0)]


def test_sensitivity_trades_alerts_for_quiet() -> None:
    onset = 2 * PER_DAY
    counts = poisson(lambda i: 20.0 if i < onset else 32.0, onset + 6, seed=7)
    loud = run(volume(counts), DetectorConfig(sensitivity=1e4))
    quiet = run(volume(counts), DetectorConfig(sensitivity=1e-3))
    assert DetectorConfig(sensitivity=2).z_threshold < DetectorConfig().z_threshold
    assert len(loud) >= len(quiet)
    assert loud


def test_config_and_order_are_checked() -> None:
    with pytest.raises(ValidationError):
        DetectorConfig(bucket_seconds=420)
    with pytest.raises(ValidationError):
        DetectorConfig(sensitivity=0)
    detector = Detector(DetectorConfig(), START)
    detector.close_bucket(detector.first_bucket + 5, {})
    with pytest.raises(ValueError, match="already closed"):
        detector.close_bucket(detector.first_bucket + 5, {})


# -- no look-ahead -----------------------------------------------------------------------

_bucket_counts = st.dictionaries(
    st.sampled_from([None, "a", "b"]),
    st.builds(
        lambda posts, neg, risk: Counts(
            posts=posts, rated=posts, negative=min(neg, posts), risks={"churn_risk": risk}
        ),
        st.integers(0, 40),
        st.integers(0, 40),
        st.integers(0, 5),
    ),
    max_size=3,
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    history=st.lists(_bucket_counts, min_size=1, max_size=60),
    future=st.lists(_bucket_counts, min_size=1, max_size=30),
    filler=st.integers(0, 400),
)
def test_appending_future_data_never_changes_past_alerts(
    history: list[dict[str | None, Counts]],
    future: list[dict[str | None, Counts]],
    filler: int,
) -> None:
    config = DetectorConfig(warmup_hours=0.5)
    # Quiet buckets in front let the baselines form, so alerts actually happen.
    base: list[dict[str | None, Counts]]
    base = [{None: Counts(posts=5, rated=5, negative=1)} for _ in range(filler)]
    past = run(base + history, config)
    everything = run(base + history + future, config)
    cut = at_bucket(len(base) + len(history))
    assert [s for s in everything if s.at <= cut] == past
