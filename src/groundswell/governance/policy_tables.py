"""Governance tables for the social media policy: its stored versions per organization and the
guidelines attestations people give after passing the training quiz."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from groundswell.kernel.db import Base, UTCDateTime, new_id


class PolicyVersion(Base):
    """One saved version of an organization's policy: `major.minor`, the JSON document
    (validated by `parse_policy` before it is stored), who saved it and why.

    A new major version asks everyone to attest to the guidelines again; a minor one does not.
    `author_label` keeps the author's e-mail as it was, so the history reads the same after the
    account is deleted."""

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("organization_id", "major", "minor"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    major: Mapped[int] = mapped_column(Integer)
    minor: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    author_label: Mapped[str] = mapped_column(String(320))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


class GuidelinesAttestation(Base):
    """A person read the guidelines and passed the quiz for one major policy version."""

    __tablename__ = "guidelines_attestation"
    __table_args__ = (UniqueConstraint("user_id", "policy_major"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    policy_major: Mapped[int] = mapped_column(Integer)
    policy_version: Mapped[str] = mapped_column(String(20))
    score: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PolicyDraft(Base):
    """A policy change proposed by someone whose saves need approval (a hub manager outside
    command and control). It becomes a `PolicyVersion` when the approval request for it is
    granted; `status` is pending, applied, rejected, expired or withdrawn."""

    __tablename__ = "policy_draft"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    document: Mapped[str] = mapped_column(Text)
    major: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    author_id: Mapped[str | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    author_label: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(20))
    version: Mapped[str | None] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
