"""Sending replies through the network a conversation came from.

A conversation's `source` is the name of a configured listening source (`listening_source`);
its connector, if it is a `Publisher` that can reply, publishes the reply threaded under the
customer's latest message (`in_reply_to` = that mention's external id), with the source's
options and vault-decrypted secrets. A private conversation's replies go out on the
``direct`` channel, addressed to the customer, and only through a connector that declares
`sends_direct`: never as a public post.

`send_due(db, clock)` is the `care.send_replies` job's work. Each due reply is claimed with a
compare-and-set (queued → sending, attempts + 1) in its own short transaction, so two workers
never send the same reply; the network call happens outside any transaction; the outcome is
written in a second transaction: sent (with the network's id and URL, the SLA clock stops),
or back to queued with an exponential backoff, or failed after the last attempt (the author is
notified). A reply left `sending` by a crashed worker is marked failed after
`STALE_SENDING` rather than sent twice: whether the network got it is unknown, and a person
decides whether to retry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from groundswell.care import sla
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.connectors import registry
from groundswell.connectors.contract import DIRECT, Capabilities, Channel, Publisher, addressed_to
from groundswell.connectors.http import SourceUnavailable
from groundswell.governance.vault import Vault, VaultKeyError
from groundswell.identity.notifications import notify
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError, InvalidInput
from groundswell.kernel.settings import Settings, get_settings
from groundswell.listening.sources import config_for
from groundswell.listening.tables import ListeningSource

log = logging.getLogger(__name__)

QUEUED: Final = "queued"
SENDING: Final = "sending"
SENT: Final = "sent"
FAILED: Final = "failed"
STALE_SENDING: Final = timedelta(minutes=10)
FIRST_BACKOFF: Final = timedelta(seconds=30)
MAX_BACKOFF: Final = timedelta(hours=1)
BATCH: Final = 50

ClientFactory = Callable[[], httpx.Client]


class NoPublisher(GroundswellError):
    code = "no_publisher"
    status = 409
    title = "Cannot reply on this source"


@dataclass(frozen=True, slots=True)
class Outlet:
    """Where a conversation's replies go."""

    source: ListeningSource
    publisher: Publisher

    @property
    def capabilities(self) -> Capabilities:
        return self.publisher.capabilities


def outlet_for(session: Session, organization_id: str, source_name: str) -> Outlet:
    """The configured source named `source_name` and its connector as a `Publisher`.
    NoPublisher when there is no such source or its connector cannot reply."""
    row = session.scalar(
        select(ListeningSource).where(
            ListeningSource.organization_id == organization_id,
            ListeningSource.name == source_name,
        )
    )
    if row is None:
        raise NoPublisher(
            f"No configured source {source_name!r} to reply through; add it in Listening → "
            "Sources (with the credentials to post)."
        )
    connector = registry.get(row.connector)
    if not isinstance(connector, Publisher) or not connector.capabilities.can_reply:
        raise NoPublisher(f"The {row.connector} connector of {source_name!r} cannot post replies.")
    return Outlet(row, connector)


def outlet_for_conversation(session: Session, c: CareConversation) -> Outlet:
    """Where `c`'s replies go. A private conversation (direct messages) needs a publisher
    that sends direct messages: NoPublisher otherwise, since its replies must never be
    published publicly."""
    outlet = outlet_for(session, c.organization_id, c.source)
    if c.channel == DIRECT and not outlet.capabilities.sends_direct:
        raise NoPublisher(
            f"This is a private conversation (direct messages), and the {outlet.source.connector}"
            f" connector of {c.source!r} cannot send direct messages: a reply from here would"
            " not stay private, so none is sent. Answer the customer on the network itself."
        )
    return outlet


def addressed(text: str, c: CareConversation, capabilities: Capabilities) -> str:
    """The text as it will be sent: on a network whose direct messages reach only the
    accounts they name, a private reply starts with the customer's @handle."""
    if c.channel == DIRECT and capabilities.direct_names_recipient:
        return addressed_to(text, c.customer_handle or None)
    return text


def check_length(text: str, capabilities: Capabilities) -> None:
    limit = capabilities.max_length
    if limit is not None and len(text) > limit:
        raise InvalidInput(
            f"The reply has {len(text)} characters; this network allows {limit}. "
            f"Shorten it by {len(text) - limit}."
        )


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at an hour."""
    delay: timedelta = FIRST_BACKOFF * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_BACKOFF)


def due_ids(session: Session, now: datetime, limit: int = BATCH) -> list[str]:
    return list(
        session.scalars(
            select(CareMessage.id)
            .where(
                CareMessage.delivery_status == QUEUED,
                or_(CareMessage.send_after.is_(None), CareMessage.send_after <= now),
            )
            .order_by(CareMessage.send_after, CareMessage.id)
            .limit(limit)
        )
    )


def _claim(db: Database, message_id: str, now: datetime) -> bool:
    with db.unit_of_work() as session:
        result = session.execute(
            update(CareMessage)
            .where(
                CareMessage.id == message_id,
                CareMessage.delivery_status == QUEUED,
                or_(CareMessage.send_after.is_(None), CareMessage.send_after <= now),
            )
            .values(delivery_status=SENDING, attempts=CareMessage.attempts + 1, send_after=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


def _author(message: CareMessage) -> audit.AuditActor:
    return audit.AuditActor(message.author_user_id, message.author_label, message.organization_id)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt gave: the network's id and URL, or an error (and how long the network
    asked us to wait before the next attempt, if it said)."""

    external_id: str | None = None
    url: str | None = None
    error: str | None = None
    retry_after: float | None = None


def _publish(
    db: Database, message_id: str, settings: Settings, client_factory: ClientFactory
) -> Outcome:
    """Publish the claimed message."""
    with db.reader() as session:
        message = session.get(CareMessage, message_id)
        if message is None:
            return Outcome(error="the message is gone")
        conversation = session.get(CareConversation, message.conversation_id)
        assert conversation is not None
        try:
            outlet = outlet_for_conversation(session, conversation)
            check_length(message.text, outlet.capabilities)
            config = config_for(outlet.source, Vault.open(settings.data_dir))
        except (GroundswellError, VaultKeyError) as exc:
            return Outcome(error=str(exc))
        text, in_reply_to = message.text, message.in_reply_to
        channel: Channel = "direct" if conversation.channel == DIRECT else "public"
        recipient = conversation.customer_handle or None
    try:
        with client_factory() as client:
            published = outlet.publisher.publish(
                config,
                text,
                in_reply_to=in_reply_to,
                channel=channel,
                recipient=recipient,
                client=client,
            )
    except SourceUnavailable as exc:
        return Outcome(error=str(exc) or type(exc).__name__, retry_after=exc.retry_after)
    except httpx.HTTPError as exc:
        return Outcome(error=f"{type(exc).__name__}: {exc}")
    return Outcome(external_id=published.external_id, url=published.url)


def _record(
    db: Database,
    message_id: str,
    outcome: Outcome,
    now: datetime,
    max_attempts: int,
) -> str:
    external_id, url, error = outcome.external_id, outcome.url, outcome.error
    with db.unit_of_work() as session:
        message = session.get(CareMessage, message_id)
        if message is None or message.delivery_status != SENDING:
            return "gone"
        conversation = session.get(CareConversation, message.conversation_id)
        assert conversation is not None
        clock = FrozenClock(now)
        if error is None:
            message.delivery_status = SENT
            message.external_id = external_id
            message.url = url
            message.sent_at = now
            message.error = None
            hours, policy = sla.clock_for(session, conversation)
            sla.we_answered(conversation, now, hours, policy)
            conversation.updated_at = now
            session.flush()
            audit.record(
                session,
                _author(message),
                "care.reply.sent",
                "care_message",
                message.id,
                after={
                    "conversation_id": conversation.id,
                    "external_id": external_id,
                    "in_reply_to": message.in_reply_to,
                    "attempts": message.attempts,
                },
                clock=clock,
            )
            return SENT
        message.error = error[:2000]
        if message.attempts >= max_attempts:
            message.delivery_status = FAILED
            session.flush()
            audit.record(
                session,
                _author(message),
                "care.reply.failed",
                "care_message",
                message.id,
                after={"conversation_id": conversation.id, "error": message.error},
                clock=clock,
            )
            if message.author_user_id:
                notify(
                    session,
                    organization_id=message.organization_id,
                    user_ids=[message.author_user_id],
                    kind="care.reply_failed",
                    title="Your reply could not be sent",
                    body=message.error,
                    link=f"/care/conversations/{conversation.id}",
                    now=now,
                )
            return FAILED
        message.delivery_status = QUEUED
        wait = backoff(message.attempts)
        if outcome.retry_after:
            wait = max(wait, timedelta(seconds=min(outcome.retry_after, 86_400)))
        message.send_after = now + wait
        session.flush()
        return "retry"


def fail_stale(db: Database, now: datetime) -> int:
    """Replies stuck in `sending` (a worker died mid-send) become failed: the outcome is
    unknown, so a person decides whether to retry."""
    with db.unit_of_work() as session:
        result = session.execute(
            update(CareMessage)
            .where(
                CareMessage.delivery_status == SENDING,
                CareMessage.send_after < now - STALE_SENDING,
            )
            .values(
                delivery_status=FAILED,
                error="Sending was interrupted; check the network before retrying.",
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def default_client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(20.0))


def send_due(
    db: Database,
    clock: Clock,
    *,
    settings: Settings | None = None,
    client_factory: ClientFactory = default_client,
) -> int:
    """Send every reply that is due; returns how many were sent."""
    settings = settings or get_settings()
    now = clock.now()
    fail_stale(db, now)
    with db.reader() as session:
        ids = due_ids(session, now)
    sent = 0
    for message_id in ids:
        if not _claim(db, message_id, now):
            continue  # another worker has it, or it was undone meanwhile
        outcome = _publish(db, message_id, settings, client_factory)
        if outcome.error is not None:
            log.warning("care reply %s not sent: %s", message_id, outcome.error)
        if _record(db, message_id, outcome, clock.now(), settings.care_max_send_attempts) == SENT:
            sent += 1
    return sent
