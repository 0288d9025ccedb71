"""Governance tables: the brand-account registry, its admins and its encrypted credentials.

Secrets live only as Fernet ciphertext in `account_credential.ciphertext`; the keys never
touch the database (see `governance/vault.py`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
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
