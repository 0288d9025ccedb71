"""Care tables: teams and their people, SLA policies, customers, conversations and their
messages, routing rules, saved replies, CSAT answers and outgoing webhooks.

A conversation carries its SLA clock denormalized: `sla_target` names the deadline that counts
now (first_response, next_response or resolution), `sla_due_at` / `sla_warn_at` are its due
and 75 % instants (both indexed, so the `care.sla` job and the "breaching" view are index
range scans), and `sla_warned_at` / `sla_breached_at` record that the job acted on *that*
target (they are cleared when the target changes). While `paused_at` is set (pending the
customer) the clock stands still; resuming pushes every due instant forward by the business
time that passed (see `care/sla.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from groundswell.kernel.db import Base, UTCDateTime, new_id
from groundswell.listening.tables import BigId


def _org() -> Mapped[str]:
    return mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)


class CareTeam(Base):
    """A team answering conversations in its business hours (`care sla due --hours` syntax),
    time zone and holidays (ISO dates). `assignment` is `round_robin`, `load` or `manual`;
    `escalation` is what a breach does: `reassign` to the lead, or `notify` the lead and the
    organization's managers."""

    __tablename__ = "care_team"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    business_hours: Mapped[str] = mapped_column(String(500), default="mon-fri 09:00-17:00")
    holidays: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignment: Mapped[str] = mapped_column(String(20), default="round_robin")
    escalation: Mapped[str] = mapped_column(String(20), default="notify")
    lead_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareTeamMember(Base):
    """A user in a team: how many open conversations they hold at most (`capacity`), the
    languages they answer in (empty: any), whether they take new work now (`available`), and
    when they were last given one (round robin)."""

    __tablename__ = "care_team_member"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    team_id: Mapped[str] = mapped_column(ForeignKey("care_team.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    capacity: Mapped[int] = mapped_column(Integer, default=10)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    last_assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CareSlaPolicy(Base):
    """Targets in business minutes for conversations of priority >= `min_priority` (the band
    with the highest `min_priority` not above the conversation's priority applies), for one
    team or, with `team_id` NULL, for every team without its own."""

    __tablename__ = "care_sla_policy"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    team_id: Mapped[str | None] = mapped_column(
        ForeignKey("care_team.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    min_priority: Mapped[int] = mapped_column(Integer, default=0)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    next_response_minutes: Mapped[int] = mapped_column(Integer)
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareCustomer(Base):
    """A person we talk to, across sources. A manual merge points `merged_into_id` at the
    surviving customer and moves the identities and conversations there."""

    __tablename__ = "care_customer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    name: Mapped[str] = mapped_column(String(200), default="")
    followers: Mapped[int | None] = mapped_column(Integer)
    notes: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[str | None] = mapped_column(
        ForeignKey("care_customer.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareCustomerIdentity(Base):
    """One handle of a customer on one source; `handle_key` is folded (lower case, no @)."""

    __tablename__ = "care_customer_identity"
    __table_args__ = (UniqueConstraint("organization_id", "source", "handle_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    customer_id: Mapped[str] = mapped_column(
        ForeignKey("care_customer.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(50))
    handle: Mapped[str] = mapped_column(String(200))
    handle_key: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareConversation(Base):
    """A thread of mentions and our replies: the unit of care work (see the module docstring
    for the SLA columns). `csat_token` is the customer's one-click rating link. `channel` is
    "direct" for a private conversation (direct messages): its replies are sent privately and
    it never groups with the same customer's public mentions."""

    __tablename__ = "care_conversation"
    __table_args__ = (
        Index("ix_care_conversation_org_updated", "organization_id", "updated_at", "id"),
        Index(
            "ix_care_conversation_org_status_updated",
            "organization_id",
            "status",
            "updated_at",
            "id",
        ),
        Index(
            "ix_care_conversation_org_assignee_updated",
            "organization_id",
            "assignee_id",
            "updated_at",
            "id",
        ),
        Index(
            "ix_care_conversation_org_team_updated",
            "organization_id",
            "team_id",
            "updated_at",
            "id",
        ),
        Index(
            "ix_care_conversation_org_channel_updated",
            "organization_id",
            "channel",
            "updated_at",
            "id",
        ),
        Index("ix_care_conversation_org_sla_due", "organization_id", "sla_due_at", "id"),
        Index("ix_care_conversation_sla_warn", "sla_warn_at"),
        Index("ix_care_conversation_sla_due", "sla_due_at"),
        Index("ix_care_conversation_thread", "organization_id", "source", "thread_key"),
        Index("ix_care_conversation_customer", "customer_id", "last_inbound_at"),
        UniqueConstraint("csat_token"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    thread_key: Mapped[str] = mapped_column(String(300))
    channel: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    customer_id: Mapped[str | None] = mapped_column(
        ForeignKey("care_customer.id", ondelete="SET NULL")
    )
    customer_name: Mapped[str] = mapped_column(String(200), default="")
    customer_handle: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(20), default="new")
    assignee_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    team_id: Mapped[str | None] = mapped_column(ForeignKey("care_team.id", ondelete="SET NULL"))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(16))
    preview: Mapped[str] = mapped_column(String(300), default="")
    suggested_reply_id: Mapped[str | None] = mapped_column(
        ForeignKey("care_saved_reply.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_outbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    next_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_target: Mapped[str | None] = mapped_column(String(20))
    sla_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_warn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sla_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    snoozed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    csat_token: Mapped[str | None] = mapped_column(String(64))


class CareMessage(Base):
    """One message of a conversation: an `inbound` mention, an `outbound` reply of ours, or
    an internal `note`. Replies move through `delivery_status` draft → awaiting_approval →
    queued → sending → sent | failed | cancelled; `send_after` is the end of the undo window
    and, after a failure, the next attempt. `external_id` is the network's id (of the mention
    for inbound messages, of our post once sent)."""

    __tablename__ = "care_message"
    __table_args__ = (
        UniqueConstraint("organization_id", "mention_id"),
        Index("ix_care_message_conversation_created", "conversation_id", "created_at", "id"),
        Index("ix_care_message_external", "organization_id", "external_id"),
        Index("ix_care_message_delivery", "delivery_status", "send_after"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("care_conversation.id", ondelete="CASCADE")
    )
    direction: Mapped[str] = mapped_column(String(10))
    mention_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("mention.id", ondelete="SET NULL")
    )
    author_user_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    author_label: Mapped[str] = mapped_column(String(320), default="")
    text: Mapped[str] = mapped_column(Text)
    mentioned_user_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    delivery_status: Mapped[str | None] = mapped_column(String(20))
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    external_id: Mapped[str | None] = mapped_column(String(200))
    in_reply_to: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    approval_request_id: Mapped[str | None] = mapped_column(String(36), index=True)


class CareRoutingRule(Base):
    """One routing rule: evaluated in `position` order; `conditions` and `actions` are JSON in
    the shapes of `care.rules.Conditions` / `care.rules.Actions`."""

    __tablename__ = "care_routing_rule"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(200))
    conditions: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    actions: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareSavedReply(Base):
    """A reusable answer; `body` may use `{customer.name}`, `{customer.handle}`,
    `{agent.name}`, `{conversation.source}` (see `render_saved_reply`)."""

    __tablename__ = "care_saved_reply"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    name: Mapped[str] = mapped_column(String(200))
    shortcut: Mapped[str] = mapped_column(String(50), default="")
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareCsat(Base):
    """A customer's satisfaction rating (1–5) of a resolved conversation, once."""

    __tablename__ = "care_csat"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("care_conversation.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CareWebhook(Base):
    """An outgoing signed webhook (e.g. a chat tool's incoming webhook) for care events.
    `secret_ciphertext` is the HMAC secret encrypted with the governance vault."""

    __tablename__ = "care_webhook"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = _org()
    url: Mapped[str] = mapped_column(String(1000))
    secret_ciphertext: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
