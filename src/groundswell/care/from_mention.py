"""From a listening mention to a care conversation, on a person's request (the "Open a care
conversation" action of the mention page, and its API twin).

The mention is taken exactly as the `MentionMatched` handler takes one (`routing.take_mention`:
it joins the conversation of its thread or author, else opens one with the routing rules'
team, assignee, priority and tags), except that a conversation is opened even where routing
would have left the post in listening: a person asked for it. A mention already in a
conversation leads to that conversation and changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from groundswell.care import routing
from groundswell.care.access import frozen_at
from groundswell.care.tables import CareConversation
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.errors import Conflict
from groundswell.kernel.settings import Settings
from groundswell.listening.views_mention import get_mention

AUDIT_ACTION = "care.conversation.from_mention"


@dataclass(frozen=True, slots=True)
class FromMention:
    conversation: CareConversation
    taken: bool  # the mention joined (or opened) the conversation now


def open_from_mention(
    session: Session, actor: Actor, mention_id: int, *, now: datetime, settings: Settings
) -> FromMention:
    """The conversation holding the mention, taking the mention into care first if no
    conversation holds it yet (audited). Needs `content:write`; NotFound for a mention of
    another organization (its existence is not revealed)."""
    actor.require(Permission.CONTENT_WRITE)
    mention = get_mention(session, actor, mention_id)
    held = routing.conversation_holding(session, actor.organization_id, mention.id)
    if held is not None:
        return FromMention(held, taken=False)
    message = routing.take_mention(session, mention, now=now, settings=settings, force=True)
    conversation = (
        session.get(CareConversation, message.conversation_id) if message is not None else None
    )
    if message is None or conversation is None:  # only if the mention is being taken elsewhere
        raise Conflict("The mention is being added to a conversation; try again.")
    audit.record(
        session,
        actor.audit,
        AUDIT_ACTION,
        "care_conversation",
        conversation.id,
        after={"mention_id": mention.id, "message_id": message.id},
        clock=frozen_at(now),
    )
    return FromMention(conversation, taken=True)
