"""Full-text search over stored mentions: one function, whichever database.

SQLite uses the FTS5 table ``mention_fts`` (unicode61 tokenizer: case- and accent-folded);
PostgreSQL the GIN index over ``to_tsvector('simple', text)`` (case-folded, no stemming, so a
word finds the same mentions on both). A search is the words of `query`, all required, in any
order; punctuation and operators are ignored (it is not the listening query language).
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, column, func, select, text
from sqlalchemy.orm import Session

from groundswell.listening.tables import Mention

MAX_LIMIT = 1000
_WORD = re.compile(r"\w+")


def search_words(query: str) -> list[str]:
    """The words a search looks for (lower-case, in order, without repeats)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))


def search_mentions(
    session: Session, organization_id: str, query: str, *, limit: int = 20
) -> list[Mention]:
    """Mentions of the organization holding every word of `query`, newest first (at most
    `limit`, capped at `MAX_LIMIT`). No words, no results."""
    words = search_words(query)
    if not words or limit <= 0:
        return []
    stmt = select(Mention).where(Mention.organization_id == organization_id)
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted: FTS5 reads it as a plain token (no operators, no columns).
        expression = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        hits = (
            text("SELECT rowid FROM mention_fts WHERE mention_fts MATCH :expression")
            .bindparams(expression=expression)
            .columns(column("rowid", Integer))
        )
        stmt = stmt.where(Mention.id.in_(select(hits.subquery().c.rowid)))
    else:
        tsquery = func.plainto_tsquery("simple", " ".join(words))
        stmt = stmt.where(func.to_tsvector("simple", Mention.text).op("@@")(tsquery))
    stmt = stmt.order_by(Mention.created_at.desc(), Mention.id.desc()).limit(min(limit, MAX_LIMIT))
    return list(session.scalars(stmt))
