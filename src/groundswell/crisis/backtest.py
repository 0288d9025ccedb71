"""Replaying a JSONL file of posts through the spike detector as if it ran live.

Two passes over the file. The first validates every line and keeps only each good line's
timestamp and byte offset (16 bytes a post); the second reads the posts again in time order
(sequentially when the file is already sorted, by seeking otherwise) and feeds the detector
bucket by bucket. Apart from those two arrays, memory holds the posts of the longest alert
window and a day of term counts per topic, whatever the file size. Standard input is first
spooled to a temporary file, since the replay needs to read it twice.
"""

from __future__ import annotations

import json
import math
import re
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Final

import numpy as np

from groundswell.crisis.domain import (
    RISK_METRICS,
    Counts,
    Detector,
    DetectorConfig,
    Spike,
    bucket_index,
    bucket_start,
)
from groundswell.crisis.explain import Explainer, Post

_DURATION = re.compile(r"^\s*(\d+)\s*([smh]?)\s*$")
_UNIT: Final = {"": 1, "s": 1, "m": 60, "h": 3600}
_RISK_ALIASES: Final[dict[str, str]] = {
    "safety": "safety_risk",
    "legal": "legal_threat",
    "churn": "churn_risk",
    **{m: m for m in RISK_METRICS},
}
METRIC_ORDER: Final[dict[str, int]] = {
    m: i for i, m in enumerate(("volume", "negative_share", *RISK_METRICS))
}


def parse_bucket(text: str) -> int:
    """Seconds of a bucket written ``30s``, ``5m``, ``1h`` or plain seconds; raises
    ``ValueError`` unless it is positive and divides one hour evenly."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"bad bucket {text!r}: write it like 5m, 30s or 1h")
    seconds = int(match.group(1)) * _UNIT[match.group(2)]
    if seconds <= 0 or 3600 % seconds:
        raise ValueError(f"bad bucket {text!r}: it must divide one hour evenly (1m, 5m, 15m, 1h…)")
    return seconds


def parse_time(value: object) -> datetime:
    """An ISO 8601 instant as an aware UTC datetime; a naive one is read as UTC."""
    if not isinstance(value, str):
        raise ValueError("created_at must be an ISO 8601 string")
    try:
        ts = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"created_at {value[:40]!r} is not ISO 8601") from None
    if ts.tzinfo is None:
        return ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC)


def _negative(value: object) -> bool | None:
    if value is None:
        return None
    if isinstance(value, dict):
        value = value.get("label")
    if isinstance(value, str) and value.lower() in ("negative", "neutral", "positive"):
        return value.lower() == "negative"
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        # A compound polarity score in [-1, 1] (VADER's convention: below -0.05 is negative).
        return value < -0.05
    raise ValueError("sentiment must be negative/neutral/positive, {'label': ...} or a number")


def _risks(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("labels must be a list of strings")
    return frozenset(_RISK_ALIASES[v] for v in value if v in _RISK_ALIASES)


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError(f"{key} must be a string")


@dataclass
class Parsed:
    """One good input line."""

    post: Post
    rated: bool


def parse_line(raw: bytes) -> Parsed:
    """One JSONL line as a post; raises ``ValueError`` with the reason when it is unusable."""
    try:
        obj = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"not valid JSON ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    if "created_at" not in obj:
        raise ValueError("created_at is missing")
    at = parse_time(obj["created_at"])
    text = obj.get("text")
    if text is not None and not isinstance(text, str):
        raise ValueError("text must be a string")
    topic = obj.get("topic")
    if topic is None:
        topics: tuple[str, ...] = ()
    elif isinstance(topic, str):
        topics = (topic,)
    elif isinstance(topic, list) and all(isinstance(t, str) for t in topic):
        topics = tuple(dict.fromkeys(topic))
    else:
        raise ValueError("topic must be a string or a list of strings")
    followers = obj.get("followers")
    if followers is not None and (
        not isinstance(followers, int) or isinstance(followers, bool) or followers < 0
    ):
        raise ValueError("followers must be a non-negative integer")
    negative = _negative(obj.get("sentiment"))
    risks = _risks(obj.get("labels"))
    post = Post(
        at=at,
        id=_optional_str(obj, "id"),
        text=text or "",
        topics=topics,
        author=_optional_str(obj, "author"),
        followers=followers,
        negative=bool(negative),
        risks=risks or frozenset(),
    )
    return Parsed(post, negative is not None)


@dataclass
class BadLine:
    line: int
    reason: str


@dataclass
class Index:
    """Pass one: timestamps and offsets of the good lines, and the bad ones."""

    times: array[float] = field(default_factory=lambda: array("d"))
    offsets: array[int] = field(default_factory=lambda: array("q"))
    bad: list[BadLine] = field(default_factory=list)
    lines: int = 0
    ordered: bool = True


def index_file(fh: IO[bytes]) -> Index:
    index = Index()
    offset = 0
    last = -math.inf
    for number, raw in enumerate(fh, start=1):
        here = offset
        offset += len(raw)
        if not raw.strip():
            continue
        index.lines += 1
        try:
            parsed = parse_line(raw)
        except ValueError as exc:
            index.bad.append(BadLine(number, str(exc)))
            continue
        ts = parsed.post.at.timestamp()
        if ts < last:
            index.ordered = False
        last = max(last, ts)
        index.times.append(ts)
        index.offsets.append(here)
    return index


def _in_time_order(fh: IO[bytes], index: Index) -> Iterator[Parsed]:
    """Pass two: the good lines again, oldest first (ties in file order)."""
    if index.ordered:
        fh.seek(0)
        wanted = iter(index.offsets)
        next_offset = next(wanted, None)
        offset = 0
        for raw in fh:
            if offset == next_offset:
                yield parse_line(raw)
                next_offset = next(wanted, None)
            offset += len(raw)
        return
    times = np.frombuffer(index.times, dtype=np.float64)
    offsets = np.frombuffer(index.offsets, dtype=np.int64)
    for i in np.argsort(times, kind="stable").tolist():
        fh.seek(int(offsets[i]))
        yield parse_line(fh.readline())


def _sort_key(spike: Spike) -> tuple[datetime, int, str, int]:
    return (
        spike.at,
        0 if spike.topic is None else 1,
        spike.topic or "",
        METRIC_ORDER[spike.metric],
    )


def record(spike: Spike, why: dict[str, Any]) -> dict[str, Any]:
    """The public output object of one alert (docs/crisis.md)."""
    share = spike.metric == "negative_share"
    return {
        "at": spike.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "topic": spike.topic,
        "metric": spike.metric,
        "observed": round(spike.observed, 4) if share else int(spike.observed),
        "expected": round(spike.expected, 4 if share else 2),
        "score": round(spike.score, 2),
        "why": why,
    }


@dataclass
class Summary:
    lines: int
    posts: int
    bad: list[BadLine]
    alerts: int


def replay(
    fh: IO[bytes], config: DetectorConfig, emit: Callable[[dict[str, Any]], None]
) -> Summary:
    """Run the detector over the posts of ``fh`` in time order, calling ``emit`` with each
    alert's output object in the order they would have fired live."""
    index = index_file(fh)
    summary = Summary(index.lines, len(index.times), index.bad, 0)
    if not index.times:
        return summary
    size = config.bucket_seconds
    start = datetime.fromtimestamp(min(index.times), tz=UTC)
    detector = Detector(config, start)
    explainer = Explainer(max(config.windows) * size)
    counts: defaultdict[str | None, Counts] = defaultdict(Counts)
    current: int | None = None

    def close(b: int) -> None:
        spikes = sorted(detector.close_bucket(b, counts), key=_sort_key)
        for spike in spikes:
            explainer.advance(spike.at)
            emit(record(spike, explainer.explain(spike)))
            summary.alerts += 1
        explainer.advance(bucket_start(b + 1, size))
        counts.clear()

    for parsed in _in_time_order(fh, index):
        post = parsed.post
        b = bucket_index(post.at, size)
        if current is not None and b != current:
            close(current)
            if b > current + 1:
                # The empty buckets in between, before this post is seen.
                close(b - 1)
        current = b
        for topic in (None, *post.topics):
            c = counts[topic]
            c.posts += 1
            if parsed.rated:
                c.rated += 1
                c.negative += post.negative
            for risk in post.risks:
                c.risks[risk] = c.risks.get(risk, 0) + 1
        explainer.add(post)
    if current is not None:
        close(current)
    return summary
