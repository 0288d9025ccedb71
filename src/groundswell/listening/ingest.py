"""Ingest use cases: import posts from a connector, manage saved queries, the quarantine,
and raw-payload retention.

`import_posts` owns its transactions: one unit of work per batch, so a crash loses at most the
batch in flight, and re-running the same import stores nothing twice (dedupe on source +
external id, quarantine on payload fingerprint). The other functions take a session and flush.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future
from datetime import datetime, timedelta
from itertools import islice

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from groundswell.connectors import registry
from groundswell.connectors.contract import BadRecord, PullSource, RawRecord, Source, StreamSource
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound
from groundswell.listening import parallel, pipeline
from groundswell.listening.domain import Document
from groundswell.listening.pipeline import BatchContext, BatchResult, TriageFn, default_triage
from groundswell.listening.query import compile_query
from groundswell.listening.tables import ListeningQuery, Mention, QuarantinedRecord

# Records per batch (one transaction each). In an import a record waits for the batches in
# flight ahead of it (workers + 1 with worker processes): latency ~ (workers + 1) x BATCH_SIZE /
# throughput, so 500 keeps p99 near 2 s at ~1,500 posts/s with 2 workers; larger batches save
# little (per-batch costs are a few ms) and make every post wait longer.
BATCH_SIZE = 500
# Days a mention keeps its raw payload (Settings should grow
# `listening_raw_retention_days`, GROUNDSWELL_LISTENING_RAW_RETENTION_DAYS; until then this).
RAW_PAYLOAD_RETENTION_DAYS = 90
MAX_NAME = 200


def _batches(records: Iterable[RawRecord], size: int) -> Iterator[list[RawRecord]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch


def import_posts(
    db: Database,
    actor: Actor,
    connector: Source,
    location: str,
    *,
    source_name: str | None = None,
    clock: Clock | None = None,
    batch_size: int = BATCH_SIZE,
    triage: TriageFn | None = None,
    progress: Callable[[Sequence[RawRecord]], None] | None = None,
    workers: int = 0,
) -> BatchResult:
    """Read every record at `location` through `connector` and ingest it for the actor's
    organization under `source_name` (default: the connector's name). Returns the counts:
    ``read == stored + duplicates + quarantined``. Raises `InvalidInput` when the location
    cannot be read (nothing is stored from a batch that failed).

    With `workers` > 0, parse-to-match runs in that many forked processes
    (`listening.parallel`) while this process stores finished batches in order; posts already
    stored are then triaged before being counted as duplicates."""
    clock = clock or SystemClock()
    source = (source_name or connector.name).strip()
    if not source or len(source) > 50:
        raise InvalidInput("--source must be 1 to 50 characters.")
    with db.reader() as session:
        queries = pipeline.load_queries(session, actor.organization_id)
    ctx = BatchContext(
        organization_id=actor.organization_id,
        source_name=source,
        connector=connector,
        location=location,
        queries=queries,
        clock=clock,
        triage=triage or default_triage,
    )
    total = BatchResult()

    def store(batch: Sequence[RawRecord], prepared: pipeline.Prepared | None) -> None:
        with db.unit_of_work() as session:
            if prepared is None:
                result = pipeline.process_batch(session, ctx, batch)
            else:
                result = pipeline.store_prepared(session, ctx, prepared)
            audit.record(
                session,
                actor.audit,
                "listening.import",
                "source",
                source,
                after={"location": location, **result.as_dict()},
                organization_id=actor.organization_id,
                clock=clock,
            )
        total.add(result)
        if progress is not None:
            progress(batch)

    try:
        if workers <= 0 or not parallel.can_fork():
            for batch in _batches(connector.records(location), batch_size):
                store(batch, None)
            return total
        with parallel.PreparePool(ctx, workers, db) as pool:
            pending: deque[tuple[list[RawRecord], Future[pipeline.Prepared]]] = deque()
            for batch in _batches(connector.records(location), batch_size):
                pending.append((batch, pool.submit(batch, clock.now())))
                if len(pending) > workers:
                    done, prepared = pending.popleft()
                    store(done, prepared.result())
            while pending:
                done, prepared = pending.popleft()
                store(done, prepared.result())
    except OSError as exc:
        raise InvalidInput(f"Cannot read {location}: {exc.strerror or exc}.") from exc
    return total


# --- saved queries ---------------------------------------------------------------------------


def add_query(
    session: Session, actor: Actor, *, name: str, topic: str, query: str, clock: Clock
) -> ListeningQuery:
    """Save a listening query. Raises `QuerySyntaxError` (InvalidInput) for a bad query,
    `InvalidInput` for a bad name and `Conflict` when the name is taken."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or len(topic) > MAX_NAME:
        raise InvalidInput(f"The name (and topic) must be 1 to {MAX_NAME} characters.")
    compile_query(query)
    taken = session.scalar(
        select(ListeningQuery.id).where(
            ListeningQuery.organization_id == actor.organization_id, ListeningQuery.name == name
        )
    )
    if taken is not None:
        raise Conflict(f"A query named {name!r} exists already.")
    row = ListeningQuery(
        organization_id=actor.organization_id,
        name=name,
        topic=topic.strip(),
        query=query,
        active=True,
        created_at=clock.now(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "listening.query.add",
        "listening_query",
        row.id,
        after={"name": name, "topic": row.topic, "query": query},
        organization_id=actor.organization_id,
        clock=clock,
    )
    return row


def list_queries(session: Session, actor: Actor) -> list[ListeningQuery]:
    return list(
        session.scalars(
            select(ListeningQuery)
            .where(ListeningQuery.organization_id == actor.organization_id)
            .order_by(ListeningQuery.name)
        )
    )


def matching_mentions(session: Session, actor: Actor, query: str) -> Iterator[Mention]:
    """The stored mentions of the actor's organization that `query` matches, oldest stored
    first. Raises `QuerySyntaxError` for a bad query."""
    compiled = compile_query(query)
    rows = session.execute(
        select(Mention)
        .where(Mention.organization_id == actor.organization_id)
        .order_by(Mention.id)
        .execution_options(yield_per=1000)
    ).scalars()
    for mention in rows:
        doc = Document.of(
            mention.text,
            author=mention.author_handle,
            lang=mention.language,
            source=mention.source,
            followers=mention.author_followers,
            links=mention.links or (),
        )
        if compiled.matches(doc):
            yield mention


# --- quarantine ------------------------------------------------------------------------------


def list_quarantine(session: Session, actor: Actor) -> list[QuarantinedRecord]:
    return list(
        session.scalars(
            select(QuarantinedRecord)
            .where(QuarantinedRecord.organization_id == actor.organization_id)
            .order_by(QuarantinedRecord.id)
        )
    )


def _quarantined(session: Session, actor: Actor, ids: Sequence[int]) -> list[QuarantinedRecord]:
    stmt = select(QuarantinedRecord).where(
        QuarantinedRecord.organization_id == actor.organization_id
    )
    if ids:
        stmt = stmt.where(QuarantinedRecord.id.in_(ids))
    rows = list(session.scalars(stmt.order_by(QuarantinedRecord.id)))
    missing = set(ids) - {r.id for r in rows}
    if missing:
        raise NotFound(f"No quarantined record {', '.join(map(str, sorted(missing)))}.")
    return rows


def retry_quarantine(
    db: Database,
    actor: Actor,
    ids: Sequence[int] = (),
    *,
    clock: Clock | None = None,
    triage: TriageFn | None = None,
) -> dict[str, int]:
    """Parse quarantined records again (all, or those in `ids`) with their connector; the ones
    that now parse are ingested and leave the quarantine, the others stay (reason updated).
    Returns ``{"retried", "stored", "duplicates", "still_quarantined"}``."""
    clock = clock or SystemClock()
    counts = {"retried": 0, "stored": 0, "duplicates": 0, "still_quarantined": 0}
    with db.reader() as session:
        queries = pipeline.load_queries(session, actor.organization_id)
    with db.unit_of_work() as session:
        rows = _quarantined(session, actor, ids)
        for row in rows:
            connector = registry.get(row.connector)
            if not isinstance(connector, Source | PullSource | StreamSource):
                raise InvalidInput(f"Connector {row.connector!r} does not read posts.")
            record = RawRecord(zlib.decompress(row.payload), row.position, row.format)
            counts["retried"] += 1
            try:
                connector.parse(record)
            except BadRecord as exc:
                row.reason, row.message = exc.reason, exc.message
                counts["still_quarantined"] += 1
                continue
            ctx = BatchContext(
                organization_id=actor.organization_id,
                source_name=row.source,
                connector=connector,
                location=row.location,
                queries=queries,
                clock=clock,
                triage=triage or default_triage,
            )
            session.delete(row)
            session.flush()
            result = pipeline.process_batch(session, ctx, [record])
            counts["stored"] += result.stored
            counts["duplicates"] += result.duplicates
        audit.record(
            session,
            actor.audit,
            "listening.quarantine.retry",
            "quarantine",
            ",".join(map(str, ids)) or "all",
            after=counts,
            organization_id=actor.organization_id,
            clock=clock,
        )
    return counts


def drop_quarantine(
    session: Session, actor: Actor, ids: Sequence[int], *, everything: bool, clock: Clock
) -> int:
    """Delete quarantined records: those in `ids`, or all with `everything`. Returns how many."""
    if not ids and not everything:
        raise InvalidInput("Name the records to drop, or pass --all.")
    rows = _quarantined(session, actor, [] if everything else ids)
    if rows:
        session.execute(
            delete(QuarantinedRecord).where(QuarantinedRecord.id.in_([r.id for r in rows]))
        )
    audit.record(
        session,
        actor.audit,
        "listening.quarantine.drop",
        "quarantine",
        "all" if everything else ",".join(map(str, ids)),
        after={"dropped": len(rows)},
        organization_id=actor.organization_id,
        clock=clock,
    )
    return len(rows)


def purge_raw_payloads(
    session: Session, now: datetime, days: int = RAW_PAYLOAD_RETENTION_DAYS
) -> int:
    """Clear the raw payload of mentions imported more than `days` ago (0 keeps none).
    Returns how many were cleared."""
    cutoff = now - timedelta(days=days)
    result = session.execute(
        update(Mention)
        .where(Mention.imported_at <= cutoff, Mention.raw_payload.is_not(None))
        .values(raw_payload=None)
    )
    return int(getattr(result, "rowcount", 0) or 0)
