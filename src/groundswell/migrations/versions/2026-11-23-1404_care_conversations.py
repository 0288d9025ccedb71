"""care: conversations, messages, routing, SLA, CSAT

Revision ID: c000060e5f82
Revises: 80b455c3bc26
Create Date: 2026-11-23 14:04:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c000060e5f82"
down_revision: str | None = "80b455c3bc26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "care_customer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("followers", sa.Integer(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("merged_into_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["care_customer.id"],
            name=op.f("fk_care_customer_merged_into_id_care_customer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_customer_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_customer")),
    )
    op.create_index(
        op.f("ix_care_customer_organization_id"), "care_customer", ["organization_id"], unique=False
    )
    op.create_table(
        "care_routing_rule",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_routing_rule_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_routing_rule")),
    )
    op.create_index(
        op.f("ix_care_routing_rule_organization_id"),
        "care_routing_rule",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "care_saved_reply",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("shortcut", sa.String(length=50), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_saved_reply_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_saved_reply")),
    )
    op.create_index(
        op.f("ix_care_saved_reply_organization_id"),
        "care_saved_reply",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "care_webhook",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("url", sa.String(length=1000), nullable=False),
        sa.Column("secret_ciphertext", sa.Text(), nullable=False),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_webhook_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_webhook")),
    )
    op.create_index(
        op.f("ix_care_webhook_organization_id"), "care_webhook", ["organization_id"], unique=False
    )
    op.create_table(
        "care_customer_identity",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("handle", sa.String(length=200), nullable=False),
        sa.Column("handle_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["care_customer.id"],
            name=op.f("fk_care_customer_identity_customer_id_care_customer"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_customer_identity_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_customer_identity")),
        sa.UniqueConstraint(
            "organization_id",
            "source",
            "handle_key",
            name=op.f("uq_care_customer_identity_organization_id"),
        ),
    )
    op.create_index(
        op.f("ix_care_customer_identity_customer_id"),
        "care_customer_identity",
        ["customer_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_care_customer_identity_organization_id"),
        "care_customer_identity",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "care_team",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("business_hours", sa.String(length=500), nullable=False),
        sa.Column("holidays", sa.JSON(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("assignment", sa.String(length=20), nullable=False),
        sa.Column("escalation", sa.String(length=20), nullable=False),
        sa.Column("lead_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["user_account.id"],
            name=op.f("fk_care_team_lead_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_team_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_care_team_organization_id")),
    )
    op.create_index(op.f("ix_care_team_lead_id"), "care_team", ["lead_id"], unique=False)
    op.create_index(
        op.f("ix_care_team_organization_id"), "care_team", ["organization_id"], unique=False
    )
    op.create_table(
        "care_conversation",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("thread_key", sa.String(length=300), nullable=False),
        sa.Column("customer_id", sa.String(length=36), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=False),
        sa.Column("customer_handle", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assignee_id", sa.String(length=36), nullable=True),
        sa.Column("team_id", sa.String(length=36), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("preview", sa.String(length=300), nullable=False),
        sa.Column("suggested_reply_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_outbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_response_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paused_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_target", sa.String(length=20), nullable=True),
        sa.Column("sla_due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("csat_token", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["user_account.id"],
            name=op.f("fk_care_conversation_assignee_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["care_customer.id"],
            name=op.f("fk_care_conversation_customer_id_care_customer"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_conversation_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggested_reply_id"],
            ["care_saved_reply.id"],
            name=op.f("fk_care_conversation_suggested_reply_id_care_saved_reply"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["care_team.id"],
            name=op.f("fk_care_conversation_team_id_care_team"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_conversation")),
        sa.UniqueConstraint("csat_token", name=op.f("uq_care_conversation_csat_token")),
    )
    op.create_index(
        "ix_care_conversation_customer",
        "care_conversation",
        ["customer_id", "last_inbound_at"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_org_assignee_updated",
        "care_conversation",
        ["organization_id", "assignee_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_org_sla_due",
        "care_conversation",
        ["organization_id", "sla_due_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_org_status_updated",
        "care_conversation",
        ["organization_id", "status", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_org_team_updated",
        "care_conversation",
        ["organization_id", "team_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_org_updated",
        "care_conversation",
        ["organization_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_conversation_sla_due", "care_conversation", ["sla_due_at"], unique=False
    )
    op.create_index(
        "ix_care_conversation_sla_warn", "care_conversation", ["sla_warn_at"], unique=False
    )
    op.create_index(
        "ix_care_conversation_thread",
        "care_conversation",
        ["organization_id", "source", "thread_key"],
        unique=False,
    )
    op.create_table(
        "care_sla_policy",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("min_priority", sa.Integer(), nullable=False),
        sa.Column("first_response_minutes", sa.Integer(), nullable=False),
        sa.Column("next_response_minutes", sa.Integer(), nullable=False),
        sa.Column("resolution_minutes", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_sla_policy_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["care_team.id"],
            name=op.f("fk_care_sla_policy_team_id_care_team"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_sla_policy")),
    )
    op.create_index(
        op.f("ix_care_sla_policy_organization_id"),
        "care_sla_policy",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_care_sla_policy_team_id"), "care_sla_policy", ["team_id"], unique=False
    )
    op.create_table(
        "care_team_member",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("team_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("last_assigned_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_team_member_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["care_team.id"],
            name=op.f("fk_care_team_member_team_id_care_team"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_care_team_member_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_team_member")),
        sa.UniqueConstraint("team_id", "user_id", name=op.f("uq_care_team_member_team_id")),
    )
    op.create_index(
        op.f("ix_care_team_member_organization_id"),
        "care_team_member",
        ["organization_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_care_team_member_user_id"), "care_team_member", ["user_id"], unique=False
    )
    op.create_table(
        "care_csat",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["care_conversation.id"],
            name=op.f("fk_care_csat_conversation_id_care_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_csat_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_csat")),
        sa.UniqueConstraint("conversation_id", name=op.f("uq_care_csat_conversation_id")),
    )
    op.create_index(
        op.f("ix_care_csat_organization_id"), "care_csat", ["organization_id"], unique=False
    )
    op.create_table(
        "care_message",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.Column(
            "mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("author_user_id", sa.String(length=36), nullable=True),
        sa.Column("author_label", sa.String(length=320), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("mentioned_user_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivery_status", sa.String(length=20), nullable=True),
        sa.Column("send_after", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("in_reply_to", sa.String(length=200), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("approval_request_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_user_id"],
            ["user_account.id"],
            name=op.f("fk_care_message_author_user_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["care_conversation.id"],
            name=op.f("fk_care_message_conversation_id_care_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mention.id"],
            name=op.f("fk_care_message_mention_id_mention"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_message_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_message")),
        sa.UniqueConstraint(
            "organization_id", "mention_id", name=op.f("uq_care_message_organization_id")
        ),
    )
    op.create_index(
        op.f("ix_care_message_approval_request_id"),
        "care_message",
        ["approval_request_id"],
        unique=False,
    )
    op.create_index(
        "ix_care_message_conversation_created",
        "care_message",
        ["conversation_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_care_message_delivery", "care_message", ["delivery_status", "send_after"], unique=False
    )
    op.create_index(
        "ix_care_message_external", "care_message", ["organization_id", "external_id"], unique=False
    )
    # --- care_presence (H7b, care/presence.py): who views / types on a conversation --------
    op.create_table(
        "care_presence",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("conversation_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("typing_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["care_conversation.id"],
            name=op.f("fk_care_presence_conversation_id_care_conversation"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_care_presence_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_care_presence_user_id_user_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_care_presence")),
        sa.UniqueConstraint(
            "conversation_id", "user_id", name=op.f("uq_care_presence_conversation_id")
        ),
    )
    op.create_index(op.f("ix_care_presence_organization_id"), "care_presence", ["organization_id"])
    op.create_index(op.f("ix_care_presence_seen_at"), "care_presence", ["seen_at"])
    # --- end care_presence -------------------------------------------------------------------


def downgrade() -> None:
    # --- care_presence (H7b) ------------------------------------------------------------------
    op.drop_index(op.f("ix_care_presence_seen_at"), table_name="care_presence")
    op.drop_index(op.f("ix_care_presence_organization_id"), table_name="care_presence")
    op.drop_table("care_presence")
    # --- end care_presence -------------------------------------------------------------------
    op.drop_index("ix_care_message_external", table_name="care_message")
    op.drop_index("ix_care_message_delivery", table_name="care_message")
    op.drop_index("ix_care_message_conversation_created", table_name="care_message")
    op.drop_index(op.f("ix_care_message_approval_request_id"), table_name="care_message")
    op.drop_table("care_message")
    op.drop_index(op.f("ix_care_csat_organization_id"), table_name="care_csat")
    op.drop_table("care_csat")
    op.drop_index(op.f("ix_care_team_member_user_id"), table_name="care_team_member")
    op.drop_index(op.f("ix_care_team_member_organization_id"), table_name="care_team_member")
    op.drop_table("care_team_member")
    op.drop_index(op.f("ix_care_sla_policy_team_id"), table_name="care_sla_policy")
    op.drop_index(op.f("ix_care_sla_policy_organization_id"), table_name="care_sla_policy")
    op.drop_table("care_sla_policy")
    op.drop_index("ix_care_conversation_thread", table_name="care_conversation")
    op.drop_index("ix_care_conversation_sla_warn", table_name="care_conversation")
    op.drop_index("ix_care_conversation_sla_due", table_name="care_conversation")
    op.drop_index("ix_care_conversation_org_updated", table_name="care_conversation")
    op.drop_index("ix_care_conversation_org_team_updated", table_name="care_conversation")
    op.drop_index("ix_care_conversation_org_status_updated", table_name="care_conversation")
    op.drop_index("ix_care_conversation_org_sla_due", table_name="care_conversation")
    op.drop_index("ix_care_conversation_org_assignee_updated", table_name="care_conversation")
    op.drop_index("ix_care_conversation_customer", table_name="care_conversation")
    op.drop_table("care_conversation")
    op.drop_index(op.f("ix_care_team_organization_id"), table_name="care_team")
    op.drop_index(op.f("ix_care_team_lead_id"), table_name="care_team")
    op.drop_table("care_team")
    op.drop_index(
        op.f("ix_care_customer_identity_organization_id"), table_name="care_customer_identity"
    )
    op.drop_index(
        op.f("ix_care_customer_identity_customer_id"), table_name="care_customer_identity"
    )
    op.drop_table("care_customer_identity")
    op.drop_index(op.f("ix_care_webhook_organization_id"), table_name="care_webhook")
    op.drop_table("care_webhook")
    op.drop_index(op.f("ix_care_saved_reply_organization_id"), table_name="care_saved_reply")
    op.drop_table("care_saved_reply")
    op.drop_index(op.f("ix_care_routing_rule_organization_id"), table_name="care_routing_rule")
    op.drop_table("care_routing_rule")
    op.drop_index(op.f("ix_care_customer_organization_id"), table_name="care_customer")
    op.drop_table("care_customer")
