"""Care use cases on conversations: load what an actor may see, list the inbox, assign, change
status, resolve, write internal notes, reply (through governance), undo and retry replies.

Every function takes the identity `Actor` first, scopes to the actor's organization, flushes
and never commits, and audits each change. Anyone in the organization may read conversations;
changing them needs `content:write`; handing a conversation to someone else needs agent rank
or above (contributors take conversations only for themselves).

The `x as x` imports re-export what lives in `access.py` (loading), `inbox.py` (the inbox
list) and `replies.py` (replying): they are part of this module's API (care_model.md).
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import sla
from groundswell.care.access import access_conversation as access_conversation
from groundswell.care.access import access_customer as access_customer
from groundswell.care.access import access_message as access_message
from groundswell.care.access import conversation_link as conversation_link
from groundswell.care.access import frozen_at
from groundswell.care.access import messages as messages
from groundswell.care.access import snapshot as snapshot
from groundswell.care.inbox import STATUSES as STATUSES
from groundswell.care.inbox import ConversationPage as ConversationPage
from groundswell.care.inbox import list_conversations as list_conversations
from groundswell.care.replies import REPLY_SUBJECT as REPLY_SUBJECT
from groundswell.care.replies import ReplyBlocked as ReplyBlocked
from groundswell.care.replies import reply as reply
from groundswell.care.replies import retry_reply as retry_reply
from groundswell.care.replies import undo_reply as undo_reply
from groundswell.care.tables import (
    CareConversation,
    CareMessage,
    CareSavedReply,
    CareTeam,
)
from groundswell.identity.domain import ROLE_RANK, Permission, Role
from groundswell.identity.notifications import notify
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput

Conversation = CareConversation
Message = CareMessage

NOTE_MAX: Final = 10_000
_MENTION = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)")


# --- changing ---------------------------------------------------------------------------------


def _member(session: Session, organization_id: str, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.organization_id != organization_id or not user.is_active:
        raise InvalidInput(f"No active user {user_id!r} in your organization.")
    return user


def assign(
    session: Session,
    actor: Actor,
    conversation_id: str,
    assignee_id: str | None,
    *,
    now: datetime,
) -> CareConversation:
    """Give the conversation to `assignee_id` (None: unassign). A new conversation becomes
    open. The new assignee is notified in-app (unless they assigned it to themselves)."""
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    if assignee_id not in (None, actor.user_id) and ROLE_RANK[actor.role] < ROLE_RANK[Role.AGENT]:
        raise Forbidden("Contributors take conversations only for themselves.")
    if assignee_id is not None:
        _member(session, actor.organization_id, assignee_id)
    before = snapshot(c)
    c.assignee_id = assignee_id
    if c.status == "new" and assignee_id is not None:
        c.status = "open"
    c.updated_at = now
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.conversation.assign",
        "care_conversation",
        c.id,
        before=before,
        after=snapshot(c),
        clock=frozen_at(now),
    )
    if assignee_id is not None and assignee_id != actor.user_id:
        notify(
            session,
            organization_id=c.organization_id,
            user_ids=[assignee_id],
            kind="care.assigned",
            title=f"Conversation assigned to you: {c.customer_name or c.customer_handle}",
            body=c.preview,
            link=conversation_link(c.id),
            now=now,
        )
    return c


def set_status(
    session: Session,
    actor: Actor,
    conversation_id: str,
    status: str,
    *,
    snooze_until: datetime | None = None,
    now: datetime,
) -> CareConversation:
    """Move the conversation to `status`. `pending_customer` pauses the SLA clock, leaving it
    resumes (deadlines move by the paused business time); `snoozed` needs `snooze_until` in
    the future (the `care.sla` job wakes it); `resolved` is `resolve`; leaving `resolved`
    reopens it with fresh first-response (if never answered) and resolution clocks."""
    if status not in STATUSES:
        raise InvalidInput(f"Unknown status {status!r}; use one of {', '.join(STATUSES)}.")
    if status == "resolved":
        return resolve(session, actor, conversation_id, now=now)
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    if snooze_until is not None and snooze_until.utcoffset() is None:
        raise InvalidInput("snooze_until needs a time zone offset, e.g. 2026-03-02T09:00:00Z.")
    if status == "snoozed" and (snooze_until is None or snooze_until <= now):
        raise InvalidInput("Snoozing needs a time in the future (snooze_until).")
    before = snapshot(c)
    hours, policy = sla.clock_for(session, c)
    if c.status == "resolved":
        c.status = status
        c.resolved_at = None
        sla.start(c, now, hours, policy)
    if status == "pending_customer":
        sla.pause(c, now)
    elif c.paused_at is not None:
        sla.resume(c, now, hours, policy)
    c.status = status
    c.snoozed_until = snooze_until if status == "snoozed" else None
    c.updated_at = now
    session.flush()
    after = snapshot(c) | ({"snoozed_until": snooze_until.isoformat()} if snooze_until else {})
    audit.record(
        session,
        actor.audit,
        "care.conversation.status",
        "care_conversation",
        c.id,
        before=before,
        after=after,
        clock=frozen_at(now),
    )
    return c


def resolve(
    session: Session, actor: Actor, conversation_id: str, *, now: datetime
) -> CareConversation:
    """Resolve: the SLA clocks stop and the conversation gets its CSAT link token."""
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    if c.status == "resolved":
        return c
    before = snapshot(c)
    c.status = "resolved"
    c.resolved_at = now
    c.snoozed_until = None
    c.csat_token = c.csat_token or secrets.token_urlsafe(24)
    sla.stop(c)
    c.updated_at = now
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.conversation.resolve",
        "care_conversation",
        c.id,
        before=before,
        after=snapshot(c),
        clock=frozen_at(now),
    )
    return c


def update(
    session: Session,
    actor: Actor,
    conversation_id: str,
    *,
    priority: int | None = None,
    tags: list[str] | None = None,
    team_id: str | None = None,
    now: datetime,
) -> CareConversation:
    """Change priority, tags or team (the SLA policy is looked up again)."""
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    before = snapshot(c)
    if priority is not None:
        if not 0 <= priority <= 100:
            raise InvalidInput("priority must be between 0 and 100.")
        c.priority = priority
    if tags is not None:
        c.tags = sorted({t.strip()[:50] for t in tags if t.strip()})
    if team_id is not None:
        team = session.get(CareTeam, team_id) if team_id else None
        if team_id and (team is None or team.organization_id != actor.organization_id):
            raise InvalidInput(f"No team {team_id!r} in your organization.")
        c.team_id = team_id or None
    c.updated_at = now
    hours, policy = sla.clock_for(session, c)
    sla.retarget(c, hours, policy)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.conversation.update",
        "care_conversation",
        c.id,
        before=before,
        after=snapshot(c),
        clock=frozen_at(now),
    )
    return c


def mentioned_users(session: Session, organization_id: str, text: str) -> list[User]:
    """Active users of the organization named in `text` as `@email` or `@local-part`."""
    names = {m.group(1).rstrip(".").lower() for m in _MENTION.finditer(text)}
    if not names:
        return []
    users = session.scalars(
        select(User).where(User.organization_id == organization_id, User.is_active.is_(True))
    ).all()
    return [u for u in users if u.email.lower() in names or u.email.split("@")[0].lower() in names]


def add_note(
    session: Session, actor: Actor, conversation_id: str, text: str, *, now: datetime
) -> CareMessage:
    """An internal note (never sent). People named with @ are notified in-app."""
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    text = text.strip()
    if not text:
        raise InvalidInput("A note needs some text.")
    if len(text) > NOTE_MAX:
        raise InvalidInput(f"A note has at most {NOTE_MAX} characters.")
    named = [u for u in mentioned_users(session, actor.organization_id, text)]
    note = CareMessage(
        organization_id=c.organization_id,
        conversation_id=c.id,
        direction="note",
        author_user_id=actor.user_id,
        author_label=actor.email,
        text=text,
        mentioned_user_ids=[u.id for u in named],
        created_at=now,
    )
    session.add(note)
    c.updated_at = now
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.note.add",
        "care_message",
        note.id,
        after={"conversation_id": c.id, "mentioned": [u.email for u in named]},
        clock=frozen_at(now),
    )
    others = [u.id for u in named if u.id != actor.user_id]
    if others:
        notify(
            session,
            organization_id=c.organization_id,
            user_ids=others,
            kind="care.mentioned",
            title=f"{actor.email} mentioned you in a note",
            body=text[:300],
            link=conversation_link(c.id),
            now=now,
        )
    return note


def render_saved_reply(
    saved_reply: CareSavedReply,
    conversation: CareConversation,
    *,
    agent_name: str = "",
) -> str:
    """The saved reply's body with its variables filled in: `{customer.name}` (the handle when
    the name is unknown), `{customer.handle}`, `{agent.name}`, `{conversation.source}`.
    Unknown `{...}` stay as written; `{{` and `}}` are literal braces."""
    handle = conversation.customer_handle or ""
    values = {
        "customer.name": conversation.customer_name or handle,
        "customer.handle": handle,
        "agent.name": agent_name,
        "conversation.source": conversation.source,
    }

    def fill(match: re.Match[str]) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        return values.get(match.group(1).strip(), match.group(0))

    return re.sub(r"\{\{|\}\}|\{([^{}]+)\}", fill, saved_reply.body)


def ensure_unresolved(conversation: CareConversation) -> None:
    if conversation.status == "resolved":
        raise Conflict("The conversation is resolved; reopen it first.")
