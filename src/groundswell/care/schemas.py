"""Care's JSON shapes, shared by the API and the CLI's `--json`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care.tables import (
    CareConversation,
    CareCustomer,
    CareCustomerIdentity,
    CareMessage,
    CareRoutingRule,
    CareSavedReply,
    CareSlaPolicy,
    CareTeam,
    CareTeamMember,
)
from groundswell.identity.tables import User


class Person(BaseModel):
    id: str
    email: str
    name: str


class ConversationOut(BaseModel):
    id: str
    source: str
    channel: str = Field(
        description="public, or direct: a private conversation (direct messages) whose "
        "replies are sent privately."
    )
    status: str
    priority: int
    tags: list[str]
    language: str | None
    preview: str
    customer_id: str | None
    customer_name: str
    customer_handle: str
    assignee: Person | None
    team_id: str | None
    team: str | None
    suggested_reply_id: str | None
    created_at: datetime
    updated_at: datetime
    last_inbound_at: datetime | None
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    paused_at: datetime | None
    snoozed_until: datetime | None
    sla_target: str | None
    sla_due_at: datetime | None
    sla_warned_at: datetime | None
    sla_breached_at: datetime | None


class ConversationList(BaseModel):
    items: list[ConversationOut]
    next_cursor: str | None


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    direction: str
    author_user_id: str | None
    author_label: str
    text: str
    created_at: datetime
    mention_id: int | None
    external_id: str | None
    in_reply_to: str | None
    url: str | None
    delivery_status: str | None
    send_after: datetime | None
    sent_at: datetime | None
    attempts: int
    error: str | None
    approval_request_id: str | None
    mentioned_user_ids: list[str]


class IdentityOut(BaseModel):
    source: str
    handle: str


class CustomerOut(BaseModel):
    id: str
    name: str
    followers: int | None
    notes: str
    merged_into_id: str | None
    identities: list[IdentityOut]


class ConversationDetail(BaseModel):
    conversation: ConversationOut
    customer: CustomerOut | None
    messages: list[MessageOut]


class TeamOut(BaseModel):
    id: str
    name: str
    timezone: str
    business_hours: str
    holidays: list[str]
    languages: list[str]
    assignment: str
    escalation: str
    lead_id: str | None


class MemberOut(BaseModel):
    user_id: str
    capacity: int
    languages: list[str]
    available: bool
    last_assigned_at: datetime | None


class PolicyOut(BaseModel):
    id: str
    name: str
    team_id: str | None
    min_priority: int
    first_response_minutes: int
    next_response_minutes: int
    resolution_minutes: int


class RuleOut(BaseModel):
    id: str
    position: int
    name: str
    conditions: dict[str, Any]
    actions: dict[str, Any]
    active: bool


class SavedReplyOut(BaseModel):
    id: str
    name: str
    shortcut: str
    body: str


# --- inputs -----------------------------------------------------------------------------------


class AssignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee_id: str | None = Field(default=None, description="A user id; null unassigns.")


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str = Field(examples=["pending_customer"])
    snooze_until: datetime | None = None


class TextIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=10_000)


class ConversationPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    priority: int | None = Field(default=None, ge=0, le=100)
    tags: list[str] | None = Field(default=None, max_length=50)
    team_id: str | None = Field(default=None, description='A team id; "" removes the team.')


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(default="UTC", min_length=1, max_length=64)
    business_hours: str = Field(default="mon-fri 09:00-17:00", min_length=1, max_length=500)
    holidays: list[str] = Field(default_factory=list, max_length=400)
    languages: list[str] = Field(default_factory=list, max_length=50)
    assignment: str = Field(default="round_robin", max_length=20)
    escalation: str = Field(default="notify", max_length=20)
    lead: str | None = Field(
        default=None, max_length=320, description="Email or id of the team lead."
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    capacity: int = Field(default=10, ge=0, le=1000)
    languages: list[str] = Field(default_factory=list, max_length=50)
    available: bool = True


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=200)
    team: str | None = Field(
        default=None, max_length=200, description="Team id or name; null: the default."
    )
    min_priority: int = Field(default=0, ge=0, le=100)
    first_response_minutes: int = Field(ge=1)
    next_response_minutes: int = Field(ge=1)
    resolution_minutes: int = Field(ge=1)


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    conditions: dict[str, Any] = Field(default_factory=dict)
    actions: dict[str, Any] = Field(default_factory=dict)
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    active: bool = True


class SavedReplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=5000)
    shortcut: str = Field(default="", max_length=50)


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    into: str = Field(description="The id of the customer that stays.")


# --- conversions ------------------------------------------------------------------------------


def _people(session: Session, ids: Sequence[str | None]) -> dict[str, Person]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return {
        u.id: Person(id=u.id, email=u.email, name=u.name)
        for u in session.scalars(select(User).where(User.id.in_(wanted)))
    }


def _teams(session: Session, ids: Sequence[str | None]) -> dict[str, str]:
    wanted = sorted({i for i in ids if i})
    if not wanted:
        return {}
    return dict(
        session.execute(select(CareTeam.id, CareTeam.name).where(CareTeam.id.in_(wanted))).all()
    )


def conversations_out(session: Session, rows: Sequence[CareConversation]) -> list[ConversationOut]:
    """Conversations with their assignee and team names (two queries for the whole page)."""
    people = _people(session, [r.assignee_id for r in rows])
    teams = _teams(session, [r.team_id for r in rows])
    return [
        ConversationOut(
            id=r.id,
            source=r.source,
            channel=r.channel,
            status=r.status,
            priority=r.priority,
            tags=list(r.tags or []),
            language=r.language,
            preview=r.preview,
            customer_id=r.customer_id,
            customer_name=r.customer_name,
            customer_handle=r.customer_handle,
            assignee=people.get(r.assignee_id) if r.assignee_id else None,
            team_id=r.team_id,
            team=teams.get(r.team_id) if r.team_id else None,
            suggested_reply_id=r.suggested_reply_id,
            created_at=r.created_at,
            updated_at=r.updated_at,
            last_inbound_at=r.last_inbound_at,
            first_response_due_at=r.first_response_due_at,
            next_response_due_at=r.next_response_due_at,
            resolution_due_at=r.resolution_due_at,
            first_responded_at=r.first_responded_at,
            resolved_at=r.resolved_at,
            paused_at=r.paused_at,
            snoozed_until=r.snoozed_until,
            sla_target=r.sla_target,
            sla_due_at=r.sla_due_at,
            sla_warned_at=r.sla_warned_at,
            sla_breached_at=r.sla_breached_at,
        )
        for r in rows
    ]


def message_out(m: CareMessage) -> MessageOut:
    return MessageOut(
        id=m.id,
        conversation_id=m.conversation_id,
        direction=m.direction,
        author_user_id=m.author_user_id,
        author_label=m.author_label,
        text=m.text,
        created_at=m.created_at,
        mention_id=m.mention_id,
        external_id=m.external_id,
        in_reply_to=m.in_reply_to,
        url=m.url,
        delivery_status=m.delivery_status,
        send_after=m.send_after,
        sent_at=m.sent_at,
        attempts=m.attempts,
        error=m.error,
        approval_request_id=m.approval_request_id,
        mentioned_user_ids=list(m.mentioned_user_ids or []),
    )


def customer_out(session: Session, c: CareCustomer) -> CustomerOut:
    identities = session.scalars(
        select(CareCustomerIdentity)
        .where(CareCustomerIdentity.customer_id == c.id)
        .order_by(CareCustomerIdentity.source, CareCustomerIdentity.handle_key)
    ).all()
    return CustomerOut(
        id=c.id,
        name=c.name,
        followers=c.followers,
        notes=c.notes,
        merged_into_id=c.merged_into_id,
        identities=[IdentityOut(source=i.source, handle=i.handle) for i in identities],
    )


def team_out(t: CareTeam) -> TeamOut:
    return TeamOut(
        id=t.id,
        name=t.name,
        timezone=t.timezone,
        business_hours=t.business_hours,
        holidays=list(t.holidays or []),
        languages=list(t.languages or []),
        assignment=t.assignment,
        escalation=t.escalation,
        lead_id=t.lead_id,
    )


def member_out(m: CareTeamMember) -> MemberOut:
    return MemberOut(
        user_id=m.user_id,
        capacity=m.capacity,
        languages=list(m.languages or []),
        available=m.available,
        last_assigned_at=m.last_assigned_at,
    )


def policy_out(p: CareSlaPolicy) -> PolicyOut:
    return PolicyOut(
        id=p.id,
        name=p.name,
        team_id=p.team_id,
        min_priority=p.min_priority,
        first_response_minutes=p.first_response_minutes,
        next_response_minutes=p.next_response_minutes,
        resolution_minutes=p.resolution_minutes,
    )


def rule_out(r: CareRoutingRule) -> RuleOut:
    return RuleOut(
        id=r.id,
        position=r.position,
        name=r.name,
        conditions=dict(r.conditions or {}),
        actions=dict(r.actions or {}),
        active=r.active,
    )


def saved_reply_out(s: CareSavedReply) -> SavedReplyOut:
    return SavedReplyOut(id=s.id, name=s.name, shortcut=s.shortcut, body=s.body)


def detail(
    session: Session, conversation: CareConversation, messages: Sequence[CareMessage]
) -> ConversationDetail:
    customer = (
        session.get(CareCustomer, conversation.customer_id) if conversation.customer_id else None
    )
    return ConversationDetail(
        conversation=conversations_out(session, [conversation])[0],
        customer=customer_out(session, customer) if customer else None,
        messages=[message_out(m) for m in messages],
    )
