"""The inbox list: one page of conversations for a view, a status and a search, by keyset
pagination over indexed columns (see the indexes on `care_conversation`). The search is
full-text (`care.search`); it narrows the same keyset walk, so pages and views work alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from groundswell.care import search
from groundswell.care.tables import CareConversation
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.pagination import check_limit, decode_cursor, encode_cursor

STATUSES: Final = ("new", "open", "pending_customer", "snoozed", "resolved")
VIEWS: Final = ("all", "mine", "unassigned", "breaching", "direct")
BREACHING_SOON: Final = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class ConversationPage:
    items: list[CareConversation]
    next_cursor: str | None


def _cursor(cursor: str) -> tuple[datetime, str]:
    """The (instant, id) a page ended at; InvalidInput for anything else."""
    try:
        last, last_id = decode_cursor(cursor)
    except ValueError:  # a date inside that does not parse
        last, last_id = None, None
    if not isinstance(last, datetime) or last.tzinfo is None or not isinstance(last_id, str):
        raise InvalidInput("The cursor is not valid; start again without one.")
    return last, last_id


def _view_filter(
    stmt: Select[CareConversation], actor: Actor, view: str
) -> Select[CareConversation]:
    if view == "all" or view == "breaching":
        return stmt
    if view == "mine":
        return stmt.where(CareConversation.assignee_id == actor.user_id)
    if view == "unassigned":
        return stmt.where(CareConversation.assignee_id.is_(None))
    if view == "direct":  # private conversations (direct messages)
        return stmt.where(CareConversation.channel == "direct")
    if view.startswith("team:") and view[5:]:
        return stmt.where(CareConversation.team_id == view[5:])
    raise InvalidInput(
        f"Unknown view {view!r}; use all, mine, unassigned, breaching, direct or team:<id>."
    )


def list_conversations(
    session: Session,
    actor: Actor,
    *,
    view: str = "all",
    status: str | None = None,
    q: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
    now: datetime | None = None,
) -> ConversationPage:
    """One page of the inbox. `status` None lists every conversation not resolved, "any"
    lists all, else one status. Newest activity first (keyset over updated_at, id); the
    "breaching" view lists unresolved conversations whose deadline is past or within the
    hour (`now` is required for it), soonest first."""
    actor.require(Permission.ORG_READ)
    check_limit(limit)
    stmt = select(CareConversation).where(CareConversation.organization_id == actor.organization_id)
    stmt = _view_filter(stmt, actor, view)
    if status is None:
        stmt = stmt.where(CareConversation.status != "resolved")
    elif status != "any":
        if status not in STATUSES:
            raise InvalidInput(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
        stmt = stmt.where(CareConversation.status == status)
    if q and q.strip():
        stmt = search.matching(session, stmt, q)
    if view == "breaching":
        if now is None:
            raise InvalidInput("The breaching view needs the current time.")
        return _page_by_due(session, stmt, now, cursor, limit)
    if cursor:
        last, last_id = _cursor(cursor)
        stmt = stmt.where(
            or_(
                CareConversation.updated_at < last,
                and_(CareConversation.updated_at == last, CareConversation.id < last_id),
            )
        )
    rows = list(
        session.scalars(
            stmt.order_by(CareConversation.updated_at.desc(), CareConversation.id.desc()).limit(
                limit + 1
            )
        )
    )
    if len(rows) <= limit:
        return ConversationPage(rows, None)
    last_row = rows[limit - 1]
    return ConversationPage(rows[:limit], encode_cursor(last_row.updated_at, last_row.id))


def _page_by_due(
    session: Session,
    stmt: Select[CareConversation],
    now: datetime,
    cursor: str | None,
    limit: int,
) -> ConversationPage:
    stmt = stmt.where(
        CareConversation.sla_due_at.is_not(None),
        CareConversation.sla_due_at <= now + BREACHING_SOON,
    )
    if cursor:
        last, last_id = _cursor(cursor)
        stmt = stmt.where(
            or_(
                CareConversation.sla_due_at > last,
                and_(CareConversation.sla_due_at == last, CareConversation.id > last_id),
            )
        )
    rows = list(
        session.scalars(
            stmt.order_by(CareConversation.sla_due_at, CareConversation.id).limit(limit + 1)
        )
    )
    if len(rows) <= limit:
        return ConversationPage(rows, None)
    last_row = rows[limit - 1]
    assert last_row.sla_due_at is not None
    return ConversationPage(rows[:limit], encode_cursor(last_row.sla_due_at, last_row.id))
