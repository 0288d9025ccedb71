"""crisis: incidents, playbooks, crisis mode, statements, reviews, drills

Revision ID: a119a0a3ed61
Revises: c000060e5f82
Create Date: 2026-11-23 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a119a0a3ed61"
down_revision: str | None = "c000060e5f82"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crisis_alert",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("observed", sa.Float(), nullable=False),
        sa.Column("expected", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("window_minutes", sa.Integer(), nullable=False),
        sa.Column("why", sa.JSON(), nullable=False),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_alert_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_alert")),
        sa.UniqueConstraint(
            "organization_id", "topic", "metric", "at", name=op.f("uq_crisis_alert_organization_id")
        ),
    )
    op.create_index(op.f("ix_crisis_alert_at"), "crisis_alert", ["at"], unique=False)
    op.create_index(
        op.f("ix_crisis_alert_organization_id"), "crisis_alert", ["organization_id"], unique=False
    )
    op.create_table(
        "crisis_detector_cursor",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("closed_until", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_detector_cursor_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "stream", name=op.f("pk_crisis_detector_cursor")
        ),
    )
    op.create_table(
        "crisis_stakeholder",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=False),
        sa.Column("webhook_secret", sa.String(length=200), nullable=False),
        sa.Column("min_severity", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_stakeholder_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_stakeholder")),
    )
    op.create_index(
        op.f("ix_crisis_stakeholder_organization_id"),
        "crisis_stakeholder",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "crisis_drill",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("posts", sa.Integer(), nullable=False),
        sa.Column("started_by", sa.String(length=36), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_drill_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["started_by"],
            ["user_account.id"],
            name=op.f("fk_crisis_drill_started_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_drill")),
        sa.UniqueConstraint("source", name=op.f("uq_crisis_drill_source")),
    )
    op.create_index(
        op.f("ix_crisis_drill_organization_id"), "crisis_drill", ["organization_id"], unique=False
    )
    op.create_table(
        "crisis_incident",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("is_drill", sa.Boolean(), nullable=False),
        sa.Column("alert_id", sa.String(length=36), nullable=True),
        sa.Column("playbook", sa.String(length=80), nullable=False),
        sa.Column("opened_by", sa.String(length=36), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_update_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_for", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["crisis_alert.id"],
            name=op.f("fk_crisis_incident_alert_id_crisis_alert"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"],
            ["user_account.id"],
            name=op.f("fk_crisis_incident_opened_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_incident_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_incident")),
    )
    op.create_index(
        op.f("ix_crisis_incident_alert_id"), "crisis_incident", ["alert_id"], unique=False
    )
    op.create_index(
        op.f("ix_crisis_incident_opened_at"), "crisis_incident", ["opened_at"], unique=False
    )
    op.create_index(
        op.f("ix_crisis_incident_organization_id"),
        "crisis_incident",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "crisis_incident_role",
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["crisis_incident.id"],
            name=op.f("fk_crisis_incident_role_incident_id_crisis_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_crisis_incident_role_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "role", name=op.f("pk_crisis_incident_role")),
    )
    op.create_index(
        op.f("ix_crisis_incident_role_user_id"), "crisis_incident_role", ["user_id"], unique=False
    )
    op.create_table(
        "crisis_incident_step",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("owner_role", sa.String(length=40), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["done_by"],
            ["user_account.id"],
            name=op.f("fk_crisis_incident_step_done_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["crisis_incident.id"],
            name=op.f("fk_crisis_incident_step_incident_id_crisis_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_incident_step")),
    )
    op.create_index(
        op.f("ix_crisis_incident_step_incident_id"),
        "crisis_incident_step",
        ["incident_id"],
        unique=False,
    )
    op.create_table(
        "crisis_review",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("what_happened", sa.Text(), nullable=False),
        sa.Column("went_well", sa.Text(), nullable=False),
        sa.Column("to_improve", sa.Text(), nullable=False),
        sa.Column("action_items", sa.JSON(), nullable=False),
        sa.Column("share_token_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["crisis_incident.id"],
            name=op.f("fk_crisis_review_incident_id_crisis_incident"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_review_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_review")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_crisis_review_incident_id")),
        sa.UniqueConstraint("share_token_hash", name=op.f("uq_crisis_review_share_token_hash")),
    )
    op.create_index(
        op.f("ix_crisis_review_organization_id"), "crisis_review", ["organization_id"], unique=False
    )
    op.create_table(
        "crisis_statement",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("incident_id", sa.String(length=36), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approval_request_id", sa.String(length=36), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_crisis_statement_created_by_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["crisis_incident.id"],
            name=op.f("fk_crisis_statement_incident_id_crisis_incident"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_crisis_statement_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_statement")),
    )
    op.create_index(
        op.f("ix_crisis_statement_incident_id"), "crisis_statement", ["incident_id"], unique=False
    )
    op.create_index(
        op.f("ix_crisis_statement_organization_id"),
        "crisis_statement",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "crisis_timeline",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("incident_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("actor_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_crisis_timeline_actor_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["crisis_incident.id"],
            name=op.f("fk_crisis_timeline_incident_id_crisis_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_timeline")),
    )
    op.create_index(
        op.f("ix_crisis_timeline_incident_id"), "crisis_timeline", ["incident_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_crisis_timeline_incident_id"), table_name="crisis_timeline")
    op.drop_table("crisis_timeline")
    op.drop_index(op.f("ix_crisis_statement_organization_id"), table_name="crisis_statement")
    op.drop_index(op.f("ix_crisis_statement_incident_id"), table_name="crisis_statement")
    op.drop_table("crisis_statement")
    op.drop_index(op.f("ix_crisis_review_organization_id"), table_name="crisis_review")
    op.drop_table("crisis_review")
    op.drop_index(op.f("ix_crisis_incident_step_incident_id"), table_name="crisis_incident_step")
    op.drop_table("crisis_incident_step")
    op.drop_index(op.f("ix_crisis_incident_role_user_id"), table_name="crisis_incident_role")
    op.drop_table("crisis_incident_role")
    op.drop_index(op.f("ix_crisis_incident_organization_id"), table_name="crisis_incident")
    op.drop_index(op.f("ix_crisis_incident_opened_at"), table_name="crisis_incident")
    op.drop_index(op.f("ix_crisis_incident_alert_id"), table_name="crisis_incident")
    op.drop_table("crisis_incident")
    op.drop_index(op.f("ix_crisis_drill_organization_id"), table_name="crisis_drill")
    op.drop_table("crisis_drill")
    op.drop_index(op.f("ix_crisis_stakeholder_organization_id"), table_name="crisis_stakeholder")
    op.drop_table("crisis_stakeholder")
    op.drop_table("crisis_detector_cursor")
    op.drop_index(op.f("ix_crisis_alert_organization_id"), table_name="crisis_alert")
    op.drop_index(op.f("ix_crisis_alert_at"), table_name="crisis_alert")
    op.drop_table("crisis_alert")
