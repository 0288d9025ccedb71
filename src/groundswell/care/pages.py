"""The care inbox (`/care`): views (mine, unassigned, breaching soon, direct messages, all, by
team), status filter, search, keyset pagination, live SLA timers, and the row actions the
keyboard drives (a assign to me, e resolve, s snooze; j/k/enter/r/?// in `web/static/care.js`).

Row actions answer htmx with the row re-rendered, so the list keeps its place; without htmx
they redirect back to the inbox. The conversation page lives in `pages_conversation.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import presence, service
from groundswell.care.inbox import STATUSES, list_conversations
from groundswell.care.metrics import human_duration
from groundswell.care.tables import CareConversation, CareTeam
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.identity.tables import Organization, User
from groundswell.kernel.db import Database
from groundswell.kernel.errors import InvalidInput
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
PAGE_SIZE = 25

STATUS_LABELS = {
    "new": "New",
    "open": "Open",
    "pending_customer": "Pending customer",
    "snoozed": "Snoozed",
    "resolved": "Resolved",
}
VIEW_LABELS = {
    "mine": "Mine",
    "unassigned": "Unassigned",
    "breaching": "Breaching soon",
    "direct": "Direct messages",
    "all": "All open",
}
SNOOZE_CHOICES = {
    "1h": "1 hour",
    "4h": "4 hours",
    "tomorrow": "Tomorrow 09:00",
    "next_week": "Next Monday 09:00",
}
INBOX_SNOOZE = "4h"  # what `s` in the inbox does


def snooze_until(choice: str, now: datetime, zone: str) -> datetime:
    """The instant a snooze choice means, in the organization's time zone."""
    if choice == "1h":
        return now + timedelta(hours=1)
    if choice == "4h":
        return now + timedelta(hours=4)
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    if choice == "tomorrow":
        day = local.date() + timedelta(days=1)
    elif choice == "next_week":
        day = local.date() + timedelta(days=7 - local.weekday())
    else:
        raise InvalidInput(f"Unknown snooze {choice!r}; use one of {', '.join(SNOOZE_CHOICES)}.")
    return datetime.combine(day, time(9, 0), tzinfo=tz).astimezone(now.tzinfo)


def sla_text(c: CareConversation, now: datetime) -> str:
    """What the timer says before care.js takes over (and without JavaScript)."""
    if c.paused_at is not None:
        return "paused"
    if c.sla_due_at is None:
        return ""
    left = (c.sla_due_at - now).total_seconds()
    if left <= 0:
        return f"breached {human_duration(-left)} ago"
    return f"{human_duration(left)} left"


def sla_state(c: CareConversation, now: datetime) -> str:
    if c.paused_at is not None:
        return "sla-paused"
    if c.sla_due_at is None:
        return ""
    if now >= c.sla_due_at:
        return "sla-breach"
    if c.sla_warn_at is not None and now >= c.sla_warn_at:
        return "sla-warn"
    return "sla-ok"


SLA_TARGETS = {
    "first_response": "First response",
    "next_response": "Next response",
    "resolution": "Resolution",
}


def people(session: Session, organization_id: str) -> dict[str, User]:
    """The organization's users by id (names for assignees, the assign menu)."""
    rows = session.scalars(
        select(User).where(User.organization_id == organization_id).order_by(User.name)
    )
    return {u.id: u for u in rows}


def teams(session: Session, organization_id: str) -> dict[str, CareTeam]:
    rows = session.scalars(
        select(CareTeam).where(CareTeam.organization_id == organization_id).order_by(CareTeam.name)
    )
    return {t.id: t for t in rows}


def org_zone(session: Session, organization_id: str) -> str:
    org = session.get(Organization, organization_id)
    return org.time_zone if org else "UTC"


def common(session: Session, actor: Actor, now: datetime) -> dict[str, Any]:
    """What every care template needs to show a conversation's row or header."""
    return {
        "now": now,
        "people": people(session, actor.organization_id),
        "teams": teams(session, actor.organization_id),
        "status_labels": STATUS_LABELS,
        "snooze_choices": SNOOZE_CHOICES,
        "inbox_snooze": INBOX_SNOOZE,
        "sla_text": sla_text,
        "sla_state": sla_state,
        "sla_targets": SLA_TARGETS,
        "can_write": actor.can(Permission.CONTENT_WRITE),
    }


@dataclass(frozen=True)
class InboxQuery:
    view: str
    status: str | None
    q: str
    cursor: str | None

    def url(self, **changes: str | None) -> str:
        values = {"view": self.view, "status": self.status, "q": self.q, "cursor": None}
        values.update(changes)
        kept = {k: v for k, v in values.items() if v}
        if kept.get("view") == "all":
            kept.pop("view")
        return "/care" + (f"?{urlencode(kept)}" if kept else "")


def _row_context(
    session: Session, actor: Actor, conversation_id: str, now: datetime
) -> dict[str, Any]:
    c = service.access_conversation(session, actor, conversation_id)
    ctx = common(session, actor, now)
    ctx.update(c=c, viewers=presence.viewers(session, actor, [c.id], now=now))
    return ctx


def _after_action(
    request: Request, db: Database, actor: Actor, conversation_id: str, now: datetime, back: str
) -> Response:
    if request.headers.get("HX-Request") and request.headers.get("HX-Target", "").startswith(
        "row-"
    ):
        # Render after the session is closed: rendering opens its own (the unread count), and
        # holding two connections per request starves the pool under load.
        with db.reader() as session:
            ctx = _row_context(session, actor, conversation_id, now)
        return render(request, "care/_row.html", ctx)
    if back.startswith("/care") and not back.startswith("//"):
        return RedirectResponse(back, status_code=303)
    return RedirectResponse(service.conversation_link(conversation_id), status_code=303)


@router.get("/care")
def inbox(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    view: str = "all",
    status: str | None = None,
    q: str = "",
    cursor: str | None = None,
) -> Response:
    now = clock.now()
    if status and status != "any" and status not in STATUSES:
        raise InvalidInput(f"Unknown status {status!r}.")
    query = InboxQuery(view, status or None, q.strip()[:200], cursor)
    with db.reader() as session:
        ctx = _inbox_context(session, actor, query, now)
    return render(request, "care/inbox.html", ctx)


def _inbox_context(
    session: Session, actor: Actor, query: InboxQuery, now: datetime
) -> dict[str, Any]:
    view = query.view
    page = list_conversations(
        session,
        actor,
        view=view,
        status=query.status,
        q=query.q or None,
        cursor=query.cursor,
        limit=PAGE_SIZE,
        now=now,
    )
    ctx = common(session, actor, now)
    team_rows = ctx["teams"]
    view_label = VIEW_LABELS.get(view) or (
        f"Team {team_rows[view[5:]].name}" if view[5:] in team_rows else "Conversations"
    )
    ctx.update(
        query=query,
        page=page,
        view_label=view_label,
        views=VIEW_LABELS,
        viewers=presence.viewers(session, actor, [c.id for c in page.items], now=now),
        statuses=STATUS_LABELS,
    )
    return ctx


@router.post("/care/conversations/{conversation_id}/assign", dependencies=[CSRF])
def assign(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    assignee_id: Annotated[str, Form(max_length=36)] = "",
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """`assignee_id` "me" takes it, empty unassigns."""
    target = actor.user_id if assignee_id == "me" else (assignee_id or None)
    with db.unit_of_work() as session:
        service.assign(session, actor, conversation_id, target, now=clock.now())
    return _after_action(request, db, actor, conversation_id, clock.now(), back)


@router.post("/care/conversations/{conversation_id}/status", dependencies=[CSRF])
def change_status(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    status: Annotated[str, Form(max_length=30)],
    snooze: Annotated[str, Form(max_length=20)] = INBOX_SNOOZE,
    back: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    now = clock.now()
    with db.unit_of_work() as session:
        if status == "resolved":
            service.resolve(session, actor, conversation_id, now=now)
        else:
            until = (
                snooze_until(snooze, now, org_zone(session, actor.organization_id))
                if status == "snoozed"
                else None
            )
            service.set_status(session, actor, conversation_id, status, snooze_until=until, now=now)
    return _after_action(request, db, actor, conversation_id, now, back)
