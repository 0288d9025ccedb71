"""Spike detection, pure: per topic and overall, on volume, negative share and risk intents.

Pure: standard library and Pydantic only; never reads the clock. The caller feeds closed
buckets in time order (`Detector.close_bucket`); everything a bucket's score uses comes from
earlier buckets, so an alert is exactly what a live system would have raised at the end of
that bucket (no look-ahead), and appending later data never changes earlier alerts.

Model (see docs/crisis.md for the reasons and the backtest)
-----------------------------------------------------------
Each *series* is one (topic, metric); topic ``None`` is the overall stream.

* **Counts** (``volume`` and the risk intents ``safety_risk``, ``legal_threat``,
  ``churn_risk``): the expected count of a bucket is ``R * shape / buckets_per_hour``, where

  - ``shape`` is the hour-of-week profile: for hour ``h`` the median of the hourly totals at
    ``h + d - 168 k`` (``d`` in -1, 0, 1) over the last ``baseline_weeks`` weeks; before a
    week of history the same over up to 7 previous days (hour-of-day); before a day, the
    running mean. It is interpolated linearly between hour centres so morning ramps are not
    steps.
  - ``R`` is the level: observed over profile on the last ``level_hours`` hours, so slow
    trends (growth, a quiet month) follow within a day without touching the seasonal shape.

  A bucket is scored on trailing windows of ``windows`` buckets (1, 2, 3 and 6 by default:
  5 to 30 minutes at 5-minute buckets) by the exact upper tail of a negative binomial with
  the expected sum as mean and variance ``E + c2 E^2``. ``c2`` (squared coefficient of extra
  variation) is estimated per series and window from the last week by a median, so past
  spikes do not inflate it. The score is the equivalent one-sided normal z of that tail.
* **Negative share**: the share of negative posts among posts that carry a sentiment, against
  the share of the last 7 days, scored by a binomial tail; it also needs an absolute rise of
  ``min_share_increase`` so that small drifts on big volumes stay quiet.

An alert fires when a score passes the threshold set by the sensitivity and the window has at
least the metric's minimum count (never during the warm-up). It opens an *episode* for that
series: no new alert until every window is back under ``release_z``.

Spikes are kept out of the baseline by medians, not by censoring: the profile is a median over
weeks (or days), the level a median of hourly ratios over a day and the extra variation a
median of residuals. Censoring was tried and dropped: a false alarm replaced its data with a
too-low expectation, which then came back the next day or week as another false alarm.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import NormalDist, median
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from groundswell.crisis.tails import binomial_log_sf, nb_log_sf, z_from_log_p

Metric = Literal["volume", "negative_share", "safety_risk", "legal_threat", "churn_risk"]
RISK_METRICS: Final[tuple[Metric, ...]] = ("safety_risk", "legal_threat", "churn_risk")
METRICS: Final[tuple[Metric, ...]] = ("volume", "negative_share", *RISK_METRICS)

# The median of a chi-square with one degree of freedom: turns a median squared residual into
# a variance.
_CHI2_1_MEDIAN: Final = 0.454936
# Extra variation assumed until a series has enough history to estimate its own.
_C2_PRIOR: Final = 0.05
_C2_MIN_SAMPLES: Final = 24
_C2_MAX: Final = 4.0
# Expected counts never drop below this per bucket: a quiet topic waking up is news, but a
# zero expectation would make every single post infinitely surprising.
_EXPECTED_FLOOR: Final = 0.01
_WEEK_HOURS: Final = 168
_SHARE_DAYS: Final = 7


class DetectorConfig(BaseModel):
    """Settings of the detector. ``sensitivity`` multiplies the per-test false-alarm
    probability ``base_p`` (2 = twice as many alerts on normal traffic, 0.5 = half)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket_seconds: int = Field(300, ge=1, le=3600, description="Bucket length; divides 1 h.")
    sensitivity: float = Field(1.0, gt=0, le=1e4, description="Multiplies base_p.")
    base_p: float = Field(1e-6, gt=0, lt=0.5, description="Tail probability at sensitivity 1.")
    windows: tuple[int, ...] = Field((1, 2, 3, 6), description="Trailing windows, in buckets.")
    warmup_hours: float = Field(24.0, ge=0, description="No alerts before this much history.")
    min_count_volume: int = Field(5, ge=1, description="Posts a volume window needs to alert.")
    min_count_risk: int = Field(3, ge=1, description="Posts a risk window needs to alert.")
    min_share_posts: int = Field(10, ge=1, description="Rated posts a share window needs.")
    min_share_increase: float = Field(0.15, ge=0, le=1, description="Absolute share rise.")
    baseline_weeks: int = Field(4, ge=1, le=12, description="Weeks in the seasonal median.")
    level_hours: int = Field(24, ge=1, le=168, description="Hours behind the level ratio.")
    release_z: float = Field(2.0, description="An episode ends when all windows drop below.")

    @field_validator("bucket_seconds")
    @classmethod
    def _divides_hour(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError("the bucket must divide one hour evenly (e.g. 1m, 5m, 15m, 1h)")
        return value

    @field_validator("windows")
    @classmethod
    def _windows(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or any(w < 1 or w > 288 for w in value):
            raise ValueError("windows are 1 to 288 buckets")
        return tuple(sorted(set(value)))

    @property
    def p_threshold(self) -> float:
        return min(0.25, self.base_p * self.sensitivity)

    @property
    def z_threshold(self) -> float:
        """The score an alert needs: the normal quantile of `p_threshold`."""
        return -NormalDist().inv_cdf(self.p_threshold)

    @property
    def buckets_per_hour(self) -> int:
        return 3600 // self.bucket_seconds


@dataclass
class Counts:
    """What one bucket holds for one topic: posts, posts with a sentiment, negative ones, and
    posts carrying each risk intent."""

    posts: int = 0
    rated: int = 0
    negative: int = 0
    risks: dict[str, int] = field(default_factory=dict)


class Spike(BaseModel):
    """One alert. ``at`` is the end of the bucket that triggered it (when it fires live);
    observed/expected are window sums (counts) or shares (``negative_share``)."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    topic: str | None
    metric: Metric
    observed: float
    expected: float
    score: float
    window_start: datetime
    window_buckets: int


@dataclass
class _Score:
    window: int
    observed: float
    expected: float
    z: float


def bucket_index(ts: datetime, bucket_seconds: int) -> int:
    """The bucket holding ``ts`` on the UTC epoch grid. Naive datetimes are read as UTC."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return math.floor(ts.timestamp()) // bucket_seconds


def bucket_start(index: int, bucket_seconds: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=index * bucket_seconds)


class _Series:
    """Common episode bookkeeping of one (topic, metric)."""

    def __init__(self, config: DetectorConfig, first_bucket: int) -> None:
        self.config = config
        self.first_bucket = first_bucket
        self.episode_start: int | None = None

    def _warm(self, b: int) -> bool:
        return (b - self.first_bucket) * self.config.bucket_seconds >= (
            self.config.warmup_hours * 3600
        )

    def _episode(self, b: int, best: _Score | None, still_high: bool) -> bool:
        """Update the episode; True when this bucket raises a new alert."""
        if self.episode_start is None:
            if best is not None and best.z >= self.config.z_threshold and self._warm(b):
                self.episode_start = b
                return True
        elif not still_high:
            self.episode_start = None
        return False


class CountSeries(_Series):
    """A count per bucket against the seasonal baseline. A series created late behaves
    exactly as if it had been fed zeros since ``first_bucket``: every missing entry of its
    state reads as zero."""

    def __init__(self, config: DetectorConfig, first_bucket: int, min_count: int) -> None:
        super().__init__(config, first_bucket)
        self.min_count = min_count
        # The first complete hour: a partial first hour would read as a quiet one.
        self.hour0 = -(-first_bucket * config.bucket_seconds // 3600)
        self.totals: dict[int, float] = {}  # closed hours
        self.hour: int | None = None
        self.hour_total = 0.0
        self.flat_sum = 0.0
        span = max(config.windows)
        self.obs: deque[int] = deque([0] * span, maxlen=span)
        self.exp: deque[float] = deque([0.0] * span, maxlen=span)
        week = _WEEK_HOURS * config.buckets_per_hour
        self.residuals: dict[int, deque[tuple[int, float]]] = {
            w: deque(maxlen=max(1, week // w)) for w in config.windows
        }
        self.c2: dict[int, float] = dict.fromkeys(config.windows, _C2_PRIOR)
        self.level = 1.0
        self.shapes: dict[int, float | None] = {}
        self.period = 0  # hours in the seasonal period of the current hour; 0 = none yet
        self.count = 0  # periods of history in its median

    # -- baseline ------------------------------------------------------------------------

    def _total(self, h: int) -> float:
        return self.totals.get(h, 0.0)

    def _shape(self, h: int) -> float | None:
        """Expected hourly total of hour ``h`` before the level, from earlier hours only.

        The period (a week, else a day) is the current hour's, also for the past hours of the
        level ratio: a level measured against a daily profile and applied to a weekly one
        read the first Monday after a quiet weekend as a spike."""
        cached = self.shapes.get(h, -1.0)
        if cached is None or cached >= 0.0:
            return cached
        count = min(self.count, (h - self.hour0) // self.period) if self.period else 0
        if count < 1:
            self.shapes[h] = None
            return None
        # The neighbouring hours join the median: with one or two weeks of history a single
        # hour of a quiet series is mostly Poisson noise (a slot that once held 1 post where 7
        # are usual made an alert out of an ordinary half hour). On a monotone stretch of the
        # daily curve the median of three neighbours is the middle one, so ramps keep their
        # shape; only peaks and troughs are slightly flattened.
        value = median(
            self._total(h + d - self.period * k) for k in range(1, count + 1) for d in (-1, 0, 1)
        )
        self.shapes[h] = value
        return value

    def _new_hour(self, hour: int) -> None:
        if self.hour is not None:
            self.totals[self.hour] = self.hour_total
        self.hour = hour
        self.hour_total = 0.0
        self.shapes = {}
        age = hour - self.hour0
        if age >= _WEEK_HOURS:
            self.period, self.count = (
                _WEEK_HOURS,
                min(self.config.baseline_weeks, age // _WEEK_HOURS),
            )
        elif age >= 24:
            self.period, self.count = 24, min(7, age // 24)
        else:
            self.period, self.count = 0, 0
        keep = hour - _WEEK_HOURS * (self.config.baseline_weeks + 1) - 24
        for h in [h for h in self.totals if h < keep]:
            del self.totals[h]
        # Median of hourly ratios: a spike moves at most one or two of the day's ratios. The
        # +1 keeps quiet hours of sparse series from producing wild ratios.
        ratios = []
        for h in range(max(self.hour0, hour - self.config.level_hours), hour):
            s = self._shape(h)
            if s is not None:
                ratios.append((self._total(h) + 1.0) / (s + 1.0))
        self.level = median(ratios) if ratios else 1.0
        if hour % 6 == 0:
            for w, hist in self.residuals.items():
                if len(hist) >= _C2_MIN_SAMPLES:
                    u = [((o - e) ** 2 / _CHI2_1_MEDIAN - e) / (e * e) for o, e in hist]
                    self.c2[w] = min(_C2_MAX, max(0.0, median(u)))

    def expected(self, b: int) -> float:
        """Expected count of bucket ``b`` (the current hour must be set)."""
        cfg = self.config
        hour = b * cfg.bucket_seconds // 3600
        here = self._shape(hour)
        if here is None:
            n = b - self.first_bucket
            return max(_EXPECTED_FLOOR, (self.flat_sum + 0.5) / (n + 1))
        frac = ((b * cfg.bucket_seconds) % 3600 + cfg.bucket_seconds / 2) / 3600
        if frac < 0.5:
            other, weight = self._shape(hour - 1), 0.5 - frac
        else:
            other, weight = self._shape(hour + 1), frac - 0.5
        shape = here if other is None else (1 - weight) * here + weight * other
        return max(_EXPECTED_FLOOR, self.level * shape / cfg.buckets_per_hour)

    # -- one bucket ------------------------------------------------------------------------

    def step(self, b: int, observed: int) -> _Score | None:
        """Close bucket ``b`` with ``observed``; returns the window that raised a new alert."""
        cfg = self.config
        hour = b * cfg.bucket_seconds // 3600
        if hour != self.hour:
            self._new_hour(hour)
        e = self.expected(b)
        # Residuals against the flat start-up mean would mistake the daily cycle for noise.
        seasonal = self._shape(hour) is not None
        self.obs.append(observed)
        self.exp.append(e)
        best: _Score | None = None
        still_high = False
        z_thr = cfg.z_threshold
        obs = list(self.obs)
        exp = list(self.exp)
        for w in cfg.windows:
            o = sum(obs[-w:])
            ex = sum(exp[-w:])
            c2 = self.c2[w]
            if seasonal and b % w == 0 and ex >= 2.0:
                self.residuals[w].append((o, ex))
            naive = (o - ex) / math.sqrt(ex + c2 * ex * ex)
            if naive >= cfg.release_z:
                still_high = True
            if o < self.min_count or naive < z_thr:
                continue
            z = z_from_log_p(nb_log_sf(o, ex, c2))
            if best is None or z > best.z:
                best = _Score(w, float(o), ex, z)
        fire = self._episode(b, best, still_high)
        self.hour_total += observed
        self.flat_sum += observed
        return best if fire else None


class ShareSeries(_Series):
    """The share of negative posts among rated posts against the last 7 days."""

    def __init__(self, config: DetectorConfig, first_bucket: int) -> None:
        super().__init__(config, first_bucket)
        span = max(config.windows)
        self.rated: deque[int] = deque([0] * span, maxlen=span)
        self.negative: deque[int] = deque([0] * span, maxlen=span)
        self.hours: deque[tuple[int, float, float]] = deque()  # (hour, rated, negative)
        self.hour: int | None = None
        self.hour_rated = 0.0
        self.hour_negative = 0.0
        self.sum_rated = 0.0
        self.sum_negative = 0.0

    def _new_hour(self, hour: int) -> None:
        if self.hour is not None:
            self.hours.append((self.hour, self.hour_rated, self.hour_negative))
            self.sum_rated += self.hour_rated
            self.sum_negative += self.hour_negative
        while self.hours and self.hours[0][0] < hour - 24 * _SHARE_DAYS:
            _, n, k = self.hours.popleft()
            self.sum_rated -= n
            self.sum_negative -= k
        self.hour = hour
        self.hour_rated = self.hour_negative = 0.0

    @property
    def baseline(self) -> float:
        """Smoothed share of the closed hours of the last 7 days (Jeffreys-like prior)."""
        return (self.sum_negative + 0.5) / (self.sum_rated + 1.0)

    def step(self, b: int, rated: int, negative: int) -> _Score | None:
        cfg = self.config
        hour = b * cfg.bucket_seconds // 3600
        if hour != self.hour:
            self._new_hour(hour)
        p0 = min(max(self.baseline, 1e-6), 1 - 1e-6)
        self.rated.append(rated)
        self.negative.append(negative)
        best: _Score | None = None
        still_high = False
        ns = list(self.rated)
        ks = list(self.negative)
        for w in cfg.windows:
            n = sum(ns[-w:])
            k = sum(ks[-w:])
            if n == 0:
                continue
            share = k / n
            naive = (k - n * p0) / math.sqrt(n * p0 * (1 - p0))
            if naive >= cfg.release_z and share - p0 >= cfg.min_share_increase / 2:
                still_high = True
            if (
                n < cfg.min_share_posts
                or share - p0 < cfg.min_share_increase
                or naive < cfg.z_threshold
            ):
                continue
            z = z_from_log_p(binomial_log_sf(k, n, p0))
            if best is None or z > best.z:
                best = _Score(w, share, p0, z)
        fire = self._episode(b, best, still_high)
        self.hour_negative += negative
        self.hour_rated += rated
        return best if fire else None


class Detector:
    """Feeds buckets to every series in time order and collects alerts.

    ``start`` is the first instant of the stream: every series counts its history (and the
    warm-up) from the bucket holding it, topics that appear later included (they had zero
    posts before). Call `close_bucket` with strictly increasing bucket indexes; skipped
    buckets are closed empty first, so gaps in traffic are data too.
    """

    def __init__(self, config: DetectorConfig, start: datetime) -> None:
        self.config = config
        self.first_bucket = bucket_index(start, config.bucket_seconds)
        self.next_bucket = self.first_bucket
        self.counts: dict[tuple[str | None, Metric], CountSeries] = {
            (None, "volume"): CountSeries(config, self.first_bucket, config.min_count_volume)
        }
        self.shares: dict[str | None, ShareSeries] = {}

    def bucket_of(self, ts: datetime) -> int:
        return bucket_index(ts, self.config.bucket_seconds)

    def close_bucket(self, b: int, counts: Mapping[str | None, Counts]) -> list[Spike]:
        """Close bucket ``b`` (and every empty one before it) with ``counts`` per topic
        (``None`` = overall). Returns the alerts raised at the end of those buckets."""
        if b < self.next_bucket:
            raise ValueError(f"bucket {b} is already closed (next is {self.next_bucket})")
        spikes: list[Spike] = []
        while self.next_bucket < b:
            spikes.extend(self._step(self.next_bucket, {}))
            self.next_bucket += 1
        spikes.extend(self._step(b, counts))
        self.next_bucket = b + 1
        return spikes

    def _series(self, topic: str | None, metric: Metric) -> CountSeries:
        series = self.counts.get((topic, metric))
        if series is None:
            minimum = (
                self.config.min_count_volume if metric == "volume" else self.config.min_count_risk
            )
            series = CountSeries(self.config, self.first_bucket, minimum)
            self.counts[(topic, metric)] = series
        return series

    def _step(self, b: int, counts: Mapping[str | None, Counts]) -> list[Spike]:
        # Series appear on their first non-zero bucket; before that they were all zeros,
        # which is exactly the state a new series starts in.
        for topic, c in counts.items():
            if c.posts:
                self._series(topic, "volume")
            for metric in RISK_METRICS:
                if c.risks.get(metric, 0):
                    self._series(topic, metric)
            if c.rated and topic not in self.shares:
                self.shares[topic] = ShareSeries(self.config, self.first_bucket)
        spikes: list[Spike] = []
        empty = Counts()
        for (topic, metric), series in self.counts.items():
            c = counts.get(topic, empty)
            value = c.posts if metric == "volume" else c.risks.get(metric, 0)
            score = series.step(b, value)
            if score is not None:
                spikes.append(self._spike(b, topic, metric, score))
        for topic, share in self.shares.items():
            c = counts.get(topic, empty)
            score = share.step(b, c.rated, c.negative)
            if score is not None:
                spikes.append(self._spike(b, topic, "negative_share", score))
        return spikes

    def _spike(self, b: int, topic: str | None, metric: Metric, score: _Score) -> Spike:
        size = self.config.bucket_seconds
        return Spike(
            at=bucket_start(b + 1, size),
            topic=topic,
            metric=metric,
            observed=score.observed,
            expected=score.expected,
            score=score.z,
            window_start=bucket_start(b + 1 - score.window, size),
            window_buckets=score.window,
        )
