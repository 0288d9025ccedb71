"""Crisis tables: live alerts, incidents (roles, checklist, timeline), holding statements,
stakeholders, blameless reviews, drills, and the live detector's cursor.

Drills are marked with `is_drill` on alerts and incidents so that every view can badge them and
every metric can leave them out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from groundswell.kernel.db import Base, UTCDateTime, new_id

BigId = BigInteger().with_variant(Integer(), "sqlite")


class CrisisAlert(Base):
    """One alert of the live detector. `topic` is "" for the overall stream. Unique per
    (organization, topic, metric, at): the job never stores one bucket's alert twice."""

    __tablename__ = "crisis_alert"
    __table_args__ = (UniqueConstraint("organization_id", "topic", "metric", "at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    topic: Mapped[str] = mapped_column(String(200), default="")
    metric: Mapped[str] = mapped_column(String(32))
    observed: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    window_minutes: Mapped[int] = mapped_column(Integer)
    why: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CrisisDetectorCursor(Base):
    """The end of the last bucket the live detector closed, per organization and stream
    (``live`` or a drill's source); moved by compare-and-set so two workers never both run
    the same buckets."""

    __tablename__ = "crisis_detector_cursor"

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    closed_until: Mapped[datetime] = mapped_column(UTCDateTime())


class Incident(Base):
    __tablename__ = "crisis_incident"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), default="open")
    summary: Mapped[str] = mapped_column(Text, default="")
    is_drill: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_id: Mapped[str | None] = mapped_column(
        ForeignKey("crisis_alert.id", ondelete="SET NULL"), index=True
    )
    playbook: Mapped[str] = mapped_column(String(80), default="")
    opened_by: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_update_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The status-update deadline a reminder was last sent for (one reminder per deadline).
    reminded_for: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IncidentRole(Base):
    __tablename__ = "crisis_incident_role"

    incident_id: Mapped[str] = mapped_column(
        ForeignKey("crisis_incident.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentStep(Base):
    """A checklist step from the playbook (or added by hand)."""

    __tablename__ = "crisis_incident_step"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("crisis_incident.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    owner_role: Mapped[str] = mapped_column(String(40))
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    done_by: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class TimelineEntry(Base):
    """One line of an incident's timeline: written by the service as things happen (kind
    alert, opened, role, step, update, statement, mode, closed...) or by hand (kind note)."""

    __tablename__ = "crisis_timeline"

    # An integer key: entries of the same instant keep the order they were written in.
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("crisis_incident.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[str | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))


class HoldingStatement(Base):
    """A prepared public statement: draft → pending (approval requested) → approved or
    rejected. `incident_id` ties it to an incident; library statements have none."""

    __tablename__ = "crisis_statement"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[str | None] = mapped_column(
        ForeignKey("crisis_incident.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_by: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approval_request_id: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Stakeholder(Base):
    """Who hears about incidents of at least `min_severity`: an email address and/or a
    webhook (signed with `webhook_secret`)."""

    __tablename__ = "crisis_stakeholder"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), default="")
    webhook_url: Mapped[str] = mapped_column(String(500), default="")
    webhook_secret: Mapped[str] = mapped_column(String(200), default="")
    min_severity: Mapped[str] = mapped_column(String(8), default="sev4")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Review(Base):
    """The blameless review a closed incident opens. `share_token_hash` is the SHA-256 of the
    read-only link's token (shown once)."""

    __tablename__ = "crisis_review"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    incident_id: Mapped[str] = mapped_column(
        ForeignKey("crisis_incident.id", ondelete="CASCADE"), unique=True
    )
    what_happened: Mapped[str] = mapped_column(Text, default="")
    went_well: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    action_items: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    share_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Drill(Base):
    """A practice crisis: posts of a fake-connector scenario stored as mentions of the source
    `source` (``drill-...``), detected on their own stream, everything it raises marked."""

    __tablename__ = "crisis_drill"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(50), unique=True)
    topic: Mapped[str] = mapped_column(String(200))
    posts: Mapped[int] = mapped_column(Integer, default=0)
    started_by: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
