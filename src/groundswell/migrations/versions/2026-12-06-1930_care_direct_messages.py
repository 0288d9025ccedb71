"""care and listening: direct messages as their own channel

Revision ID: 3d1f0c2a7b90
Revises: a119a0a3ed61
Create Date: 2026-12-06 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d1f0c2a7b90"
down_revision: str | None = "a119a0a3ed61"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN with a constant default (no batch copy): instant on both databases,
    # and SQLite keeps the FTS triggers on `mention` as they are. Existing rows are public.
    op.add_column(
        "mention",
        sa.Column("channel", sa.String(length=10), server_default="public", nullable=False),
    )
    op.add_column(
        "care_conversation",
        sa.Column("channel", sa.String(length=10), server_default="public", nullable=False),
    )
    op.create_index(
        "ix_care_conversation_org_channel_updated",
        "care_conversation",
        ["organization_id", "channel", "updated_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_care_conversation_org_channel_updated", table_name="care_conversation")
    op.drop_column("care_conversation", "channel")
    op.drop_column("mention", "channel")
