"""Live detection over stored mentions: the pure detector (`crisis.domain`) replayed over the
recent history of each organization, up to the end of the last closed bucket.

Each run replays the last `crisis_history_hours` of mentions (bucketed counts per topic and
overall, negative share from `sentiment`, risk intents from `labels`) exactly as the backtest
does, so a live alert is the one the backtest would print: it only ever sees mentions created
before the end of its bucket (no look-ahead). The detector's cursor per organization and
stream (the live stream, or one drill) remembers the last bucket closed: a run stores only the
alerts of buckets after it (all of the history on the first run), moves the cursor by
compare-and-set, and the unique key on (organization, topic, metric, at) refuses a duplicate,
so two workers running at once never store one bucket's alert twice.

Drill mentions (sources named ``drill-...``) never reach the live stream: each drill is its
own stream, whose alerts carry `is_drill` and the drill's topic.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from groundswell.crisis.backtest import METRIC_ORDER, record
from groundswell.crisis.domain import (
    RISK_METRICS,
    Counts,
    Detector,
    DetectorConfig,
    Spike,
    bucket_index,
    bucket_start,
)
from groundswell.crisis.explain import BASELINE_HOURS, Explainer, Post
from groundswell.crisis.tables import CrisisAlert, CrisisDetectorCursor, Drill
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch

LIVE: Final = "live"
DRILL_PREFIX: Final = "drill-"
MIN_LISTENING_CLUSTER: Final = 3


@dataclass(frozen=True)
class Stream:
    """What one detector run reads: the live mentions, or the mentions of one drill source
    (every one of them under the drill's topic)."""

    key: str
    drill_source: str | None = None
    drill_topic: str = ""

    @property
    def is_drill(self) -> bool:
        return self.drill_source is not None


def streams(session: Session, organization_id: str) -> list[Stream]:
    """The live stream and every drill still running."""
    drills = session.scalars(
        select(Drill).where(Drill.organization_id == organization_id, Drill.stopped_at.is_(None))
    ).all()
    return [Stream(LIVE)] + [Stream(d.source, d.source, d.topic) for d in drills]


def _mentions(
    session: Session, organization_id: str, stream: Stream, start: datetime, end: datetime
) -> tuple[list[tuple[Post, bool]], dict[str, int]]:
    """The stream's mentions created in [start, end), oldest first, with their topics and
    whether they carry a sentiment; and the listening near-duplicate cluster of those that
    have one (by post id)."""
    where = [
        Mention.organization_id == organization_id,
        Mention.created_at >= start,
        Mention.created_at < end,
    ]
    if stream.drill_source is not None:
        where.append(Mention.source == stream.drill_source)
    else:
        where.append(~Mention.source.startswith(DRILL_PREFIX))
    rows = session.execute(
        select(
            Mention.id,
            Mention.created_at,
            Mention.text,
            Mention.author_handle,
            Mention.author_followers,
            Mention.sentiment,
            Mention.labels,
            Mention.cluster_id,
        )
        .where(*where)
        .order_by(Mention.created_at, Mention.id)
    ).all()
    topics: defaultdict[int, list[str]] = defaultdict(list)
    if stream.drill_source is None:
        for mention_id, topic in session.execute(
            select(MentionMatch.mention_id, ListeningQuery.topic)
            .join(ListeningQuery, ListeningQuery.id == MentionMatch.query_id)
            .join(Mention, Mention.id == MentionMatch.mention_id)
            .where(*where, ListeningQuery.topic != "")
        ):
            if topic not in topics[mention_id]:
                topics[mention_id].append(topic)
    posts: list[tuple[Post, bool]] = []
    clusters: dict[str, int] = {}
    for mention_id, created_at, text, author, followers, sentiment, labels, cluster in rows:
        if cluster is not None:
            clusters[str(mention_id)] = int(cluster)
        post_topics = (stream.drill_topic,) if stream.is_drill else tuple(topics[mention_id])
        post = Post(
            at=created_at,
            id=str(mention_id),
            text=text or "",
            topics=post_topics,
            author=author,
            followers=followers,
            negative=sentiment == "negative",
            risks=frozenset(label for label in (labels or []) if label in RISK_METRICS),
        )
        posts.append((post, sentiment is not None))
    return posts, clusters


def _sort_key(spike: Spike) -> tuple[datetime, int, str, int]:
    return (
        spike.at,
        0 if spike.topic is None else 1,
        spike.topic or "",
        METRIC_ORDER[spike.metric],
    )


class Replayer:
    """The detector and its explainer fed bucket by bucket, as the backtest does. Kept between
    runs of the job (per process) so that a run only reads the mentions of the buckets closed
    since the last one; rebuilt from the stored history whenever the stored cursor does not
    match it (another worker ran, a restart, a failed commit).

    `explain_after`: only alerts after this instant are wanted; the explainer (the costly
    part: terms and MinHash signatures of every post) then skips the posts it could not use,
    those more than its baseline day and one window before it. Its state at that instant is
    the same, since it forgets everything older."""

    def __init__(
        self, config: DetectorConfig, start: datetime, *, explain_after: datetime | None = None
    ) -> None:
        self.config = config
        size = config.bucket_seconds
        self.detector = Detector(config, start)
        self.explainer = Explainer(max(config.windows) * size)
        self.skip_before = (
            None
            if explain_after is None
            else explain_after
            - timedelta(hours=BASELINE_HOURS + 1, seconds=max(config.windows) * size)
        )
        self.closed_until = bucket_start(self.detector.first_bucket, size)

    def feed(
        self,
        posts: Sequence[tuple[Post, bool]],
        end: datetime,
        *,
        clusters: Mapping[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        """Close every bucket up to `end` (a bucket boundary) with `posts` (oldest first, all
        in those buckets); returns the alerts raised, as the backtest's output objects plus
        `window_minutes` (and `listening_clusters` in `why` given the posts' clusters)."""
        size = self.config.bucket_seconds
        detector, explainer = self.detector, self.explainer
        counts: defaultdict[str | None, Counts] = defaultdict(Counts)
        found: list[dict[str, Any]] = []

        def close(b: int) -> None:
            for spike in sorted(detector.close_bucket(b, counts), key=_sort_key):
                explainer.advance(spike.at)
                out = record(spike, explainer.explain(spike))
                out["window_minutes"] = spike.window_buckets * size // 60
                if clusters:
                    out["why"]["listening_clusters"] = _listening_clusters(
                        explainer, spike, clusters
                    )
                found.append(out)
            explainer.advance(bucket_start(b + 1, size))
            counts.clear()

        current: int | None = None
        for post, rated in posts:
            b = bucket_index(post.at, size)
            if b < detector.next_bucket:
                continue  # before the detector's start (or a bucket already closed)
            if current is not None and b != current:
                close(current)
                if b > current + 1:
                    close(b - 1)  # the empty buckets in between, before this post is seen
            current = b
            for topic in (None, *post.topics):
                c = counts[topic]
                c.posts += 1
                if rated:
                    c.rated += 1
                    c.negative += post.negative
                for risk in post.risks:
                    c.risks[risk] = c.risks.get(risk, 0) + 1
            if self.skip_before is None or post.at >= self.skip_before:
                explainer.add(post)
        if current is not None:
            close(current)
        last = bucket_index(end, size) - 1
        if last >= detector.next_bucket:
            close(last)
        self.closed_until = max(self.closed_until, end)
        return found


def replay(
    posts: Sequence[tuple[Post, bool]],
    config: DetectorConfig,
    *,
    start: datetime,
    end: datetime,
    clusters: Mapping[str, int] | None = None,
    explain_after: datetime | None = None,
) -> list[dict[str, Any]]:
    """Every alert the detector raises over `posts` (oldest first) from the first post (or
    `start`, whichever is later) until `end`; see `Replayer`."""
    if not posts:
        return []
    replayer = Replayer(config, max(start, posts[0][0].at), explain_after=explain_after)
    return replayer.feed(posts, end, clusters=clusters)


# Per process: (organization, stream) -> the replayer whose state is at its `closed_until`;
# the lock keeps two threads of one process from feeding the same replayer at once.
_replayers: dict[tuple[str, str], Replayer] = {}
_replayers_lock = threading.Lock()


def _listening_clusters(
    explainer: Explainer, spike: Spike, clusters: Mapping[str, int]
) -> list[dict[str, int]]:
    """The stored near-duplicate clusters (listening's `cluster_id`) with at least
    `MIN_LISTENING_CLUSTER` posts in the alert's window, biggest first."""
    sizes: Counter[int] = Counter(
        clusters[p.id]
        for p in explainer.recent
        if p.id is not None
        and p.id in clusters
        and spike.window_start <= p.at < spike.at
        and (spike.topic is None or spike.topic in p.topics)
    )
    return [
        {"cluster_id": cluster, "posts": n}
        for cluster, n in sizes.most_common(3)
        if n >= MIN_LISTENING_CLUSTER
    ]


def detect(
    session: Session,
    organization_id: str,
    stream: Stream,
    *,
    now: datetime,
    config: DetectorConfig,
    history: timedelta,
) -> list[CrisisAlert]:
    """Close the buckets that ended since the stream's cursor and store their new alerts.
    Returns the alerts stored by this call (none when another worker got there first)."""
    size = config.bucket_seconds
    end = bucket_start(bucket_index(now, size), size)
    cursor = session.get(CrisisDetectorCursor, (organization_id, stream.key))
    since = cursor.closed_until if cursor is not None else None
    if since is not None and since >= end:
        return []
    if cursor is None:
        session.add(
            CrisisDetectorCursor(
                organization_id=organization_id, stream=stream.key, closed_until=end
            )
        )
        session.flush()
    else:
        moved = session.execute(
            update(CrisisDetectorCursor)
            .where(
                and_(
                    CrisisDetectorCursor.organization_id == organization_id,
                    CrisisDetectorCursor.stream == stream.key,
                    CrisisDetectorCursor.closed_until == since,
                )
            )
            .values(closed_until=end)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            return []
    with _replayers_lock:
        key = (organization_id, stream.key)
        replayer = _replayers.get(key)
        if replayer is None or replayer.config != config or replayer.closed_until != since:
            # Rebuild from the stored history.
            start = end - history
            posts, clusters = _mentions(session, organization_id, stream, start, end)
            replayer = Replayer(
                config, max(start, posts[0][0].at) if posts else end, explain_after=since
            )
        else:
            assert since is not None
            posts, clusters = _mentions(session, organization_id, stream, since, end)
        found = replayer.feed(posts, end, clusters=clusters)
        _replayers[key] = replayer
    stored: list[CrisisAlert] = []
    for out in found:
        at = datetime.fromisoformat(out["at"].replace("Z", "+00:00"))
        if since is not None and at <= since:
            continue
        topic = out["topic"] or ""
        if stream.is_drill and not topic:
            continue  # a drill's overall stream repeats its one topic
        exists = session.scalar(
            select(CrisisAlert.id).where(
                CrisisAlert.organization_id == organization_id,
                CrisisAlert.topic == topic,
                CrisisAlert.metric == out["metric"],
                CrisisAlert.at == at,
            )
        )
        if exists is not None:
            continue
        alert = CrisisAlert(
            organization_id=organization_id,
            at=at,
            topic=topic,
            metric=out["metric"],
            observed=float(out["observed"]),
            expected=float(out["expected"]),
            score=float(out["score"]),
            window_minutes=int(out["window_minutes"]),
            why=out["why"],
            is_drill=stream.is_drill,
            created_at=now,
        )
        session.add(alert)
        stored.append(alert)
    session.flush()
    return stored


@dataclass(frozen=True)
class Curve:
    """Overall volume per bucket with the detector's expected range (for the crisis room's
    chart): `ends` are bucket ends, `lower`/`upper` the expectation -/+ two of its standard
    deviations (negative binomial), None before the detector has a baseline."""

    ends: list[datetime]
    observed: list[int]
    expected: list[float | None]
    lower: list[float | None]
    upper: list[float | None]


def volume_curve(
    session: Session,
    organization_id: str,
    *,
    now: datetime,
    config: DetectorConfig,
    history: timedelta,
    span: timedelta,
) -> Curve:
    """The last `span` of closed buckets of the live stream, replayed like `detect` so the
    band is exactly what the alerts were measured against."""
    size = config.bucket_seconds
    end = bucket_start(bucket_index(now, size), size)
    start = end - history
    posts, _ = _mentions(session, organization_id, Stream(LIVE), start, end)
    first_bucket = bucket_index(max(start, posts[0][0].at) if posts else end, size)
    detector = Detector(config, bucket_start(first_bucket, size))
    per_bucket: defaultdict[int, int] = defaultdict(int)
    for post, _ in posts:
        per_bucket[bucket_index(post.at, size)] += 1
    shown_from = bucket_index(end - span, size)
    curve = Curve([], [], [], [], [])
    warm = first_bucket + int(config.warmup_hours * 3600) // size
    for b in range(first_bucket, bucket_index(end, size)):
        n = per_bucket.get(b, 0)
        detector.close_bucket(b, {None: Counts(posts=n)} if n else {})
        if b < shown_from:
            continue
        series = detector.counts[(None, "volume")]
        e = series.exp[-1]
        curve.ends.append(bucket_start(b + 1, size))
        curve.observed.append(n)
        if b < warm:
            curve.expected.append(None)
            curve.lower.append(None)
            curve.upper.append(None)
            continue
        sd = (e + series.c2[1] * e * e) ** 0.5 if 1 in series.c2 else e**0.5
        curve.expected.append(round(e, 3))
        curve.lower.append(round(max(0.0, e - 2 * sd), 3))
        curve.upper.append(round(e + 2 * sd, 3))
    return curve
