"""The listening JSON API under /api/v1/listening: mentions (filtered list with a cursor,
full-text search, one mention, flag a risk), saved queries (list, test, save, switch on/off),
sources (read), the quarantine (list, retry, drop) and the volume series."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from groundswell.identity.deps import ApiActor, ClockDep, DbDep
from groundswell.identity.domain import Permission
from groundswell.listening import actions, ingest, search, sources, views, views_mention
from groundswell.listening.pages_admin import quarantine_page_rows
from groundswell.listening.tables import ListeningQuery, Mention

router = APIRouter(prefix="/api/v1/listening", tags=["listening"])


class MentionOut(BaseModel):
    id: int
    source: str
    external_id: str
    url: str | None
    author_handle: str | None
    author_name: str | None
    author_followers: int | None
    author_verified: bool | None
    text: str
    language: str | None
    created_at: datetime
    imported_at: datetime
    in_reply_to: str | None
    sentiment: str | None
    labels: list[str]
    priority: int | None
    cluster_id: int | None
    channel: str = Field(
        description="public, or direct: a private message to the brand (never in the lists)."
    )

    @classmethod
    def of(cls, m: Mention) -> MentionOut:
        return cls(
            id=m.id,
            source=m.source,
            external_id=m.external_id,
            url=m.url,
            author_handle=m.author_handle,
            author_name=m.author_name,
            author_followers=m.author_followers,
            author_verified=m.author_verified,
            text=m.text,
            language=m.language,
            created_at=m.created_at,
            imported_at=m.imported_at,
            in_reply_to=m.in_reply_to,
            sentiment=m.sentiment,
            labels=list(m.labels or []),
            priority=m.priority,
            cluster_id=m.cluster_id,
            channel=m.channel,
        )


class MentionPageOut(BaseModel):
    items: list[MentionOut]
    next_cursor: str | None
    scanned: int = Field(description="Rows read to fill the page (when `q` filters).")
    partial: bool = Field(description="The scan budget ran out: follow next_cursor for more.")


class QueryOut(BaseModel):
    id: str
    name: str
    topic: str
    query: str
    active: bool
    created_at: datetime

    @classmethod
    def of(cls, q: ListeningQuery) -> QueryOut:
        return cls(
            id=q.id,
            name=q.name,
            topic=q.topic,
            query=q.query,
            active=q.active,
            created_at=q.created_at,
        )


class FlagOut(BaseModel):
    at: datetime
    by: str
    note: str


class MentionDetailOut(BaseModel):
    mention: MentionOut
    thread: list[MentionOut] = Field(description="Stored ancestors, oldest first.")
    replies: list[MentionOut]
    author_mentions: list[MentionOut]
    matched_queries: list[QueryOut]
    cluster_size: int
    flags: list[FlagOut]


class QueryIn(BaseModel):
    name: str = Field(max_length=200)
    topic: str = Field(default="", max_length=200)
    query: str = Field(max_length=5000)


class QueryTestIn(BaseModel):
    query: str = Field(max_length=5000)


class QueryTestOut(BaseModel):
    tried: int
    matched: int
    sample: list[MentionOut]


class ActiveIn(BaseModel):
    active: bool


class FlagIn(BaseModel):
    note: str = Field(max_length=2000)


class IdsIn(BaseModel):
    ids: list[Annotated[int, Field(ge=1, le=views.MAX_ID)]] = Field(min_length=1, max_length=1000)


Str = Annotated[str, Query(max_length=2000)]


def _filters(
    q: str,
    topic: str,
    saved: str,
    sentiment: str,
    label: str,
    language: str,
    source: str,
    range_: str,
) -> views.Filters:
    return views.Filters(
        q=q,
        topic=topic,
        saved=saved,
        sentiment=sentiment,
        label=label,
        language=language,
        source=source,
        range=range_,
    )


@router.get("/mentions", summary="Mentions passing the filters, newest first")
def list_mentions(
    actor: ApiActor,
    db: DbDep,
    clock: ClockDep,
    q: Str = "",
    topic: Str = "",
    saved: Str = "",
    sentiment: Str = "",
    label: Str = "",
    language: Str = "",
    source: Str = "",
    range: Annotated[str, Query(description="1h, 24h, 7d, 30d, 90d or all")] = "all",
    cursor: Str | None = None,
    limit: int = views.PAGE_SIZE,
) -> MentionPageOut:
    actor.require(Permission.ORG_READ)
    filters = _filters(q, topic, saved, sentiment, label, language, source, range)
    with db.reader() as session:
        page = views.list_mentions(
            session, actor, filters, now=clock.now(), limit=limit, cursor=cursor
        )
        return MentionPageOut(
            items=[MentionOut.of(m) for m in page.items],
            next_cursor=page.next_cursor,
            scanned=page.scanned,
            partial=page.partial,
        )


@router.get("/search", summary="Full-text search (all words, any order)")
def search_mentions(actor: ApiActor, db: DbDep, q: Str, limit: int = 20) -> list[MentionOut]:
    actor.require(Permission.ORG_READ)
    with db.reader() as session:
        found = search.search_mentions(session, actor.organization_id, q, limit=limit)
        return [MentionOut.of(m) for m in found]


@router.get("/mentions/{mention_id}", summary="One mention with its thread and matches")
def get_mention(actor: ApiActor, db: DbDep, mention_id: int) -> MentionDetailOut:
    actor.require(Permission.ORG_READ)
    with db.reader() as session:
        d = views_mention.mention_detail(session, actor, mention_id)
        return MentionDetailOut(
            mention=MentionOut.of(d.mention),
            thread=[MentionOut.of(m) for m in d.ancestors],
            replies=[MentionOut.of(m) for m in d.replies],
            author_mentions=[MentionOut.of(m) for m in d.author_mentions],
            matched_queries=[QueryOut.of(q) for q in d.matched],
            cluster_size=d.cluster_size,
            flags=[FlagOut(at=f.at, by=f.by, note=f.note) for f in d.flags],
        )


@router.post("/mentions/{mention_id}/flags", status_code=201, summary="Flag a risk")
def flag_mention(
    actor: ApiActor, db: DbDep, clock: ClockDep, mention_id: int, body: FlagIn
) -> dict[str, Any]:
    with db.unit_of_work() as session:
        event = actions.flag_mention(session, actor, mention_id, note=body.note, clock=clock)
    return event.model_dump()


@router.get("/volume", summary="Mentions per bucket by sentiment, for the filters")
def volume(
    actor: ApiActor,
    db: DbDep,
    clock: ClockDep,
    q: Str = "",
    topic: Str = "",
    saved: Str = "",
    sentiment: Str = "",
    label: Str = "",
    language: Str = "",
    source: Str = "",
    range: str = views.DEFAULT_RANGE,
) -> dict[str, Any]:
    actor.require(Permission.ORG_READ)
    filters = _filters(q, topic, saved, sentiment, label, language, source, range)
    with db.reader() as session:
        v = views.volume(session, actor, filters, now=clock.now())
    return {
        "bucket_seconds": int(v.bucket.total_seconds()),
        "starts": [s.isoformat() for s in v.starts],
        "by_sentiment": v.by_sentiment,
        "total": v.total,
        "capped": v.capped,
    }


# --- saved queries -----------------------------------------------------------------------------


@router.get("/queries", summary="Saved listening queries")
def list_queries(actor: ApiActor, db: DbDep) -> list[QueryOut]:
    actor.require(Permission.ORG_READ)
    with db.reader() as session:
        return [QueryOut.of(q) for q in views.saved_queries(session, actor)]


@router.post("/queries", status_code=201, summary="Save a listening query")
def add_query(actor: ApiActor, db: DbDep, clock: ClockDep, body: QueryIn) -> QueryOut:
    actor.require(Permission.CONTENT_WRITE)
    for field, value in (("name", body.name), ("topic", body.topic), ("query", body.query)):
        views.check_text(value, field)
    with db.unit_of_work() as session:
        row = ingest.add_query(
            session, actor, name=body.name, topic=body.topic, query=body.query, clock=clock
        )
        return QueryOut.of(row)


@router.post("/queries/test", summary="Try a query on the 1,000 most recent mentions")
def test_query(actor: ApiActor, db: DbDep, body: QueryTestIn) -> QueryTestOut:
    actor.require(Permission.ORG_READ)
    with db.reader() as session:
        tried, matched, sample = views.try_query(session, actor, body.query)
        return QueryTestOut(tried=tried, matched=matched, sample=[MentionOut.of(m) for m in sample])


@router.post("/queries/{query_id}/active", summary="Switch a saved query on or off")
def set_active(
    actor: ApiActor, db: DbDep, clock: ClockDep, query_id: str, body: ActiveIn
) -> QueryOut:
    with db.unit_of_work() as session:
        row = actions.set_query_active(session, actor, query_id, active=body.active, clock=clock)
        return QueryOut.of(row)


# --- sources and quarantine --------------------------------------------------------------------


@router.get("/sources", summary="Configured sources and their health (no credentials)")
def list_sources(actor: ApiActor, db: DbDep) -> list[dict[str, object]]:
    with db.reader() as session:
        return [sources.view(r).as_dict() for r in sources.list_sources(session, actor)]


@router.get("/quarantine", summary="Quarantined records, newest first")
def list_quarantine(actor: ApiActor, db: DbDep, cursor: Str | None = None) -> dict[str, Any]:
    actor.require(Permission.ORG_READ)
    with db.reader() as session:
        rows, next_cursor, total = quarantine_page_rows(session, actor, cursor=cursor)
    return {
        "items": [
            {
                "id": r.id,
                "source": r.source,
                "connector": r.connector,
                "format": r.format,
                "reason": r.reason,
                "message": r.message,
                "location": r.location,
                "position": r.position,
                "created_at": r.created_at.isoformat(),
                "size": r.size,
                "preview": r.preview,
                "truncated": r.truncated,
            }
            for r in rows
        ],
        "next_cursor": next_cursor,
        "total": total,
    }


@router.post("/quarantine/retry", summary="Parse quarantined records again")
def retry_quarantine(actor: ApiActor, db: DbDep, clock: ClockDep, body: IdsIn) -> dict[str, int]:
    actor.require(Permission.SETTINGS_MANAGE)
    return ingest.retry_quarantine(db, actor, body.ids, clock=clock)


@router.post("/quarantine/drop", summary="Delete quarantined records for good")
def drop_quarantine(actor: ApiActor, db: DbDep, clock: ClockDep, body: IdsIn) -> dict[str, int]:
    actor.require(Permission.SETTINGS_MANAGE)
    with db.unit_of_work() as session:
        dropped = ingest.drop_quarantine(session, actor, body.ids, everything=False, clock=clock)
    return {"dropped": dropped}
