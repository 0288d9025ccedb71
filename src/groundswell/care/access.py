"""Loading what an actor may see: conversations, messages, customers (the `access_*`
functions are the only way to load one on a person's behalf), plus the small shared helpers
of the care services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care.tables import CareConversation, CareCustomer, CareMessage
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import NotFound


def conversation_link(conversation_id: str) -> str:
    return f"/care/conversations/{conversation_id}"


def frozen_at(now: datetime) -> FrozenClock:
    return FrozenClock(now)


def snapshot(c: CareConversation) -> dict[str, Any]:
    """The audited fields of a conversation."""
    return {
        "status": c.status,
        "assignee_id": c.assignee_id,
        "team_id": c.team_id,
        "priority": c.priority,
        "tags": list(c.tags or []),
    }


def access_conversation(session: Session, actor: Actor, conversation_id: str) -> CareConversation:
    """The conversation if it belongs to the actor's organization; NotFound otherwise (also
    for other organizations' ids: their existence is not revealed)."""
    actor.require(Permission.ORG_READ)
    row = session.get(CareConversation, conversation_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound(f"No conversation {conversation_id!r}.")
    return row


def messages(session: Session, actor: Actor, conversation_id: str) -> list[CareMessage]:
    """The conversation's messages and notes, oldest first."""
    conversation = access_conversation(session, actor, conversation_id)
    return list(
        session.scalars(
            select(CareMessage)
            .where(CareMessage.conversation_id == conversation.id)
            .order_by(CareMessage.created_at, CareMessage.id)
        )
    )


def access_message(session: Session, actor: Actor, message_id: str) -> CareMessage:
    actor.require(Permission.ORG_READ)
    row = session.get(CareMessage, message_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound(f"No message {message_id!r}.")
    return row


def access_customer(session: Session, actor: Actor, customer_id: str) -> CareCustomer:
    actor.require(Permission.ORG_READ)
    row = session.get(CareCustomer, customer_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound(f"No customer {customer_id!r}.")
    return row
