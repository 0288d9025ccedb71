"""listening: mentions, queries, matches, quarantine, search

Revision ID: 79b7278f0e13
Revises: ef624d70a036
Create Date: 2026-11-23 12:42:12.899309
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "79b7278f0e13"
down_revision: str | None = "ef624d70a036"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "listening_query",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_listening_query_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_listening_query")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_listening_query_organization_id")
        ),
    )
    with op.batch_alter_table("listening_query", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_listening_query_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "mention",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("author_handle", sa.String(length=200), nullable=True),
        sa.Column("author_name", sa.String(length=200), nullable=True),
        sa.Column("author_followers", sa.BigInteger(), nullable=True),
        sa.Column("author_verified", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("in_reply_to", sa.String(length=200), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("sentiment", sa.String(length=16), nullable=True),
        sa.Column("labels", sa.JSON(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("raw_payload", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_mention_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mention")),
        sa.UniqueConstraint(
            "organization_id", "source", "external_id", name=op.f("uq_mention_organization_id")
        ),
    )
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_mention_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.Column("connector", sa.String(length=50), nullable=False),
        sa.Column("format", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_quarantine_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantine")),
        sa.UniqueConstraint(
            "organization_id", "source", "fingerprint", name=op.f("uq_quarantine_organization_id")
        ),
    )
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_quarantine_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "mention_match",
        sa.Column(
            "mention_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("query_id", sa.String(length=36), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mention_id"],
            ["mention.id"],
            name=op.f("fk_mention_match_mention_id_mention"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["query_id"],
            ["listening_query.id"],
            name=op.f("fk_mention_match_query_id_listening_query"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mention_id", "query_id", name=op.f("pk_mention_match")),
    )
    with op.batch_alter_table("mention_match", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_match_query_id"), ["query_id"], unique=False)

    _create_search_index()


def _create_search_index() -> None:
    # Written by hand: full-text search over mention.text, one per dialect, behind
    # groundswell.listening.search. SQLite: an FTS5 table with external content (the text is
    # stored once, in mention) kept in step by triggers. PostgreSQL: a GIN index over the same
    # expression the search function uses.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE mention_fts USING fts5(text, content='mention', "
            "content_rowid='id', tokenize='unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER mention_fts_insert AFTER INSERT ON mention BEGIN "
            "INSERT INTO mention_fts(rowid, text) VALUES (new.id, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER mention_fts_delete AFTER DELETE ON mention BEGIN "
            "INSERT INTO mention_fts(mention_fts, rowid, text) VALUES ('delete', old.id, old.text); "
            "END"
        )
        op.execute(
            "CREATE TRIGGER mention_fts_update AFTER UPDATE OF text ON mention BEGIN "
            "INSERT INTO mention_fts(mention_fts, rowid, text) VALUES ('delete', old.id, old.text); "
            "INSERT INTO mention_fts(rowid, text) VALUES (new.id, new.text); END"
        )
    else:
        op.execute(
            "CREATE INDEX ix_mention_search ON mention USING gin (to_tsvector('simple', text))"
        )


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("mention_fts_insert", "mention_fts_delete", "mention_fts_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS mention_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_mention_search")


def downgrade() -> None:
    _drop_search_index()
    with op.batch_alter_table("mention_match", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_match_query_id"))

    op.drop_table("mention_match")
    with op.batch_alter_table("quarantine", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quarantine_organization_id"))

    op.drop_table("quarantine")
    with op.batch_alter_table("mention", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mention_organization_id"))
        batch_op.drop_index(batch_op.f("ix_mention_created_at"))

    op.drop_table("mention")
    with op.batch_alter_table("listening_query", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_listening_query_organization_id"))

    op.drop_table("listening_query")
