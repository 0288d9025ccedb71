"""Marking in a post the words that listening queries look for."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.listening.domain import (
    And,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    QuerySyntaxError,
    Tag,
    Term,
    Word,
)
from groundswell.listening.query import compile_query
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch
from groundswell.listening.text import fold

_WORD = re.compile(r"\w+")


def _terms(node: Node, out: list[Term]) -> None:
    if isinstance(node, Word):
        out.append(node.term)
    elif isinstance(node, Phrase):
        out.extend(node.terms)
    elif isinstance(node, Tag):
        out.append(Term(node.body, node.prefix))
    elif isinstance(node, Near):
        _terms(node.left, out)
        _terms(node.right, out)
    elif isinstance(node, And | Or):
        for child in node.children:
            _terms(child, out)
    # Not: its words are what the post must *not* hold; fields have no words to mark.


def query_terms(queries: Iterable[Query]) -> list[Term]:
    """The words the queries look for (outside NOT), to mark in a post."""
    out: list[Term] = []
    for q in queries:
        if not isinstance(q.root, Not):
            _terms(q.root, out)
    return list(dict.fromkeys(out))


def highlight(text: str, terms: Sequence[Term]) -> Markup:
    """`text`, escaped, with each word a term accepts wrapped in <mark>."""
    if not terms:
        return escape(text)
    parts: list[str] = []
    last = 0
    for match in _WORD.finditer(text):
        folded = fold(match.group())
        if any(t.accepts(folded) for t in terms):
            parts.append(str(escape(text[last : match.start()])))
            parts.append(f"<mark>{escape(match.group())}</mark>")
            last = match.end()
    parts.append(str(escape(text[last:])))
    # Every part was escaped above; only the <mark> tags are markup.
    return Markup("".join(parts))  # noqa: S704


def matched_terms(session: Session, mentions: Sequence[Mention]) -> dict[int, list[Term]]:
    """For each mention, the words of the saved queries that matched it when it arrived."""
    if not mentions:
        return {}
    rows = session.execute(
        select(MentionMatch.mention_id, ListeningQuery.id, ListeningQuery.query)
        .join(ListeningQuery, ListeningQuery.id == MentionMatch.query_id)
        .where(MentionMatch.mention_id.in_([m.id for m in mentions]))
    ).all()
    compiled: dict[str, Query | None] = {}
    found: dict[int, list[Query]] = {}
    for mention_id, query_id, text in rows:
        if query_id not in compiled:
            try:
                compiled[query_id] = compile_query(text)
            except QuerySyntaxError:  # saved under an older grammar: nothing to mark
                compiled[query_id] = None
        query = compiled[query_id]
        if query is not None:
            found.setdefault(mention_id, []).append(query)
    return {mention_id: query_terms(queries) for mention_id, queries in found.items()}
