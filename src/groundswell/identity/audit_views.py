"""Reading the audit log on someone's behalf: scoped to their organization, filtered,
paginated, exported."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from groundswell.identity.domain import Permission
from groundswell.identity.schemas import AuditEntryOut
from groundswell.identity.service import Actor
from groundswell.kernel.clock import as_utc
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.pagination import check_limit, decode_cursor, encode_cursor
from groundswell.kernel.tables import AuditEntry

EXPORT_FIELDS = (
    "seq",
    "at",
    "actor",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "ip",
    "prev_hash",
    "hash",
)


@dataclass(frozen=True)
class AuditFilters:
    action: str | None = None
    object_type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _query(filters: AuditFilters, organization_id: str | None) -> Select[AuditEntry]:
    stmt = select(AuditEntry)
    if organization_id is not None:
        stmt = stmt.where(AuditEntry.organization_id == organization_id)
    if filters.action:
        stmt = stmt.where(AuditEntry.action == filters.action)
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.actor:
        stmt = stmt.where(AuditEntry.actor_label.contains(filters.actor))
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= as_utc(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEntry.at <= as_utc(filters.until))
    return stmt


def page(
    session: Session, actor: Actor, filters: AuditFilters, *, cursor: str | None, limit: int
) -> tuple[Sequence[AuditEntry], str | None]:
    actor.require(Permission.AUDIT_READ)
    check_limit(limit)
    stmt = _query(filters, actor.organization_id)
    if cursor:
        last_seq, _ = decode_cursor(cursor)
        if not isinstance(last_seq, int) or isinstance(last_seq, bool) or not 0 < last_seq < 2**63:
            raise InvalidInput("The cursor is not valid; start again without one.")
        stmt = stmt.where(AuditEntry.seq < last_seq)
    rows = session.execute(stmt.order_by(AuditEntry.seq.desc()).limit(limit + 1)).scalars().all()
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_cursor(rows[limit - 1].seq, rows[limit - 1].seq)


def entry_out(entry: AuditEntry) -> AuditEntryOut:
    return AuditEntryOut(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor_label,
        action=entry.action,
        object_type=entry.object_type,
        object_id=entry.object_id,
        before=entry.before,
        after=entry.after,
        ip=entry.ip,
        hash=entry.hash,
    )


def _rows_for_export(
    session: Session, organization_id: str | None, filters: AuditFilters
) -> Iterator[AuditEntry]:
    after = 0
    while True:
        rows = (
            session.execute(
                _query(filters, organization_id)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(2000)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


def _record(entry: AuditEntry) -> dict[str, object]:
    return {
        "seq": entry.seq,
        "at": as_utc(entry.at).isoformat(),
        "actor": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }


def export_lines(
    session: Session,
    fmt: str,
    *,
    organization_id: str | None = None,
    filters: AuditFilters | None = None,
) -> Iterator[str]:
    """The log in ascending order as JSON lines or CSV (with header), streamed."""
    filters = filters or AuditFilters()
    if fmt == "jsonl":
        for entry in _rows_for_export(session, organization_id, filters):
            yield json.dumps(_record(entry), ensure_ascii=False, sort_keys=True) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        yield buf.getvalue()
        for entry in _rows_for_export(session, organization_id, filters):
            buf.seek(0)
            buf.truncate()
            rec = _record(entry)
            rec["before"] = json.dumps(rec["before"]) if rec["before"] is not None else ""
            rec["after"] = json.dumps(rec["after"]) if rec["after"] is not None else ""
            writer.writerow(rec)
            yield buf.getvalue()
    else:
        raise InvalidInput(f"Unknown export format {fmt!r}; use jsonl or csv.")


def export_for(session: Session, actor: Actor, fmt: str, filters: AuditFilters) -> Iterator[str]:
    actor.require(Permission.AUDIT_READ)
    return export_lines(session, fmt, organization_id=actor.organization_id, filters=filters)
