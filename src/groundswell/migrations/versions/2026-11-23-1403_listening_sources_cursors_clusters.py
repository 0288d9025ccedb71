"""listening: sources, cursors, near-duplicate clusters

Revision ID: 80b455c3bc26
Revises: 1f85f57d6bfe
Create Date: 2026-11-23 14:03:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "80b455c3bc26"
down_revision: str | None = "1f85f57d6bfe"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listening_source",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("connector", sa.String(length=50), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_fetch_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("error_count", sa.Integer(), nullable=False),
        sa.Column("wait_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lag_seconds", sa.Float(), nullable=True),
        sa.Column("stored_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_listening_source_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_source")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_listening_source_organization_id")
        ),
    )
    with op.batch_alter_table("listening_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_listening_source_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "mention_cluster_band",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("band_key", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("cluster_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_mention_cluster_band_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "organization_id", "band_key", name=op.f("pk_mention_cluster_band")
        ),
        sqlite_with_rowid=False,
    )
    # Plain ADD COLUMN (no batch copy): SQLite keeps the FTS triggers on `mention` as they are.
    op.add_column("mention", sa.Column("cluster_id", sa.BigInteger(), nullable=True))
    op.create_index(op.f("ix_mention_cluster_id"), "mention", ["cluster_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_mention_cluster_id"), table_name="mention")
    op.drop_column("mention", "cluster_id")
    op.drop_table("mention_cluster_band")
    with op.batch_alter_table("listening_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listening_source_organization_id"))
    op.drop_table("listening_source")
