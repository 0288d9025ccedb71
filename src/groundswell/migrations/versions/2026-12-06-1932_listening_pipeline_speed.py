"""listening: storage changes for ingest speed

Revision ID: 5f3b2e4c9d12
Revises: 4e2a1d3b8c01
Create Date: 2026-12-06 19:32:00

SQLite: the ingest pipeline feeds the full-text index (`mention_fts`) once per batch
(`INSERT INTO mention_fts ... SELECT`, `listening.bulk`) instead of through the per-row insert
trigger, which cost more than the mention rows themselves. The trigger stays for every other
writer of `mention`; it skips only the ids of a batch named in `mention_fts_deferred`, a row
the pipeline writes and deletes inside its own transaction (so no other connection ever sees
one).

Both: `ix_mention_organization_id` goes; the unique index on (organization_id, source,
external_id) starts with the same column and serves the same lookups (and the foreign key's
cascade), so every stored mention wrote one index entry for nothing.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "5f3b2e4c9d12"
down_revision: str | None = "4e2a1d3b8c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GATED_TRIGGER = (
    "CREATE TRIGGER mention_fts_insert AFTER INSERT ON mention "
    "WHEN NOT EXISTS (SELECT 1 FROM mention_fts_deferred "
    "WHERE new.id BETWEEN first_id AND last_id) BEGIN "
    "INSERT INTO mention_fts(rowid, text) VALUES (new.id, new.text); END"
)
_PLAIN_TRIGGER = (
    "CREATE TRIGGER mention_fts_insert AFTER INSERT ON mention BEGIN "
    "INSERT INTO mention_fts(rowid, text) VALUES (new.id, new.text); END"
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TABLE mention_fts_deferred ("
            "first_id INTEGER PRIMARY KEY, last_id INTEGER NOT NULL)"
        )
        op.execute("DROP TRIGGER mention_fts_insert")
        op.execute(_GATED_TRIGGER)
    op.drop_index("ix_mention_organization_id", table_name="mention")


def downgrade() -> None:
    op.create_index("ix_mention_organization_id", "mention", ["organization_id"], unique=False)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER mention_fts_insert")
        op.execute(_PLAIN_TRIGGER)
        op.execute("DROP TABLE mention_fts_deferred")
