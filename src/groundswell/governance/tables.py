"""Governance tables: the brand-account registry, its admins and its encrypted credentials;
the coordination settings, units and approvals.

Secrets live only as Fernet ciphertext in `account_credential.ciphertext`; the keys never
touch the database (see `governance/vault.py`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from groundswell.kernel.db import Base, UTCDateTime, new_id


class BrandAccount(Base):
    """An account the organization runs on a social network.

    `handle_key` is the handle folded for comparison (lower case, no leading @): one
    organization cannot register the same handle twice on one network. A personal-brand
    account names the employee it belongs to (`employee_id`) and the ownership agreement."""

    __tablename__ = "brand_account"
    __table_args__ = (UniqueConstraint("organization_id", "network", "handle_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    network: Mapped[str] = mapped_column(String(50))
    handle: Mapped[str] = mapped_column(String(200))
    handle_key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(500), default="")
    unit: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    business_owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    employee_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    ownership_agreement: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountAdmin(Base):
    """A user who administers a brand account (can log in to it, manages its access)."""

    __tablename__ = "brand_account_admin"
    __table_args__ = (UniqueConstraint("account_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("brand_account.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AccountCredential(Base):
    """One named secret of a brand account (password, API token, recovery codes...).

    `ciphertext` is a Fernet token; the plain value is never stored, logged or shown again.
    `custodian_id` is the person answerable for the secret (who set it, or who received it in
    a hand-over); `needs_rotation` flags a secret that someone who left may still know."""

    __tablename__ = "account_credential"
    __table_args__ = (UniqueConstraint("account_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(
        ForeignKey("brand_account.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    ciphertext: Mapped[str] = mapped_column(Text)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())
    set_by_label: Mapped[str] = mapped_column(String(320))
    custodian_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    needs_rotation: Mapped[bool] = mapped_column(Boolean, default=False)
    rotation_reason: Mapped[str | None] = mapped_column(String(500))


# ---------------------------------------------------------------- coordination and approvals


class GovernanceSettings(Base):
    """The organization's coordination model and crisis-mode flag (one row per organization;
    absent means the defaults: empowered units, no crisis)."""

    __tablename__ = "governance_settings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), unique=True
    )
    model: Mapped[str] = mapped_column(String(40))
    model_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    model_changed_by: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    crisis_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    crisis_reason: Mapped[str] = mapped_column(Text, default="")
    crisis_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    crisis_changed_by: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )


class Unit(Base):
    """The hub, a business unit or a region. `key` is the short name decisions and brand
    accounts refer to (the hub's is always "hub")."""

    __tablename__ = "governance_unit"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(60))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # hub | business_unit | region
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class UnitMember(Base):
    """A person's role in one unit (never above their organization role when it counts)."""

    __tablename__ = "governance_unit_member"
    __table_args__ = (UniqueConstraint("unit_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    unit_id: Mapped[str] = mapped_column(
        ForeignKey("governance_unit.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(20))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApprovalRequestRow(Base):
    """Someone asked to take an action that waits for approvals by others.

    `context` is the governance `Context` the decision was made in (model, units, findings,
    crisis), kept so that approvers are judged by the rules the request was made under.
    `status`: pending, approved, rejected, expired or withdrawn."""

    __tablename__ = "approval_request"
    __table_args__ = (
        Index("ix_approval_request_org_status", "organization_id", "status", "created_at"),
        Index("ix_approval_request_subject", "organization_id", "subject_type", "subject_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    requester_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    requester_label: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any]] = mapped_column(JSON)
    approvals_needed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ApprovalVote(Base):
    """One approver's verdict on a request (approve or reject) with their comment."""

    __tablename__ = "approval_vote"
    __table_args__ = (UniqueConstraint("request_id", "approver_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    request_id: Mapped[str] = mapped_column(
        ForeignKey("approval_request.id", ondelete="CASCADE"), index=True
    )
    approver_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    approver_label: Mapped[str] = mapped_column(String(320))
    verdict: Mapped[str] = mapped_column(String(10))  # approve | reject
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
