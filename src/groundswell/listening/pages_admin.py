"""Listening operations pages: sources health (pause/resume for admins) and the quarantine
(reason, message, where, a payload preview; retry and drop, one or selected)."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.clock import as_utc
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.pagination import encode_cursor
from groundswell.listening import ingest, sources
from groundswell.listening.tables import QuarantinedRecord
from groundswell.listening.views import check_id, check_text, read_cursor
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
PREVIEW_CHARS = 400
QUARANTINE_PAGE = 50


# --- sources health ----------------------------------------------------------------------------


@router.get("/listening/sources")
def sources_page(request: Request, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.reader() as session:
        rows = [sources.view(r) for r in sources.list_sources(session, actor)]
    return render(
        request,
        "listening/sources.html",
        {
            "sources": rows,
            "now": clock.now(),
            "can_manage": actor.can(Permission.SETTINGS_MANAGE),
            "notice": request.query_params.get("notice"),
        },
    )


@router.post("/listening/sources/{name}/{action}", dependencies=[CSRF])
def sources_action(
    actor: PageActor, db: DbDep, clock: ClockDep, name: str, action: str
) -> Response:
    if action not in ("pause", "resume"):
        raise InvalidInput("The action is pause or resume.")
    check_text(name, "The source name")
    with db.unit_of_work() as session:
        if action == "pause":
            row = sources.pause(session, actor, name, clock=clock)
        else:
            row = sources.resume(session, actor, name, clock=clock)
        notice = f"{row.name} is {'paused' if action == 'pause' else 'fetching again'}."
    return RedirectResponse("/listening/sources?" + urlencode({"notice": notice}), status_code=303)


# --- quarantine --------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuarantineRow:
    id: int
    source: str
    connector: str
    format: str
    reason: str
    message: str
    location: str
    position: int
    created_at: datetime
    size: int
    preview: str
    truncated: bool


def _row(record: QuarantinedRecord) -> QuarantineRow:
    try:
        payload = zlib.decompress(record.payload)
    except zlib.error:
        payload = record.payload
    text = payload[: PREVIEW_CHARS * 4].decode("utf-8", errors="replace")
    return QuarantineRow(
        id=record.id,
        source=record.source,
        connector=record.connector,
        format=record.format,
        reason=record.reason,
        message=record.message,
        location=record.location,
        position=record.position,
        created_at=as_utc(record.created_at),
        size=len(payload),
        preview=text[:PREVIEW_CHARS],
        truncated=len(payload) > len(text[:PREVIEW_CHARS].encode("utf-8", errors="replace")),
    )


def quarantine_page_rows(
    session: Session, actor: Actor, *, cursor: str | None, limit: int = QUARANTINE_PAGE
) -> tuple[list[QuarantineRow], str | None, int]:
    """One page of the quarantine, newest first: (rows, next cursor, total held)."""
    org = actor.organization_id
    stmt = select(QuarantinedRecord).where(QuarantinedRecord.organization_id == org)
    total = int(
        session.scalar(select(func.count()).where(QuarantinedRecord.organization_id == org)) or 0
    )
    if cursor:
        _key, last_id = read_cursor(cursor)
        stmt = stmt.where(QuarantinedRecord.id < last_id)
    rows = list(session.scalars(stmt.order_by(QuarantinedRecord.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = encode_cursor(0, rows[-1].id) if more and rows else None
    return [_row(r) for r in rows], next_cursor, total


@router.get("/listening/quarantine")
def quarantine_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    actor.require(Permission.ORG_READ)
    cursor = request.query_params.get("cursor") or None
    with db.reader() as session:
        rows, next_cursor, total = quarantine_page_rows(session, actor, cursor=cursor)
    return render(
        request,
        "listening/quarantine.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "first_page": cursor is None,
            "total": total,
            "can_manage": actor.can(Permission.SETTINGS_MANAGE),
            "notice": request.query_params.get("notice"),
        },
    )


def _ids(values: list[str] | None) -> list[int]:
    try:
        ids = sorted({int(v) for v in values or []})
    except ValueError:
        raise InvalidInput("Record numbers are whole numbers.") from None
    if not ids:
        raise InvalidInput("Select at least one record.")
    if not all(check_id(i) for i in ids):
        raise InvalidInput("No such record number.")
    return ids


@router.post("/listening/quarantine/retry", dependencies=[CSRF])
def quarantine_retry(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    actor.require(Permission.SETTINGS_MANAGE)
    chosen = _ids(ids)
    counts = ingest.retry_quarantine(db, actor, chosen, clock=clock)
    notice = (
        f"Retried {counts['retried']}: {counts['stored']} stored, "
        f"{counts['duplicates']} already stored, {counts['still_quarantined']} still bad."
    )
    return RedirectResponse(
        "/listening/quarantine?" + urlencode({"notice": notice}), status_code=303
    )


@router.post("/listening/quarantine/drop", dependencies=[CSRF])
def quarantine_drop(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    ids: Annotated[list[str] | None, Form()] = None,
) -> Response:
    actor.require(Permission.SETTINGS_MANAGE)
    chosen = _ids(ids)
    with db.unit_of_work() as session:
        dropped = ingest.drop_quarantine(session, actor, chosen, everything=False, clock=clock)
    notice = f"Dropped {dropped} record{'s' if dropped != 1 else ''} for good."
    return RedirectResponse(
        "/listening/quarantine?" + urlencode({"notice": notice}), status_code=303
    )
