"""governance: policy versions, guidelines attestation and quiz

Revision ID: 1f85f57d6bfe
Revises: 12a9c2b9a955
Create Date: 2026-11-23 14:02:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1f85f57d6bfe"
down_revision: str | None = "12a9c2b9a955"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_version",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("major", sa.Integer(), nullable=False),
        sa.Column("minor", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("author_label", sa.String(length=320), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_policy_version_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_policy_version_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_version")),
        sa.UniqueConstraint(
            "organization_id", "major", "minor", name=op.f("uq_policy_version_organization_id")
        ),
    )
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_policy_version_author_id"), ["author_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_policy_version_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "guidelines_attestation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("policy_major", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(length=20), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("attested_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_guidelines_attestation_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_guidelines_attestation_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guidelines_attestation")),
        sa.UniqueConstraint(
            "user_id", "policy_major", name=op.f("uq_guidelines_attestation_user_id")
        ),
    )
    with op.batch_alter_table("guidelines_attestation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_guidelines_attestation_organization_id"),
            ["organization_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_guidelines_attestation_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "policy_draft",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author_id", sa.String(length=36), nullable=True),
        sa.Column("author_label", sa.String(length=320), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.String(length=20), nullable=True),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_policy_draft_author_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_policy_draft_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_draft")),
    )
    with op.batch_alter_table("policy_draft", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policy_draft_author_id"), ["author_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_policy_draft_organization_id"), ["organization_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("policy_draft", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_draft_organization_id"))
        batch_op.drop_index(batch_op.f("ix_policy_draft_author_id"))
    op.drop_table("policy_draft")
    with op.batch_alter_table("guidelines_attestation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guidelines_attestation_user_id"))
        batch_op.drop_index(batch_op.f("ix_guidelines_attestation_organization_id"))
    op.drop_table("guidelines_attestation")
    with op.batch_alter_table("policy_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policy_version_organization_id"))
        batch_op.drop_index(batch_op.f("ix_policy_version_author_id"))
    op.drop_table("policy_version")
