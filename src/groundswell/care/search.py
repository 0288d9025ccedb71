"""Full-text search of the inbox: one function (`matching`), whichever database.

What is searched is one document per conversation (see the migration
`2026-12-06-1931_care_inbox_search`): the customer's name and handle, the tags, and the texts
of its inbound and outbound messages (not internal notes). Triggers keep it current.
SQLite reads it through the FTS5 table `care_conversation_fts` (unicode61, diacritics
removed), PostgreSQL through the GIN-indexed `document` tsvector (`care_search_fold`: lower
case, accents dropped). Both are case- and accent-insensitive; punctuation separates words,
so `ana@example.social` is the phrase `ana example social`.

The syntax (`parse`), deliberately small, never fails:

* words: all required, in any order (`refund delayed`);
* `"an exact phrase"`: its words adjacent and in order;
* `refund*`: a word starting with `refund` (also at the end of a phrase: `"lost bag"*`);
* `-word`, `-"a phrase"`, `-pre*`: conversations holding it are left out.

Anything else degrades to words: an unmatched `"` runs to the end of the search, other
punctuation only separates words, and past `MAX_TERMS` terms the rest is ignored. A search
with no word at all (only punctuation) matches nothing; one with only `-` terms matches every
conversation without them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    bindparam,
    column,
    false,
    func,
    literal,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from groundswell.care.tables import CareConversation

MAX_QUERY: Final = 1000  # characters of a search that are read
MAX_TERMS: Final = 16
MAX_TOKEN: Final = 100  # a longer word is cut (nothing that long is a word anyone types)
# Up to this many hits a search takes them all from the index; past it, it checks along the
# inbox's walk (see `matching`).
MAX_CANDIDATES: Final = 5000

# A term: an optional "-", then a quoted phrase (an unmatched quote runs to the end) or a run
# of anything but spaces and quotes.
_TERM = re.compile(r'(-?)(?:"([^"]*)"?|([^\s"]+))')
# The words inside a term: letters and digits, as the FTS5 unicode61 tokenizer and the
# PostgreSQL document (`[^[:alnum:]]+` is a separator) see them.
_TOKEN = re.compile(r"[^\W_]+")

_SEARCH = table(
    "care_conversation_search", column("id"), column("conversation_id"), column("document")
)
_FTS = table("care_conversation_fts", column("rowid"), column("care_conversation_fts"))


@dataclass(frozen=True, slots=True)
class Term:
    """Words that must stand together in this order; `prefix`: the last one may go on."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Search:
    include: tuple[Term, ...]
    exclude: tuple[Term, ...]

    @property
    def empty(self) -> bool:
        return not self.include and not self.exclude


def parse(query: str) -> Search:
    """The terms of a search (see the module docstring). Never raises."""
    include: list[Term] = []
    exclude: list[Term] = []
    seen: set[tuple[bool, Term]] = set()
    query = unicodedata.normalize("NFC", query[:MAX_QUERY])
    for match in _TERM.finditer(query):
        negated, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        body = phrase if phrase is not None else bare or ""
        words = tuple(w.lower()[:MAX_TOKEN] for w in _TOKEN.findall(body))
        if phrase is not None:
            # A quoted phrase takes its prefix star just after the closing quote: "lost bag"*
            prefix = query[match.end() : match.end() + 1] == "*" or phrase.rstrip().endswith("*")
        else:
            prefix = body.endswith("*")
        if not words:
            continue
        # A one-letter prefix would match a large share of the index: treat it as a word.
        term = Term(words, prefix and len(words[-1]) > 1)
        key = (negated, term)
        if key in seen:
            continue
        seen.add(key)
        (exclude if negated else include).append(term)
        if len(include) + len(exclude) >= MAX_TERMS:
            break
    return Search(tuple(include), tuple(exclude))


def fts5_expression(terms: tuple[Term, ...], joiner: str = " ") -> str:
    """An FTS5 MATCH expression: each term a quoted string (FTS5 reads it as plain tokens,
    never as operators or column names), `joiner` between them (" ": all; " OR ": any)."""
    return joiner.join(
        '"' + " ".join(t.words).replace('"', '""') + '"' + ("*" if t.prefix else "") for t in terms
    )


def tsquery_text(terms: tuple[Term, ...], joiner: str = " & ") -> str:
    """A `to_tsquery` text: each word single-quoted, words of a phrase joined by `<->`, a
    prefix marked `:*`. Words are letters and digits only, so quoting cannot be escaped."""
    parts = []
    for t in terms:
        quoted = [f"'{w}'" for w in t.words]
        if t.prefix:
            quoted[-1] += ":*"
        parts.append("(" + " <-> ".join(quoted) + ")")
    return joiner.join(parts)


def _fts_match(expression: str) -> ColumnElement[bool]:
    return _FTS.c.care_conversation_fts.op("MATCH")(bindparam(None, expression, String()))


def _pg_match(terms: tuple[Term, ...], joiner: str) -> ColumnElement[bool]:
    # The query's words are folded by the same SQL function as the documents.
    tsquery = func.to_tsquery("simple", func.care_search_fold(tsquery_text(terms, joiner)))
    return _SEARCH.c.document.op("@@")(tsquery)


def _many(session: Session, hits: Select[Any]) -> bool:
    """Whether FTS5 holds more than `MAX_CANDIDATES` hits (it stops counting there)."""
    capped = hits.limit(MAX_CANDIDATES + 1).subquery()
    return (session.scalar(select(func.count()).select_from(capped)) or 0) > MAX_CANDIDATES


def _pg_hits(session: Session, match: ColumnElement[bool]) -> list[str]:
    """The ids of up to `MAX_CANDIDATES` + 1 conversations whose document matches, from the
    GIN index. The planner is told not to read the whole table instead: it estimates a
    phrase as if its words were merely all present, and reading every document to find a
    phrase of two common words that occurs nowhere costs a scan of all of them."""
    session.execute(text("SET LOCAL enable_seqscan = off"))
    try:
        hits = select(_SEARCH.c.conversation_id).where(match).limit(MAX_CANDIDATES + 1)
        return list(session.scalars(hits))
    finally:
        session.execute(text("SET LOCAL enable_seqscan TO DEFAULT"))


def _holds(match: ColumnElement[bool], sqlite: bool) -> ColumnElement[bool]:
    """The conversation's own document matches (checked row by row, through the index)."""
    source = _SEARCH.join(_FTS, _FTS.c.rowid == _SEARCH.c.id) if sqlite else _SEARCH
    return (
        select(literal(1))
        .select_from(source)
        .where(_SEARCH.c.conversation_id == CareConversation.id, match)
        .exists()
    )


def matching(session: Session, stmt: Select[Any], query: str) -> Select[Any]:
    """`stmt` (a select of conversations) narrowed to those matching `query`. A search with
    no word matches nothing.

    A search with few hits (at most `MAX_CANDIDATES`, in every organization) takes them all
    from the index, and the inbox's keyset walk keeps those; one with more is checked
    conversation by conversation along the walk, which meets a page of hits soon. Left-out
    terms are always checked along the walk."""
    search = parse(query)
    if search.empty:
        return stmt.where(false())
    sqlite = session.get_bind().dialect.name == "sqlite"
    if search.include:
        if sqlite:
            match = _fts_match(fts5_expression(search.include))
            hits = select(_FTS.c.rowid).where(match)
            ids = select(_SEARCH.c.conversation_id).where(_SEARCH.c.id.in_(hits))
            many = _many(session, hits)
            stmt = stmt.where(_holds(match, sqlite) if many else CareConversation.id.in_(ids))
        else:
            match = _pg_match(search.include, " & ")
            found = _pg_hits(session, match)
            many = len(found) > MAX_CANDIDATES
            stmt = stmt.where(_holds(match, sqlite) if many else CareConversation.id.in_(found))
    if search.exclude:
        if sqlite:
            match = _fts_match(fts5_expression(search.exclude, " OR "))
        else:
            match = _pg_match(search.exclude, " | ")
        stmt = stmt.where(~_holds(match, sqlite))
    return stmt


# --- bulk loads -------------------------------------------------------------------------------

_MESSAGE_TRIGGERS = {
    "sqlite": ("care_search_message_insert",),
    "postgresql": ("care_search_message",),
}
_REBUILD = {
    "sqlite": (
        "UPDATE care_conversation_search SET body = coalesce((SELECT group_concat(text, "
        "char(10)) FROM (SELECT text FROM care_message m WHERE m.conversation_id = "
        "care_conversation_search.conversation_id AND m.direction IN ('inbound', 'outbound') "
        "AND m.delivery_status IS NOT 'cancelled' ORDER BY m.created_at, m.id)), '')"
    ),
    "postgresql": (
        "UPDATE care_conversation_search s SET body = a.body FROM (SELECT conversation_id, "
        "string_agg(text, E'\\n' ORDER BY created_at, id) AS body FROM care_message "
        "WHERE direction IN ('inbound', 'outbound') AND delivery_status IS DISTINCT FROM "
        "'cancelled' GROUP BY conversation_id) a WHERE s.conversation_id = a.conversation_id"
    ),
}


@contextmanager
def bulk_messages(connection: Connection) -> Iterator[None]:
    """For a bulk insert of messages into new conversations (benchmarks, seeding), inside
    one transaction: the per-message upkeep of the search documents is suspended, and every
    document is rebuilt from the messages at the end, in one statement. Not for live use: on
    PostgreSQL it locks `care_message` (ALTER TABLE) until the transaction ends."""
    dialect = connection.dialect.name
    triggers = _MESSAGE_TRIGGERS[dialect]
    if dialect == "sqlite":
        ddl = [
            connection.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                {"n": name},
            ).scalar_one()
            for name in triggers
        ]
        for name in triggers:
            connection.execute(text(f"DROP TRIGGER {name}"))
        yield
        for statement in ddl:
            connection.execute(text(statement))
    else:
        for name in triggers:
            connection.execute(text(f"ALTER TABLE care_message DISABLE TRIGGER {name}"))
        yield
        for name in triggers:
            connection.execute(text(f"ALTER TABLE care_message ENABLE TRIGGER {name}"))
    connection.execute(text(_REBUILD[dialect]))
