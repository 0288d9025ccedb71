"""Full-text search over stored mentions: one function, whichever database.

SQLite uses the FTS5 table ``mention_fts`` (unicode61 tokenizer: case- and accent-folded);
PostgreSQL the GIN index over ``to_tsvector('simple', mention_search_fold(text))`` (case- and
accent-folded by the migration's SQL function, no stemming, so a word finds the same mentions on
both). A search is the words of `query`, all required, in any order; punctuation and operators
are ignored (it is not the listening query language).

Results are newest first (`created_at`). A word held by a large share of a million mentions
would otherwise mean sorting hundreds of thousands of hits for every search. On SQLite the
index hands over the `MAX_CANDIDATES` most recently *stored* hits, which are sorted by date:
exact whenever a search has fewer hits than that, and whenever mentions are stored in about
the order they were posted (live sources); after a late import of older posts, a very common
word may show those first. On PostgreSQL (exact): a search with at most `MAX_CANDIDATES` hits
takes them from the GIN index and sorts them; one with more walks the mentions newest first.
"""

from __future__ import annotations

import re

from sqlalchemy import Integer, and_, column, func, select, text
from sqlalchemy.orm import Session

from groundswell.listening.tables import Mention

MAX_LIMIT = 1000
# A search considers at most this many hits, the most recently stored (see the module doc).
MAX_CANDIDATES = 5000
_WORD = re.compile(r"\w+")


def search_words(query: str) -> list[str]:
    """The words a search looks for (lower-case, in order, without repeats)."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))


def search_mentions(
    session: Session, organization_id: str, query: str, *, limit: int = 20
) -> list[Mention]:
    """Public mentions of the organization holding every word of `query`, newest first (at
    most `limit`, capped at `MAX_LIMIT`). No words, no results. Direct messages are private
    and never found here."""
    words = search_words(query)
    if not words or limit <= 0:
        return []
    public = Mention.channel == "public"
    stmt = select(Mention).where(Mention.organization_id == organization_id, public)
    limit = min(limit, MAX_LIMIT)
    newest = (Mention.created_at.desc(), Mention.id.desc())
    if session.get_bind().dialect.name == "sqlite":
        # Each word quoted: FTS5 reads it as a plain token (no operators, no columns). FTS5
        # reads its hits newest stored first and stops after MAX_CANDIDATES, which are then
        # sorted by date: exact whenever a search has fewer hits than that.
        expression = " ".join('"' + w.replace('"', '""') + '"' for w in words)
        hits = (
            text(
                "SELECT rowid FROM mention_fts WHERE mention_fts MATCH :expression "
                "ORDER BY rowid DESC LIMIT :candidates"
            )
            .bindparams(expression=expression, candidates=max(MAX_CANDIDATES, limit))
            .columns(column("rowid", Integer))
        )
        stmt = stmt.where(Mention.id.in_(select(hits.subquery().c.rowid)))
        stmt = stmt.order_by(*newest).limit(limit)
    else:
        # The same expression as the index (`ix_mention_search`), the query folded alike.
        fold = func.mention_search_fold
        tsquery = func.plainto_tsquery("simple", fold(" ".join(words)))
        holds = func.to_tsvector("simple", fold(Mention.text)).op("@@")(tsquery)
        mine = and_(Mention.organization_id == organization_id, public)
        capped = select(Mention.id).where(mine, holds).limit(MAX_CANDIDATES + 1).subquery()
        found = session.scalar(select(func.count()).select_from(capped)) or 0
        if found <= MAX_CANDIDATES:
            # Few hits: take them all from the GIN index first (MATERIALIZED keeps the planner
            # from walking the date index instead), then the newest.
            few = (
                select(Mention.id, Mention.created_at)
                .where(mine, holds)
                .cte("hits")
                .prefix_with("MATERIALIZED")
            )
            ids = list(
                session.scalars(
                    select(few.c.id).order_by(few.c.created_at.desc(), few.c.id.desc()).limit(limit)
                )
            )
            stmt = stmt.where(Mention.id.in_(ids))
        else:
            # Many hits: walking the mentions newest first meets `limit` of them soon.
            stmt = stmt.where(holds)
        stmt = stmt.order_by(*newest).limit(limit)
    return list(session.scalars(stmt))
