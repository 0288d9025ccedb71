"""Replies to customers: through governance first, then queued for the `care.send_replies`
job (or waiting for approval); undo inside the window, retry after a failure."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import sending
from groundswell.care.access import access_conversation, access_message, frozen_at, snapshot
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.governance.approvals import request_approval
from groundswell.governance.domain import Action, Finding, Severity
from groundswell.governance.service import authorize, crisis_mode
from groundswell.identity.domain import ROLE_RANK, Permission, Role
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.errors import Conflict, Forbidden, GroundswellError, InvalidInput
from groundswell.kernel.settings import get_settings

REPLY_SUBJECT: Final = "care.reply"


class ReplyBlocked(GroundswellError):
    """A blocking policy finding stops the reply; `findings` say what to change."""

    code = "reply_blocked"
    status = 422
    title = "Blocked by the organization's policy"

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message, findings=[f.model_dump(mode="json") for f in findings])
        self.findings = tuple(findings)


def _latest_inbound(session: Session, conversation_id: str) -> CareMessage | None:
    return session.scalars(
        select(CareMessage)
        .where(
            CareMessage.conversation_id == conversation_id,
            CareMessage.direction == "inbound",
        )
        .order_by(CareMessage.created_at.desc(), CareMessage.id.desc())
        .limit(1)
    ).first()


def reply_action(session: Session, c: CareConversation) -> Action:
    """What governance is asked to authorize for a reply on `c`: a private reply (direct
    message) for a private conversation; else a public reply, a crisis reply while crisis
    mode is on."""
    if c.channel == "direct":
        return Action.REPLY_PRIVATE
    return Action.REPLY_CRISIS if crisis_mode(session, c.organization_id) else Action.REPLY_PUBLIC


def reply(
    session: Session, actor: Actor, conversation_id: str, text: str, *, now: datetime
) -> CareMessage:
    """Answer the customer on the conversation's network, threaded under their latest
    message. Governance decides first (`authorize` on the text, as a crisis reply while crisis
    mode is on, as a private reply on a private conversation): a blocking finding raises
    `ReplyBlocked` and stores nothing; a refusal raises Forbidden; when approvals are needed
    the reply waits (`awaiting_approval`) on a governance approval request (subject
    "care.reply"); otherwise it is `queued` and goes out after the undo window
    (`GROUNDSWELL_CARE_UNDO_SECONDS`). Replying to a conversation nobody holds takes it. A
    private conversation's reply is sent as a direct message (the text starts with the
    customer's @handle where the network needs it), or refused (`NoPublisher`) when its
    connector cannot send one."""
    actor.require(Permission.CONTENT_WRITE)
    c = access_conversation(session, actor, conversation_id)
    text = text.strip()
    if not text:
        raise InvalidInput("A reply needs some text.")
    outlet = sending.outlet_for_conversation(session, c)
    text = sending.addressed(text, c, outlet.capabilities)
    sending.check_length(text, outlet.capabilities)
    action = reply_action(session, c)
    authorization = authorize(session, actor, action, text=text, network=outlet.source.connector)
    if authorization.blocked:
        blocking = [f for f in authorization.findings if f.severity is Severity.BLOCK]
        raise ReplyBlocked(
            "The reply breaks the organization's policy: " + "; ".join(f.message for f in blocking),
            authorization.findings,
        )
    if not authorization.decision.allowed:
        raise Forbidden(authorization.decision.reason)
    latest = _latest_inbound(session, c.id)
    before = snapshot(c)
    message = CareMessage(
        organization_id=c.organization_id,
        conversation_id=c.id,
        direction="outbound",
        author_user_id=actor.user_id,
        author_label=actor.email,
        text=text,
        created_at=now,
        in_reply_to=latest.external_id if latest else None,
        attempts=0,
    )
    session.add(message)
    if c.assignee_id is None:
        c.assignee_id = actor.user_id
    if c.status in ("new", "snoozed"):
        c.status = "open"
        c.snoozed_until = None
    c.updated_at = now
    session.flush()
    needed = authorization.decision.approvals_needed
    if needed > 0:
        message.delivery_status = "awaiting_approval"
        request = request_approval(
            session,
            actor,
            action=action,
            subject_type=REPLY_SUBJECT,
            subject_id=message.id,
            summary=f"{'Private reply' if c.channel == 'direct' else 'Reply'} to "
            f"{c.customer_handle or c.customer_name or 'a customer'}: " + text[:120],
            authorization=authorization,
            now=now,
        )
        message.approval_request_id = request.id
    else:
        message.delivery_status = "queued"
        message.send_after = now + timedelta(seconds=get_settings().care_undo_seconds)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.reply.create",
        "care_message",
        message.id,
        before=before,
        after={
            "conversation_id": c.id,
            "conversation": snapshot(c),
            "delivery_status": message.delivery_status,
            "approvals_needed": needed,
            "in_reply_to": message.in_reply_to,
            "channel": c.channel,
            "text": text,
        },
        clock=frozen_at(now),
    )
    return message


def _own_reply(session: Session, actor: Actor, message_id: str) -> CareMessage:
    actor.require(Permission.CONTENT_WRITE)
    message = access_message(session, actor, message_id)
    if message.direction != "outbound":
        raise InvalidInput("Only replies can be undone or retried.")
    if message.author_user_id != actor.user_id and ROLE_RANK[actor.role] < ROLE_RANK[Role.AGENT]:
        raise Forbidden("Only the author, or an agent or above, may change this reply.")
    return message


def undo_reply(session: Session, actor: Actor, message_id: str, *, now: datetime) -> CareMessage:
    """Cancel a queued reply inside its undo window (409 once it is sending or sent). A reply
    waiting for approval can be withdrawn too."""
    message = _own_reply(session, actor, message_id)
    window_open = message.delivery_status == "queued" and (
        message.send_after is None or now < message.send_after
    )
    if not (window_open or message.delivery_status == "awaiting_approval"):
        raise Conflict(
            f"Too late to undo: the reply is {message.delivery_status}"
            + (" and its undo window has passed." if message.delivery_status == "queued" else ".")
        )
    before = {"delivery_status": message.delivery_status}
    message.delivery_status = "cancelled"
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.reply.undo",
        "care_message",
        message.id,
        before=before,
        after={"delivery_status": "cancelled"},
        clock=frozen_at(now),
    )
    return message


def retry_reply(session: Session, actor: Actor, message_id: str, *, now: datetime) -> CareMessage:
    """Send a failed reply again now (the attempt counter starts over)."""
    message = _own_reply(session, actor, message_id)
    if message.delivery_status != "failed":
        raise Conflict(
            f"Only a failed reply can be retried; this one is {message.delivery_status}."
        )
    message.delivery_status = "queued"
    message.send_after = now
    message.attempts = 0
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.reply.retry",
        "care_message",
        message.id,
        before={"delivery_status": "failed", "error": message.error},
        after={"delivery_status": "queued"},
        clock=frozen_at(now),
    )
    return message
