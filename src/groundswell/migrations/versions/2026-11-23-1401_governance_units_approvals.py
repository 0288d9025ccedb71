"""governance: units, memberships, coordination model setting, approvals

Revision ID: 12a9c2b9a955
Revises: c9248a4fa089
Create Date: 2026-11-23 14:01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "12a9c2b9a955"
down_revision: str | None = "c9248a4fa089"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "governance_unit",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_governance_unit_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_unit")),
        sa.UniqueConstraint(
            "organization_id", "key", name=op.f("uq_governance_unit_organization_id")
        ),
    )
    with op.batch_alter_table("governance_unit", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_unit_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "approval_request",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=36), nullable=True),
        sa.Column("requester_label", sa.String(length=320), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("subject_type", sa.String(length=60), nullable=False),
        sa.Column("subject_id", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("context", sa.JSON(), nullable=False),
        sa.Column("approvals_needed", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_approval_request_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["user_account.id"],
            name=op.f("fk_approval_request_requester_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_request")),
    )
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_request_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            "ix_approval_request_org_status",
            ["organization_id", "status", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_approval_request_requester_id"), ["requester_id"], unique=False
        )
        batch_op.create_index(
            "ix_approval_request_subject",
            ["organization_id", "subject_type", "subject_id"],
            unique=False,
        )

    op.create_table(
        "governance_settings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("model_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("model_changed_by", sa.String(length=36), nullable=True),
        sa.Column("crisis_mode", sa.Boolean(), nullable=False),
        sa.Column("crisis_reason", sa.Text(), nullable=False),
        sa.Column("crisis_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("crisis_changed_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["crisis_changed_by"],
            ["user_account.id"],
            name=op.f("fk_governance_settings_crisis_changed_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_changed_by"],
            ["user_account.id"],
            name=op.f("fk_governance_settings_model_changed_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_governance_settings_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_settings")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_governance_settings_organization_id")),
    )
    op.create_table(
        "governance_unit_member",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("unit_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_governance_unit_member_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["governance_unit.id"],
            name=op.f("fk_governance_unit_member_unit_id_governance_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_governance_unit_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_unit_member")),
        sa.UniqueConstraint("unit_id", "user_id", name=op.f("uq_governance_unit_member_unit_id")),
    )
    with op.batch_alter_table("governance_unit_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_governance_unit_member_organization_id"),
            ["organization_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_governance_unit_member_unit_id"), ["unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_governance_unit_member_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "approval_vote",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("approver_id", sa.String(length=36), nullable=True),
        sa.Column("approver_label", sa.String(length=320), nullable=False),
        sa.Column("verdict", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approver_id"],
            ["user_account.id"],
            name=op.f("fk_approval_vote_approver_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_approval_vote_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["approval_request.id"],
            name=op.f("fk_approval_vote_request_id_approval_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_vote")),
        sa.UniqueConstraint("request_id", "approver_id", name=op.f("uq_approval_vote_request_id")),
    )
    with op.batch_alter_table("approval_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_approval_vote_approver_id"), ["approver_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_approval_vote_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_approval_vote_request_id"), ["request_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("approval_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approval_vote_request_id"))
        batch_op.drop_index(batch_op.f("ix_approval_vote_organization_id"))
        batch_op.drop_index(batch_op.f("ix_approval_vote_approver_id"))

    op.drop_table("approval_vote")
    with op.batch_alter_table("governance_unit_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_unit_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_governance_unit_member_unit_id"))
        batch_op.drop_index(batch_op.f("ix_governance_unit_member_organization_id"))

    op.drop_table("governance_unit_member")
    op.drop_table("governance_settings")
    with op.batch_alter_table("approval_request", schema=None) as batch_op:
        batch_op.drop_index("ix_approval_request_subject")
        batch_op.drop_index(batch_op.f("ix_approval_request_requester_id"))
        batch_op.drop_index("ix_approval_request_org_status")
        batch_op.drop_index(batch_op.f("ix_approval_request_expires_at"))

    op.drop_table("approval_request")
    with op.batch_alter_table("governance_unit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_governance_unit_organization_id"))

    op.drop_table("governance_unit")
