"""The ingest pipeline: batch -> batch stages.

    parse -> normalize -> dedupe -> triage -> match -> store (+ full-text index,
    near-duplicate clusters) -> emit

`process_batch` runs them for one batch inside the caller's transaction (it flushes, never
commits), so a batch is stored whole or not at all. Each stage is a module-level function,
so tests can replace one (e.g. to crash on the second batch). Bad records never stop a batch:
they go to the quarantine with their reason and exact payload.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from operator import attrgetter
from typing import Any, Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from groundswell.connectors.contract import BadRecord, ConnectorPost, RawRecord
from groundswell.kernel.bulk import insert_rows
from groundswell.kernel.clock import Clock, FrozenClock
from groundswell.kernel.events import Event, emit_many
from groundswell.listening import bulk, dedupe
from groundswell.listening.domain import Document
from groundswell.listening.matcher import QuerySet
from groundswell.listening.normalize import normalize_post
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch, QuarantinedRecord
from groundswell.triage.domain import Hints, Triage

ID_CHUNK = 500  # ids per IN (...) lookup; far below every database's parameter limit

TriageFn = Callable[..., list[Triage]]


class RecordParser(Protocol):
    """What the pipeline needs of a connector (every `Source`, `PullSource` and `StreamSource`
    is one): its name, kept with quarantined records, and `parse`."""

    @property
    def name(self) -> str: ...

    def parse(self, record: RawRecord) -> ConnectorPost: ...


class MentionMatched(Event):
    """A saved listening query matched a newly stored mention."""

    name = "listening.mention_matched"
    organization_id: str
    mention_id: int
    query_id: str
    query_name: str
    topic: str
    source: str
    external_id: str


class DirectMessageReceived(Event):
    """A direct (private) message to the brand account was stored. It is addressed to the
    brand, so care takes it whether or not a saved query matched it."""

    name = "listening.direct_message_received"
    organization_id: str
    mention_id: int
    source: str
    external_id: str


@dataclass(frozen=True, slots=True)
class Parsed:
    record: RawRecord
    post: ConnectorPost


@dataclass(frozen=True, slots=True)
class Rejected:
    record: RawRecord
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Reading:
    """What a mention keeps of its triage."""

    language: str
    sentiment: str
    labels: tuple[str, ...]
    priority: int

    @classmethod
    def of(cls, triaged: Triage) -> Reading:
        return cls(
            triaged.language, triaged.sentiment.label, tuple(triaged.labels), triaged.priority
        )


@dataclass(frozen=True, slots=True)
class SavedQuery:
    id: str
    name: str
    topic: str


@dataclass(slots=True)
class BatchResult:
    read: int = 0
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    newest: datetime | None = None  # the latest `created_at` among the stored posts

    def add(self, other: BatchResult) -> None:
        self.read += other.read
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined
        if other.newest is not None and (self.newest is None or other.newest > self.newest):
            self.newest = other.newest

    def as_dict(self) -> dict[str, int]:
        return {
            "read": self.read,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "quarantined": self.quarantined,
        }


@dataclass(frozen=True, slots=True)
class BatchContext:
    """What every batch of one import shares."""

    organization_id: str
    source_name: str
    connector: RecordParser
    location: str
    queries: QuerySet[SavedQuery]
    clock: Clock
    triage: TriageFn
    cluster: bool = True  # group near-duplicates (listening.dedupe)


# --- pure helpers ----------------------------------------------------------------------------


def fingerprint(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


# --- stages ----------------------------------------------------------------------------------


def parse_stage(
    connector: RecordParser, records: Sequence[RawRecord]
) -> tuple[list[Parsed], list[Rejected]]:
    good: list[Parsed] = []
    bad: list[Rejected] = []
    for record in records:
        try:
            good.append(Parsed(record, connector.parse(record)))
        except BadRecord as exc:
            bad.append(Rejected(record, exc.reason, exc.message))
    return good, bad


def normalize_stage(parsed: Sequence[Parsed]) -> list[Parsed]:
    return [Parsed(p.record, normalize_post(p.post)) for p in parsed]


def dedupe_stage(
    session: Session, organization_id: str, source_name: str, parsed: Sequence[Parsed]
) -> tuple[list[Parsed], int]:
    """The posts not stored yet (exact on source + external id), first of each id in the
    batch; and how many were duplicates."""
    by_id: dict[str, Parsed] = {}
    for item in parsed:
        by_id.setdefault(item.post.external_id, item)
    for known in bulk.stored_external_ids(session, organization_id, source_name, list(by_id)):
        by_id.pop(known, None)
    fresh = list(by_id.values())
    return fresh, len(parsed) - len(fresh)


def default_triage(texts: Sequence[str], **kwargs: Any) -> list[Any]:
    """The triage room's `triage` (numpy and the models load on first use). `triage_stage`
    recognizes this function and asks the room's lighter `summarize` instead: the same
    values for what a mention keeps, without the cues and objects it would throw away."""
    from groundswell.triage import triage

    result: list[Any] = triage(texts, **kwargs)
    return result


def triage_stage(triage: TriageFn, parsed: Sequence[Parsed], now: datetime) -> list[Reading]:
    hints = [
        Hints(
            followers=p.post.author_followers,
            verified=p.post.author_verified,
            age_hours=max(0.0, (now - p.post.created_at).total_seconds() / 3600)
            if p.post.created_at
            else None,
        )
        for p in parsed
    ]
    texts = [p.post.text for p in parsed]
    if triage is default_triage:
        from groundswell.triage import summarize

        summary = summarize(texts, hints=hints)
        return [
            Reading(language, label, tuple(labels), priority)
            for language, label, labels, priority in zip(
                summary.language,
                summary.sentiment_label,
                summary.labels,
                summary.priority,
                strict=True,
            )
        ]
    return [Reading.of(t) for t in triage(texts, hints=hints)]


def language_of(post: ConnectorPost, triaged: Reading) -> str:
    """The language the source stated, else the one triage detected."""
    return post.lang or triaged.language


def match_stage(
    queries: QuerySet[SavedQuery],
    parsed: Sequence[Parsed],
    triaged: Sequence[Reading],
    source_name: str,
) -> list[list[SavedQuery]]:
    if not len(queries):
        return [[] for _ in parsed]
    return [
        queries.match(
            Document.of(
                p.post.text,
                author=p.post.author_handle,
                lang=language_of(p.post, t),
                source=source_name,
                followers=p.post.author_followers,
                links=p.post.links,
            )
        )
        for p, t in zip(parsed, triaged, strict=True)
    ]


def store_stage(
    session: Session,
    ctx: BatchContext,
    parsed: Sequence[Parsed],
    triaged: Sequence[Reading],
    matches: Sequence[list[SavedQuery]],
    bands: Sequence[tuple[int, ...]],
    payloads: Sequence[bytes],
    now: datetime,
) -> None:
    """Insert the mentions and their full-text entries (`listening.bulk`; `payloads` are
    the records compressed), their near-duplicate clusters, their matches, one
    `DirectMessageReceived` event per direct message and one `MentionMatched` event per
    match."""
    if not parsed:
        return
    clusters = (
        cluster_stage(session, ctx.organization_id, bands, now)
        if ctx.cluster
        else [None] * len(parsed)
    )
    ids = bulk.allocate_ids(session, len(parsed))
    rows: list[dict[str, Any]] = [
        {
            "id": mention_id,
            "organization_id": ctx.organization_id,
            "source": ctx.source_name,
            "external_id": p.post.external_id,
            "url": p.post.url,
            "author_handle": p.post.author_handle,
            "author_name": p.post.author_name,
            "author_followers": p.post.author_followers,
            "author_verified": p.post.author_verified,
            "text": p.post.text,
            "language": language_of(p.post, t),
            "created_at": p.post.created_at or now,
            "imported_at": now,
            "in_reply_to": p.post.in_reply_to,
            "links": list(p.post.links),
            "metrics": dict(p.post.metrics),
            "sentiment": t.sentiment,
            "labels": list(t.labels),
            "priority": t.priority,
            "raw_payload": payload,
            "cluster_id": cluster,
            "channel": p.post.channel,
        }
        for mention_id, p, t, cluster, payload in zip(
            ids, parsed, triaged, clusters, payloads, strict=True
        )
    ]
    bulk.insert_mentions(session, rows)
    direct = [
        DirectMessageReceived(
            organization_id=ctx.organization_id,
            mention_id=mention_id,
            source=ctx.source_name,
            external_id=p.post.external_id,
        )
        for mention_id, p in zip(ids, parsed, strict=True)
        if p.post.channel == "direct"
    ]
    if direct:
        emit_all(session, direct, now)
    pairs = [
        (mention_id, p, query)
        for mention_id, p, found in zip(ids, parsed, matches, strict=True)
        for query in found
    ]
    if not pairs:
        return
    insert_rows(
        session,
        MentionMatch,
        [{"mention_id": m, "query_id": q.id, "matched_at": now} for m, _, q in pairs],
    )
    emit_all(
        session,
        [
            MentionMatched(
                organization_id=ctx.organization_id,
                mention_id=mention_id,
                query_id=query.id,
                query_name=query.name,
                topic=query.topic,
                source=ctx.source_name,
                external_id=p.post.external_id,
            )
            for mention_id, p, query in pairs
        ],
        now,
    )


def cluster_stage(
    session: Session, organization_id: str, bands: Sequence[tuple[int, ...]], now: datetime
) -> list[int | None]:
    return dedupe.assign_clusters(session, organization_id, bands, now)


def delete_mentions(
    session: Session, organization_id: str, source_name: str, external_ids: Sequence[str]
) -> int:
    """Delete the source's mentions with these external ids (the network deleted the posts):
    their matches go with them (foreign key cascade) and so do their full-text entries
    (trigger on SQLite, the index on PostgreSQL). Returns how many were deleted."""
    deleted = 0
    ids = list(dict.fromkeys(external_ids))
    for start in range(0, len(ids), ID_CHUNK):
        mention_ids = list(
            session.scalars(
                select(Mention.id).where(
                    Mention.organization_id == organization_id,
                    Mention.source == source_name,
                    Mention.external_id.in_(ids[start : start + ID_CHUNK]),
                )
            )
        )
        if not mention_ids:
            continue
        # Explicit, not only by cascade: SQLite enforces foreign keys per connection setting.
        session.execute(delete(MentionMatch).where(MentionMatch.mention_id.in_(mention_ids)))
        session.execute(
            delete(Mention)
            .where(Mention.id.in_(mention_ids))
            .execution_options(synchronize_session=False)
        )
        deleted += len(mention_ids)
    return deleted


def emit_all(session: Session, events: Sequence[Event], now: datetime) -> None:
    """Announce a batch's events, all stamped with the batch's instant."""
    emit_many(session, events, clock=FrozenClock(now))


def quarantine_stage(
    session: Session, ctx: BatchContext, rejected: Sequence[Rejected], now: datetime
) -> None:
    """Keep each bad record once (by payload fingerprint), with its reason and payload."""
    by_print: dict[str, Rejected] = {}
    for item in rejected:
        by_print.setdefault(fingerprint(item.record.payload), item)
    prints = list(by_print)
    for start in range(0, len(prints), ID_CHUNK):
        for known in session.scalars(
            select(QuarantinedRecord.fingerprint).where(
                QuarantinedRecord.organization_id == ctx.organization_id,
                QuarantinedRecord.source == ctx.source_name,
                QuarantinedRecord.fingerprint.in_(prints[start : start + ID_CHUNK]),
            )
        ):
            by_print.pop(known, None)
    if by_print:
        session.execute(
            insert(QuarantinedRecord),
            [
                {
                    "organization_id": ctx.organization_id,
                    "source": ctx.source_name,
                    "connector": ctx.connector.name,
                    "format": item.record.format,
                    "reason": item.reason,
                    "message": item.message,
                    "location": ctx.location,
                    "position": item.record.position,
                    "fingerprint": print_,
                    "payload": zlib.compress(item.record.payload),
                    "created_at": now,
                }
                for print_, item in by_print.items()
            ],
        )


@dataclass(slots=True)
class Prepared:
    """A batch after the stages that need no database (parse, normalize, first of each id,
    triage, match, near-duplicate band keys): what `store_prepared` writes. Picklable, so a
    worker process can prepare it."""

    read: int
    items: list[Parsed]
    readings: list[Reading]
    matches: list[list[SavedQuery]]
    bands: list[tuple[int, ...]]
    payloads: list[bytes]  # each record, zlib-compressed
    rejected: list[Rejected]
    duplicates: int
    now: datetime

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as columns of plain tuples (a worker process sends it to the storing one):
        pickle handles tuples in C, while frozen dataclasses go through Python-level state
        methods, which cost the storing process more than a third of its hand-over time."""
        return (
            _unpickle_prepared,
            (
                self.read,
                [(p.record.payload, p.record.position, p.record.format) for p in self.items],
                [_post_fields(p.post) for p in self.items],
                [_reading_fields(r) for r in self.readings],
                self.matches,
                self.bands,
                self.payloads,
                self.rejected,
                self.duplicates,
                self.now,
            ),
        )


_post_fields = attrgetter(*(f.name for f in fields(ConnectorPost)))
_reading_fields = attrgetter(*(f.name for f in fields(Reading)))


def _unpickle_prepared(
    read: int,
    records: list[tuple[bytes, int, str]],
    posts: list[tuple[Any, ...]],
    readings: list[tuple[str, str, tuple[str, ...], int]],
    matches: list[list[SavedQuery]],
    bands: list[tuple[int, ...]],
    payloads: list[bytes],
    rejected: list[Rejected],
    duplicates: int,
    now: datetime,
) -> Prepared:
    items = [Parsed(RawRecord(*r), ConnectorPost(*p)) for r, p in zip(records, posts, strict=True)]
    return Prepared(
        read,
        items,
        [Reading(*r) for r in readings],
        matches,
        bands,
        payloads,
        rejected,
        duplicates,
        now,
    )


Known = Callable[[Sequence[Parsed]], tuple[list[Parsed], int]]


def first_of_each_id(parsed: Sequence[Parsed]) -> tuple[list[Parsed], int]:
    by_id: dict[str, Parsed] = {}
    for item in parsed:
        by_id.setdefault(item.post.external_id, item)
    return list(by_id.values()), len(parsed) - len(by_id)


def prepare_batch(
    ctx: BatchContext, records: Sequence[RawRecord], now: datetime, known: Known | None = None
) -> Prepared:
    """Parse, normalize, keep the first of each id (and, with `known`, drop the posts stored
    already, before triage spends time on them), triage, match, band keys."""
    parsed, rejected = parse_stage(ctx.connector, records)
    parsed = normalize_stage(parsed)
    fresh, duplicates = (known or first_of_each_id)(parsed)
    readings = triage_stage(ctx.triage, fresh, now) if fresh else []
    matches = match_stage(ctx.queries, fresh, readings, ctx.source_name)
    # Direct messages are private: they join no near-duplicate cluster (cluster sizes and
    # sample texts show on public pages), so their band keys are not even computed.
    clustered = [ctx.cluster and p.post.channel != "direct" for p in fresh]
    keys = iter(dedupe.keys_for([p.post.text for p, c in zip(fresh, clustered, strict=True) if c]))
    bands: list[tuple[int, ...]] = [next(keys) if c else () for c in clustered]
    payloads = [zlib.compress(p.record.payload) for p in fresh]
    return Prepared(
        len(records), fresh, readings, matches, bands, payloads, rejected, duplicates, now
    )


def _drop_stored(session: Session, ctx: BatchContext, prepared: Prepared) -> Prepared:
    """`prepared` without the posts stored since it was prepared elsewhere."""
    fresh, _ = dedupe_stage(session, ctx.organization_id, ctx.source_name, prepared.items)
    keep = {id(p) for p in fresh}
    if len(keep) == len(prepared.items):
        return prepared
    index = [i for i, p in enumerate(prepared.items) if id(p) in keep]
    return Prepared(
        prepared.read,
        [prepared.items[i] for i in index],
        [prepared.readings[i] for i in index],
        [prepared.matches[i] for i in index],
        [prepared.bands[i] for i in index],
        [prepared.payloads[i] for i in index],
        prepared.rejected,
        prepared.duplicates + len(prepared.items) - len(index),
        prepared.now,
    )


def store_prepared(
    session: Session, ctx: BatchContext, prepared: Prepared, *, checked: bool = False
) -> BatchResult:
    """Write a prepared batch in `session`'s transaction (flushes, never commits). Unless
    `checked` (dedupe ran against this transaction), posts stored meanwhile are dropped
    first as duplicates."""
    if not checked:
        prepared = _drop_stored(session, ctx, prepared)
    p = prepared
    store_stage(session, ctx, p.items, p.readings, p.matches, p.bands, p.payloads, p.now)
    quarantine_stage(session, ctx, p.rejected, p.now)
    session.flush()
    return BatchResult(
        read=p.read,
        stored=len(p.items),
        duplicates=p.duplicates,
        quarantined=len(p.rejected),
        newest=max((i.post.created_at or p.now for i in p.items), default=None),
    )


def process_batch(session: Session, ctx: BatchContext, records: Sequence[RawRecord]) -> BatchResult:
    """Run every stage over one batch in `session`'s transaction (flushes, never commits)."""

    def known(parsed: Sequence[Parsed]) -> tuple[list[Parsed], int]:
        return dedupe_stage(session, ctx.organization_id, ctx.source_name, parsed)

    prepared = prepare_batch(ctx, records, ctx.clock.now(), known)
    return store_prepared(session, ctx, prepared, checked=True)


def load_queries(session: Session, organization_id: str) -> QuerySet[SavedQuery]:
    """The organization's active saved queries, compiled once for a whole import."""
    from groundswell.listening.query import compile_query

    rows = session.scalars(
        select(ListeningQuery)
        .where(ListeningQuery.organization_id == organization_id, ListeningQuery.active)
        .order_by(ListeningQuery.created_at, ListeningQuery.id)
    ).all()
    return QuerySet((SavedQuery(q.id, q.name, q.topic), compile_query(q.query)) for q in rows)
