"""Read models of the listening pages and API: filtered mention lists with keyset pagination,
the count of mentions newer than a page, volume and sentiment over time, and what the
mention detail shows (thread, author, matched queries, flags).

Filters other than the listening query run in SQL. The listening query (`Filters.q`) is
evaluated in Python with the same compiled `Query` the pipeline uses, over rows read newest
first in chunks, with a budget of rows per request: when the budget runs out before a page is
full, the page says so (`MentionPage.partial`) and its cursor continues the scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session, defer

from groundswell.identity.service import Actor
from groundswell.kernel.clock import as_utc
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.pagination import decode_cursor, encode_cursor
from groundswell.listening.domain import (
    Document,
    Query,
)
from groundswell.listening.query import compile_query
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch
from groundswell.triage.domain import INTENT_LABELS, SENTIMENT_LABELS

RANGES: dict[str, timedelta | None] = {
    "1h": timedelta(hours=1),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
    "all": None,
}
RANGE_LABELS = {
    "1h": "Last hour",
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
    "all": "All time",
}
DEFAULT_RANGE = "7d"
PAGE_SIZE = 25
SCAN_CHUNK = 500
SCAN_BUDGET = 5000  # rows read per request when a listening query filters in Python
CHART_QUERY_SCAN = 10_000  # posts a listening query is evaluated on for the chart
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Filters:
    """What the stream shows. Empty strings mean "any"."""

    q: str = ""
    topic: str = ""
    saved: str = ""  # a saved query's id: mentions it matched
    sentiment: str = ""
    label: str = ""
    language: str = ""
    source: str = ""
    range: str = DEFAULT_RANGE

    def __post_init__(self) -> None:
        for name, value in self.params().items():
            check_text(value, name)
        if self.range not in RANGES:
            raise InvalidInput(f"Unknown time range {self.range!r}: one of {', '.join(RANGES)}.")
        if self.sentiment and self.sentiment not in SENTIMENT_LABELS:
            raise InvalidInput(f"Unknown sentiment {self.sentiment!r}.")
        if self.label and self.label not in INTENT_LABELS:
            raise InvalidInput(f"Unknown label {self.label!r}.")

    def compiled(self) -> Query | None:
        """The listening query, compiled; raises `QuerySyntaxError` for a bad one."""
        return compile_query(self.q) if self.q.strip() else None

    def params(self, **override: str) -> dict[str, str]:
        """The non-empty filters as query-string parameters."""
        values = {
            "q": self.q,
            "topic": self.topic,
            "saved": self.saved,
            "sentiment": self.sentiment,
            "label": self.label,
            "language": self.language,
            "source": self.source,
            "range": self.range,
        }
        values.update(override)
        return {k: v for k, v in values.items() if v}

    def window(self, now: datetime) -> tuple[datetime | None, datetime]:
        span = RANGES[self.range]
        return (now - span if span is not None else None), now

    @property
    def is_default(self) -> bool:
        return self == Filters()


MAX_ID = 2**63 - 1  # the largest key the databases hold


def check_text(value: str, field: str) -> str:
    """Refuse text no database column can hold (NUL characters)."""
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain NUL characters.")
    return value


def check_id(value: int) -> bool:
    """Whether `value` can be a stored row number."""
    return 0 < value <= MAX_ID


def read_cursor(cursor: str) -> tuple[object, int]:
    """A cursor's (key, id), refusing any that this code did not write."""
    try:
        key, row_id = decode_cursor(cursor)
    except (ValueError, TypeError, KeyError):
        raise InvalidInput("The cursor is not valid; start again without one.") from None
    if not isinstance(row_id, int) or isinstance(row_id, bool) or not check_id(row_id):
        raise InvalidInput("The cursor is not valid; start again without one.")
    return key, row_id


@dataclass
class MentionPage:
    items: list[Mention]
    next_cursor: str | None
    scanned: int = 0
    partial: bool = False  # the scan budget ran out before the page was full
    newest_id: int = 0  # the highest mention id when the page was read (for "N new")


def base_statement(actor: Actor, filters: Filters, now: datetime) -> Select[Mention]:
    """Public mentions of the actor's organization passing every SQL filter (direct messages
    are private: they belong to care, never to the stream, its counts or its charts)."""
    stmt = select(Mention).where(
        Mention.organization_id == actor.organization_id, Mention.channel == "public"
    )
    start, _end = filters.window(now)
    if start is not None:
        stmt = stmt.where(Mention.created_at >= start)
    if filters.sentiment:
        stmt = stmt.where(Mention.sentiment == filters.sentiment)
    if filters.label:
        # `labels` is a JSON list: its text holds each label quoted, on both databases.
        stmt = stmt.where(cast(Mention.labels, String).like(f'%"{filters.label}"%'))
    if filters.language:
        stmt = stmt.where(Mention.language == filters.language)
    if filters.source:
        stmt = stmt.where(Mention.source == filters.source)
    if filters.topic or filters.saved:
        query_ids = select(ListeningQuery.id).where(
            ListeningQuery.organization_id == actor.organization_id
        )
        if filters.topic:
            query_ids = query_ids.where(ListeningQuery.topic == filters.topic)
        if filters.saved:
            query_ids = query_ids.where(ListeningQuery.id == filters.saved)
        stmt = stmt.where(
            select(MentionMatch.mention_id)
            .where(MentionMatch.mention_id == Mention.id, MentionMatch.query_id.in_(query_ids))
            .exists()
        )
    return stmt


def document_of(mention: Mention) -> Document:
    return Document.of(
        mention.text,
        author=mention.author_handle,
        lang=mention.language,
        source=mention.source,
        followers=mention.author_followers,
        links=mention.links or (),
    )


def _after(stmt: Select[Mention], key: datetime, row_id: int) -> Select[Mention]:
    return stmt.where(
        or_(Mention.created_at < key, and_(Mention.created_at == key, Mention.id < row_id))
    )


def _scan(session: Session, stmt: Select[Mention], cursor: str | None) -> Iterator[Mention]:
    """Rows of `stmt` newest first, read in chunks, from after `cursor`."""
    position: tuple[datetime, int] | None = None
    if cursor:
        key, row_id = read_cursor(cursor)
        if not isinstance(key, datetime) or key.tzinfo is None:
            raise InvalidInput("The cursor is not valid; start again without one.")
        position = (key, row_id)
    while True:
        chunk_stmt = stmt if position is None else _after(stmt, *position)
        chunk = list(
            session.scalars(
                chunk_stmt.options(defer(Mention.raw_payload), defer(Mention.metrics))
                .order_by(Mention.created_at.desc(), Mention.id.desc())
                .limit(SCAN_CHUNK)
            )
        )
        yield from chunk
        if len(chunk) < SCAN_CHUNK:
            return
        last = chunk[-1]
        position = (as_utc(last.created_at), last.id)


def newest_id(session: Session, actor: Actor) -> int:
    value = session.scalar(
        select(func.max(Mention.id)).where(Mention.organization_id == actor.organization_id)
    )
    return int(value or 0)


def list_mentions(
    session: Session,
    actor: Actor,
    filters: Filters,
    *,
    now: datetime,
    limit: int = PAGE_SIZE,
    cursor: str | None = None,
    budget: int = SCAN_BUDGET,
) -> MentionPage:
    """One page of the stream, newest first. Raises `QuerySyntaxError` for a bad query and
    `InvalidInput` for a bad cursor or limit."""
    if not 1 <= limit <= 200:
        raise InvalidInput("limit must be between 1 and 200.")
    compiled = filters.compiled()
    top = newest_id(session, actor)
    stmt = base_statement(actor, filters, now).where(Mention.id <= top)
    items: list[Mention] = []
    scanned = 0
    last_seen: Mention | None = None
    for mention in _scan(session, stmt, cursor):
        scanned += 1
        if compiled is None or compiled.matches(document_of(mention)):
            if len(items) == limit:  # one more exists: the page is full
                end = items[-1]
                return MentionPage(
                    items, encode_cursor(as_utc(end.created_at), end.id), scanned, False, top
                )
            items.append(mention)
        last_seen = mention
        if compiled is not None and scanned >= budget and last_seen is not None:
            more = encode_cursor(as_utc(last_seen.created_at), last_seen.id)
            return MentionPage(items, more, scanned, True, top)
    return MentionPage(items, None, scanned, False, top)


def count_newer(
    session: Session,
    actor: Actor,
    filters: Filters,
    after_id: int,
    *,
    now: datetime,
    budget: int = SCAN_BUDGET,
) -> int:
    """How many mentions passing the filters were stored after mention `after_id`."""
    compiled = filters.compiled()
    after_id = max(0, min(after_id, MAX_ID))
    stmt = base_statement(actor, filters, now).where(Mention.id > after_id)
    if compiled is None:
        count = session.scalar(select(func.count()).select_from(stmt.subquery()))
        return int(count or 0)
    rows = session.scalars(stmt.order_by(Mention.id).limit(budget))
    return sum(1 for m in rows if compiled.matches(document_of(m)))


# --- volume and sentiment over time ------------------------------------------------------------


@dataclass
class Volume:
    bucket: timedelta
    starts: list[datetime]
    by_sentiment: dict[str, list[int]]
    total: int
    capped: bool = False

    @property
    def bucket_label(self) -> str:
        seconds = int(self.bucket.total_seconds())
        if seconds >= 86400:
            return "day"
        if seconds >= 3600:
            return "hour"
        return f"{seconds // 60} minutes"

    def chart(self) -> dict[str, Any]:
        colors = {"negative": "#dc2626", "neutral": "#64748b", "positive": "#16a34a"}
        series = [
            {"label": label, "values": values, "color": colors.get(label, "#9333ea")}
            for label, values in self.by_sentiment.items()
        ]
        return {
            "x": [int(s.timestamp()) for s in self.starts] if self.total else [],
            "series": series,
            "y_label": f"mentions per {self.bucket_label}",
            "empty": "No mentions in this period for these filters.",
        }

    def rows(self) -> list[tuple[datetime, dict[str, int], int]]:
        """The non-empty buckets, for the table."""
        out = []
        for i, start in enumerate(self.starts):
            counts = {k: v[i] for k, v in self.by_sentiment.items()}
            total = sum(counts.values())
            if total:
                out.append((start, counts, total))
        return out


def bucket_for(span: timedelta) -> timedelta:
    if span <= timedelta(hours=1):
        return timedelta(minutes=5)
    if span <= timedelta(days=7):
        return timedelta(hours=1)
    return timedelta(days=1)


def _floor(moment: datetime, bucket: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    step = int(bucket.total_seconds())
    seconds = int((moment - epoch).total_seconds())
    return epoch + timedelta(seconds=seconds - seconds % step)


def _bucket_number(session: Session, column: Any, step: int) -> Any:
    """SQL for the number of the `step`-second bucket (since the epoch) holding `column`."""
    if session.get_bind().dialect.name == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC; integer division floors.
        return cast(func.strftime("%s", column), Integer) / step
    return func.floor(func.extract("epoch", column) / step)


def volume(session: Session, actor: Actor, filters: Filters, *, now: datetime) -> Volume:
    """Mentions per bucket split by sentiment, for the filters (hourly up to 7 days, daily
    beyond, 5-minute buckets for the last hour). Without a listening query the database
    counts; with one, the query is evaluated on the `CHART_QUERY_SCAN` most recent posts
    passing the other filters (`capped` says when there were more)."""
    compiled = filters.compiled()
    start, end = filters.window(now)
    stmt = base_statement(actor, filters, now)
    if start is None:
        oldest = session.scalar(select(func.min(stmt.subquery().c.created_at)))
        # At least the last day, so that a young stream still draws as a curve.
        start = end - timedelta(days=1)
        if oldest is not None:
            start = min(start, as_utc(oldest))
    bucket = bucket_for(end - start)
    first = _floor(start, bucket)
    n = int((end - first) / bucket) + 1
    starts = [first + i * bucket for i in range(n)]
    counts: dict[str, list[int]] = {label: [0] * n for label in SENTIMENT_LABELS}
    capped = False
    total = 0
    offset = int(first.timestamp()) // int(bucket.total_seconds())
    if compiled is None:
        # Counted by the database: one row per (bucket, sentiment).
        sub = stmt.subquery()
        number = _bucket_number(session, sub.c.created_at, int(bucket.total_seconds()))
        grouped = session.execute(
            select(number, sub.c.sentiment, func.count()).group_by(number, sub.c.sentiment)
        ).all()
        for bucket_number, sentiment, n_rows in grouped:
            index = int(bucket_number) - offset
            if 0 <= index < n:
                counts.setdefault(sentiment or "unknown", [0] * n)[index] += int(n_rows)
                total += int(n_rows)
        return Volume(bucket, starts, counts, total, capped)
    # A listening query is evaluated here, on the most recent CHART_QUERY_SCAN posts.
    sub = stmt.subquery()
    rows = session.execute(
        select(
            sub.c.created_at,
            sub.c.sentiment,
            sub.c.text,
            sub.c.author_handle,
            sub.c.language,
            sub.c.source,
            sub.c.author_followers,
            sub.c.links,
        )
        .order_by(sub.c.created_at.desc(), sub.c.id.desc())
        .limit(CHART_QUERY_SCAN + 1)
    ).all()
    if len(rows) > CHART_QUERY_SCAN:
        capped, rows = True, rows[:CHART_QUERY_SCAN]
    for created, sentiment, text, author, lang, source, followers, links in rows:
        doc = Document.of(
            text, author=author, lang=lang, source=source, followers=followers, links=links or ()
        )
        if not compiled.matches(doc):
            continue
        index = int((as_utc(created) - first) / bucket)
        if 0 <= index < n:
            counts.setdefault(sentiment or "unknown", [0] * n)[index] += 1
            total += 1
    return Volume(bucket, starts, counts, total, capped)


# --- saved queries, facets ---------------------------------------------------------------------


def saved_queries(session: Session, actor: Actor) -> list[ListeningQuery]:
    return list(
        session.scalars(
            select(ListeningQuery)
            .where(ListeningQuery.organization_id == actor.organization_id)
            .order_by(ListeningQuery.topic, ListeningQuery.name)
        )
    )


def match_counts(session: Session, actor: Actor) -> dict[str, int]:
    rows = session.execute(
        select(MentionMatch.query_id, func.count())
        .join(ListeningQuery, ListeningQuery.id == MentionMatch.query_id)
        .where(ListeningQuery.organization_id == actor.organization_id)
        .group_by(MentionMatch.query_id)
    ).all()
    return {query_id: int(n) for query_id, n in rows}


@dataclass
class Facets:
    topics: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    queries: list[ListeningQuery] = field(default_factory=list)


def facets(session: Session, actor: Actor) -> Facets:
    """The values the filter menus offer."""
    org = actor.organization_id
    queries = saved_queries(session, actor)
    languages = session.scalars(
        select(Mention.language)
        .where(Mention.organization_id == org, Mention.language.is_not(None))
        .distinct()
        .order_by(Mention.language)
    ).all()
    sources = session.scalars(
        select(Mention.source).where(Mention.organization_id == org).distinct()
    ).all()
    return Facets(
        topics=sorted({q.topic for q in queries if q.topic}),
        languages=[lang for lang in languages if lang],
        sources=sorted(set(sources)),
        queries=queries,
    )


def try_query(
    session: Session, actor: Actor, text: str, *, sample: int = 1000, show: int = 10
) -> tuple[int, int, list[Mention]]:
    """Run a query (not saved) over the `sample` most recently stored public mentions.
    Returns (mentions tried, how many matched, the first `show` matches). Raises
    `QuerySyntaxError`."""
    compiled = compile_query(text)
    rows = list(
        session.scalars(
            select(Mention)
            .where(Mention.organization_id == actor.organization_id, Mention.channel == "public")
            .order_by(Mention.id.desc())
            .limit(sample)
        )
    )
    matched = [m for m in rows if compiled.matches(document_of(m))]
    return len(rows), len(matched), matched[:show]
