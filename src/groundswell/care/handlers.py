"""Care's event handlers (listed in `kernel.handlers_index`).

* `listening.mention_matched` and `listening.direct_message_received` → the mention joins or
  opens a conversation (`routing`);
* `governance.approval_granted` / `_rejected` for subject "care.reply" → the waiting reply is
  queued to send, or cancelled (its author is told);
* `care.sla_breached` → email and signed webhooks, one handler per channel so that each
  channel is delivered exactly once even when another one fails and is retried.

Handlers run inside the dispatcher's transaction: they flush, never commit. They read the
time from `handler_clock` (tests replace it with a FrozenClock)."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session

from groundswell.care import notify, routing
from groundswell.care.events import SlaBreached, SlaWarning
from groundswell.care.service import REPLY_SUBJECT
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.governance.events import ApprovalGranted, ApprovalRejected
from groundswell.governance.vault import Vault
from groundswell.identity.notifications import notify as notify_in_app
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, FrozenClock, SystemClock
from groundswell.kernel.events import bus
from groundswell.kernel.settings import get_settings
from groundswell.listening.pipeline import DirectMessageReceived, MentionMatched
from groundswell.listening.tables import Mention

handler_clock: Clock = SystemClock()


def webhook_client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(10.0))


def _take(session: Session, organization_id: str, mention_id: int) -> None:
    mention = session.get(Mention, mention_id)
    if mention is None or mention.organization_id != organization_id:
        return  # deleted since (the network deleted the post)
    routing.take_mention(session, mention, now=handler_clock.now(), settings=get_settings())


@bus.subscribe(MentionMatched, name="care.take_mention")
def on_mention_matched(session: Session, event: MentionMatched) -> None:
    _take(session, event.organization_id, event.mention_id)


@bus.subscribe(DirectMessageReceived, name="care.take_direct_message")
def on_direct_message(session: Session, event: DirectMessageReceived) -> None:
    """A direct message is addressed to the brand: care takes it even when no saved query
    matched it (taking a mention twice adds nothing)."""
    _take(session, event.organization_id, event.mention_id)


def _waiting_reply(session: Session, organization_id: str, message_id: str) -> CareMessage | None:
    message = session.get(CareMessage, message_id)
    if message is None or message.organization_id != organization_id:
        return None
    return message if message.delivery_status == "awaiting_approval" else None


@bus.subscribe(ApprovalGranted, name="care.reply_approved")
def on_approval_granted(session: Session, event: ApprovalGranted) -> None:
    if event.subject_type != REPLY_SUBJECT:
        return
    message = _waiting_reply(session, event.organization_id, event.subject_id)
    if message is None:
        return
    message.delivery_status = "queued"
    message.send_after = None  # approved: due at once
    session.flush()
    audit.record(
        session,
        audit.SYSTEM,
        "care.reply.approved",
        "care_message",
        message.id,
        after={"approval_request_id": event.request_id, "delivery_status": "queued"},
        organization_id=event.organization_id,
        clock=FrozenClock(handler_clock.now()),
    )


@bus.subscribe(ApprovalRejected, name="care.reply_rejected")
def on_approval_rejected(session: Session, event: ApprovalRejected) -> None:
    if event.subject_type != REPLY_SUBJECT:
        return
    message = _waiting_reply(session, event.organization_id, event.subject_id)
    if message is None:
        return
    now = handler_clock.now()
    message.delivery_status = "cancelled"
    message.error = f"Rejected: {event.comment}"[:2000]
    session.flush()
    audit.record(
        session,
        audit.SYSTEM,
        "care.reply.rejected",
        "care_message",
        message.id,
        after={"approval_request_id": event.request_id, "comment": event.comment},
        organization_id=event.organization_id,
        clock=FrozenClock(now),
    )
    if message.author_user_id:
        notify_in_app(
            session,
            organization_id=message.organization_id,
            user_ids=[message.author_user_id],
            kind="care.reply_rejected",
            title="Your reply was not approved",
            body=event.comment,
            link=f"/care/conversations/{message.conversation_id}",
            now=now,
        )


@bus.subscribe(SlaBreached, name="care.sla_breached_email")
def email_on_breach(session: Session, event: SlaBreached) -> None:
    conversation = session.get(CareConversation, event.conversation_id)
    if conversation is not None:
        notify.breach_email(session, get_settings(), conversation, event.target)


def _webhooks(session: Session, event: SlaBreached | SlaWarning) -> None:
    settings = get_settings()
    notify.post_webhooks(
        session,
        event.organization_id,
        event.name,
        event.model_dump(mode="json"),
        open_vault=lambda: Vault.open(settings.data_dir),
        client_factory=webhook_client,
        now=handler_clock.now(),
    )


@bus.subscribe(SlaBreached, name="care.sla_breached_webhook")
def webhook_on_breach(session: Session, event: SlaBreached) -> None:
    _webhooks(session, event)


@bus.subscribe(SlaWarning, name="care.sla_warning_webhook")
def webhook_on_warning(session: Session, event: SlaWarning) -> None:
    _webhooks(session, event)
