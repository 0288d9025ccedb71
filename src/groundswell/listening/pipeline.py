"""The ingest pipeline: batch -> batch stages.

    parse -> normalize -> dedupe -> triage -> match -> store (+ full-text index) -> emit

`process_batch` runs them for one batch inside the caller's transaction (it flushes, never
commits), so a batch is stored whole or not at all. Each stage is a module-level function,
so tests can replace one (e.g. to crash on the second batch). Bad records never stop a batch:
they go to the quarantine with their reason and exact payload.
"""

from __future__ import annotations

import hashlib
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from groundswell.connectors.contract import BadRecord, ConnectorPost, RawRecord, Source
from groundswell.kernel.clock import Clock, FrozenClock
from groundswell.kernel.events import Event, emit_many
from groundswell.listening.domain import Document
from groundswell.listening.matcher import QuerySet
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch, QuarantinedRecord
from groundswell.triage.domain import Hints, Triage

# Query parameters that only track the click; dropped so the same link is stored once.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid"}
    | {"mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "spm"}
)
TRACKING_PREFIXES = ("utm_",)
ID_CHUNK = 500  # ids per IN (...) lookup; far below every database's parameter limit

TriageFn = Callable[..., list[Triage]]


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

    def add(self, other: BatchResult) -> None:
        self.read += other.read
        self.stored += other.stored
        self.duplicates += other.duplicates
        self.quarantined += other.quarantined

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
    connector: Source
    location: str
    queries: QuerySet[SavedQuery]
    clock: Clock
    triage: TriageFn


# --- pure helpers ----------------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """`url` with a lower-case scheme and host, no default port, and no tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``, ...); other parameters keep their order. Text that is
    not an absolute http(s) URL comes back stripped and otherwise unchanged."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal: urlsplit dropped its brackets
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), parts.fragment))


def _nfc(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFC", value)


def normalize_post(post: ConnectorPost) -> ConnectorPost:
    """Unicode NFC on every text field, canonical URLs, language code lower-case."""
    return replace(
        post,
        external_id=unicodedata.normalize("NFC", post.external_id),
        text=unicodedata.normalize("NFC", post.text),
        author_handle=_nfc(post.author_handle),
        author_name=_nfc(post.author_name),
        lang=post.lang.strip().lower().replace("_", "-") or None if post.lang else None,
        url=canonical_url(post.url) if post.url else None,
        links=tuple(dict.fromkeys(canonical_url(link) for link in post.links)),
    )


def fingerprint(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


# --- stages ----------------------------------------------------------------------------------


def parse_stage(
    connector: Source, records: Sequence[RawRecord]
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
    ids = list(by_id)
    for start in range(0, len(ids), ID_CHUNK):
        chunk = ids[start : start + ID_CHUNK]
        for known in session.scalars(
            select(Mention.external_id).where(
                Mention.organization_id == organization_id,
                Mention.source == source_name,
                Mention.external_id.in_(chunk),
            )
        ):
            by_id.pop(known, None)
    fresh = list(by_id.values())
    return fresh, len(parsed) - len(fresh)


def triage_stage(triage: TriageFn, parsed: Sequence[Parsed], now: datetime) -> list[Triage]:
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
    return triage([p.post.text for p in parsed], hints=hints)


def language_of(post: ConnectorPost, triaged: Triage) -> str:
    """The language the source stated, else the one triage detected."""
    return post.lang or triaged.language


def match_stage(
    queries: QuerySet[SavedQuery],
    parsed: Sequence[Parsed],
    triaged: Sequence[Triage],
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
    triaged: Sequence[Triage],
    matches: Sequence[list[SavedQuery]],
    now: datetime,
) -> None:
    """Insert the mentions (the full-text index follows by trigger or index), their matches,
    and one `MentionMatched` event per match."""
    if not parsed:
        return
    rows: list[dict[str, Any]] = [
        {
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
            "sentiment": t.sentiment.label,
            "labels": list(t.labels),
            "priority": t.priority,
            "raw_payload": zlib.compress(p.record.payload),
        }
        for p, t in zip(parsed, triaged, strict=True)
    ]
    # RETURNING without ordering: keeps the insert a few multi-row statements (asking for
    # parameter order makes SQLAlchemy insert row by row on SQLite). External ids are unique in
    # a deduped batch, so they pair the new ids with the posts.
    returned = session.execute(insert(Mention).returning(Mention.external_id, Mention.id), rows)
    id_of: dict[str, int] = {external_id: id_ for external_id, id_ in returned.all()}
    ids = [id_of[p.post.external_id] for p in parsed]
    pairs = [
        (mention_id, p, query)
        for mention_id, p, found in zip(ids, parsed, matches, strict=True)
        for query in found
    ]
    if not pairs:
        return
    session.execute(
        insert(MentionMatch),
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


def process_batch(session: Session, ctx: BatchContext, records: Sequence[RawRecord]) -> BatchResult:
    """Run every stage over one batch in `session`'s transaction (flushes, never commits)."""
    now = ctx.clock.now()
    parsed, rejected = parse_stage(ctx.connector, records)
    parsed = normalize_stage(parsed)
    fresh, duplicates = dedupe_stage(session, ctx.organization_id, ctx.source_name, parsed)
    triaged = triage_stage(ctx.triage, fresh, now) if fresh else []
    matches = match_stage(ctx.queries, fresh, triaged, ctx.source_name)
    store_stage(session, ctx, fresh, triaged, matches, now)
    quarantine_stage(session, ctx, rejected, now)
    session.flush()
    return BatchResult(
        read=len(records), stored=len(fresh), duplicates=duplicates, quarantined=len(rejected)
    )


def load_queries(session: Session, organization_id: str) -> QuerySet[SavedQuery]:
    """The organization's active saved queries, compiled once for a whole import."""
    from groundswell.listening.query import compile_query

    rows = session.scalars(
        select(ListeningQuery)
        .where(ListeningQuery.organization_id == organization_id, ListeningQuery.active)
        .order_by(ListeningQuery.created_at, ListeningQuery.id)
    ).all()
    return QuerySet((SavedQuery(q.id, q.name, q.topic), compile_query(q.query)) for q in rows)
