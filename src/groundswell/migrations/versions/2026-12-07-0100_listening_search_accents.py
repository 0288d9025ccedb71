"""listening: mention search ignores accents on PostgreSQL too

Revision ID: 6a4c3f5d0e23
Revises: 5f3b2e4c9d12
Create Date: 2026-12-07 01:00:00

SQLite's FTS5 tokenizer (unicode61, remove_diacritics 2) already folds accents, so "cafe"
finds "café" there. On PostgreSQL the GIN index read `to_tsvector('simple', text)`, which only
folds case. It now reads the text through `mention_search_fold` (NFKD, combining marks
dropped, a few letters with no decomposition mapped by hand: the same folding as the care
inbox's search), and `listening.search` folds the query with the same function, so a word
finds the same mentions on both databases. Rebuilding the index reads every mention once.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "6a4c3f5d0e23"
down_revision: str | None = "5f3b2e4c9d12"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FOLD = (
    "CREATE FUNCTION mention_search_fold(value text) RETURNS text "
    "LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$ "
    "SELECT translate(regexp_replace(normalize(lower(value), NFKD), "
    "'[\\u0300-\\u036f\\u1ab0-\\u1aff\\u1dc0-\\u1dff\\u20d0-\\u20ff\\ufe20-\\ufe2f]', '', 'g'), "
    "'øđðłħŧı', 'oddlhti') $$"
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FOLD)
    op.execute("DROP INDEX IF EXISTS ix_mention_search")
    op.execute(
        "CREATE INDEX ix_mention_search ON mention "
        "USING gin (to_tsvector('simple', mention_search_fold(text)))"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_mention_search")
    op.execute("CREATE INDEX ix_mention_search ON mention USING gin (to_tsvector('simple', text))")
    op.execute("DROP FUNCTION IF EXISTS mention_search_fold(text)")
