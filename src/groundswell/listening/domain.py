"""Listening rules: the listening query tree and how it is evaluated against a post. Pure:
standard library and Pydantic only. Text is folded and split into words by
`groundswell.listening.text`; the parser (Lark) lives in `groundswell.listening.query` and
builds the nodes defined here.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from groundswell.kernel.errors import InvalidInput
from groundswell.listening.schemas import AuthorIn, PostIn
from groundswell.listening.text import (
    HASHTAG_RE,
    LINK_RE,
    MENTION_RE,
    WORD_RE,
    fold,
    split_words,
)


class QuerySyntaxError(InvalidInput):
    """A listening query that does not parse or means nothing. ``message`` names the column and
    ends with the query's line and a caret under the fault; ``column`` is 1-based."""

    code = "query_syntax"
    title = "Invalid listening query"

    def __init__(self, message: str, *, column: int, line: int = 1) -> None:
        super().__init__(message, column=column, line=line)
        self.column = column
        self.line = line


# --- the query tree ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """One folded word; with `prefix`, any word that starts with it (``refund*``)."""

    text: str
    prefix: bool = False

    def accepts(self, word: str) -> bool:
        return word.startswith(self.text) if self.prefix else word == self.text


@dataclass(frozen=True, slots=True)
class Word:
    """A whole word, or a word prefix (suffix wildcard)."""

    term: Term


@dataclass(frozen=True, slots=True)
class Phrase:
    """Consecutive words in this order; punctuation between them is ignored."""

    terms: tuple[Term, ...]


@dataclass(frozen=True, slots=True)
class Tag:
    """``#hashtag`` (sigil ``#``) or ``@mention`` (sigil ``@``): a folded body, whole or prefix."""

    sigil: Literal["#", "@"]
    body: str
    prefix: bool = False

    def accepts(self, body: str) -> bool:
        return body.startswith(self.body) if self.prefix else body == self.body


@dataclass(frozen=True, slots=True)
class Near:
    """Both sides occur, at most `distance` words apart (words strictly between), either order,
    without overlapping."""

    left: Node
    right: Node
    distance: int


@dataclass(frozen=True, slots=True)
class Author:
    """The post's author handle (folded, without ``@``), whole or prefix."""

    handle: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Lang:
    """Language tag: ``en`` matches ``en``, ``en-US``, ``en_GB``; ``en-us`` only ``en-US``."""

    code: str


@dataclass(frozen=True, slots=True)
class Source:
    """The post's source name (folded), whole or prefix."""

    name: str
    prefix: bool = False


Comparison = Literal["<", "<=", ">", ">=", "="]


@dataclass(frozen=True, slots=True)
class Followers:
    """The author's follower count compared with `value`; false when the count is unknown."""

    op: Comparison
    value: int


@dataclass(frozen=True, slots=True)
class HasLink:
    """The post carries a link (its ``links`` or a URL in its text)."""


@dataclass(frozen=True, slots=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    child: Node


Node = Word | Phrase | Tag | Near | Author | Lang | Source | Followers | HasLink | And | Or | Not
# Nodes that stand at word positions, so NEAR can measure distances between them.
Positional = Word | Phrase | Tag | Near | Or


def is_positional(node: Node) -> bool:
    """Whether `node` can be an operand of NEAR."""
    if isinstance(node, Or):
        return all(is_positional(child) for child in node.children)
    if isinstance(node, Near):
        return is_positional(node.left) and is_positional(node.right)
    return isinstance(node, Word | Phrase | Tag)


Span = tuple[int, int]  # first and last word index, inclusive


@dataclass(slots=True)
class Document:
    """A post prepared once for all queries: folded text, its words and facts. Word indexes
    and positions are computed on first use (most posts never need them)."""

    folded: str
    author: str | None = None
    lang: str | None = None
    source: str | None = None
    followers: int | None = None
    links: bool = False
    _words: list[str] | None = field(default=None, repr=False)
    _word_set: frozenset[str] | None = field(default=None, repr=False)
    _positions: dict[str, list[int]] | None = field(default=None, repr=False)
    _starts: list[int] | None = field(default=None, repr=False)
    _tags: dict[str, list[tuple[str, int, int]]] = field(default_factory=dict, repr=False)

    @classmethod
    def of(
        cls,
        text: str,
        *,
        author: str | None = None,
        lang: str | None = None,
        source: str | None = None,
        followers: int | None = None,
        links: Sequence[str] = (),
    ) -> Document:
        """Prepare a post's text and facts; `author` is a handle, with or without ``@``."""
        return cls(
            folded=fold(text),
            author=fold(author.strip()).removeprefix("@") if author else None,
            lang=lang.strip().lower().replace("_", "-") if lang else None,
            source=fold(source.strip()) if source else None,
            followers=followers,
            links=bool(links),
        )

    @classmethod
    def from_post(cls, post: PostIn) -> Document:
        author = post.author
        handle = author.handle if isinstance(author, AuthorIn) else author
        followers = post.followers
        if followers is None and isinstance(author, AuthorIn):
            followers = author.followers
        return cls.of(
            post.text,
            author=handle,
            lang=post.lang,
            source=post.source,
            followers=followers,
            links=post.links or (),
        )

    @property
    def has_link(self) -> bool:
        """Links given with the post, or a URL in its text."""
        return self.links or LINK_RE.search(self.folded) is not None

    @property
    def words(self) -> list[str]:
        if self._words is None:
            self._words = split_words(self.folded)
        return self._words

    @property
    def word_set(self) -> frozenset[str]:
        if self._word_set is None:
            self._word_set = frozenset(self.words)
        return self._word_set

    def positions(self, word: str) -> list[int]:
        if self._positions is None:
            index: dict[str, list[int]] = {}
            for i, w in enumerate(self.words):
                index.setdefault(w, []).append(i)
            self._positions = index
        return self._positions.get(word, [])

    def tags(self, sigil: str) -> list[tuple[str, int, int]]:
        """(body, start, end) of each hashtag or mention, offsets into `folded`."""
        found = self._tags.get(sigil)
        if found is None:
            pattern = HASHTAG_RE if sigil == "#" else MENTION_RE
            found = [(m.group(1), m.start(1), m.end(1)) for m in pattern.finditer(self.folded)]
            self._tags[sigil] = found
        return found

    def word_span(self, start: int, end: int) -> Span | None:
        """The words lying in ``folded[start:end]``."""
        if self._starts is None:
            self._starts = [m.start() for m in WORD_RE.finditer(self.folded)]
        first = bisect_left(self._starts, start)
        last = bisect_left(self._starts, end) - 1
        return (first, last) if first <= last else None


# --- evaluation ----------------------------------------------------------------------------


def _term_positions(term: Term, doc: Document) -> list[int]:
    if not term.prefix:
        return doc.positions(term.text)
    return [i for i, w in enumerate(doc.words) if w.startswith(term.text)]


def spans(node: Node, doc: Document) -> list[Span]:
    """Where a positional node occurs in `doc`, sorted by start. Precondition:
    `is_positional(node)`."""
    if isinstance(node, Word):
        return [(i, i) for i in _term_positions(node.term, doc)]
    if isinstance(node, Phrase):
        first, rest = node.terms[0], node.terms[1:]
        ws = doc.words
        found: list[Span] = []
        for i in _term_positions(first, doc):
            end = i + len(rest)
            if end < len(ws) and all(t.accepts(ws[i + 1 + k]) for k, t in enumerate(rest)):
                found.append((i, end))
        return found
    if isinstance(node, Tag):
        tag_spans = (
            doc.word_span(start, end)
            for body, start, end in doc.tags(node.sigil)
            if node.accepts(body)
        )
        return [s for s in tag_spans if s is not None]
    if isinstance(node, Or):
        return sorted({s for child in node.children for s in spans(child, doc)})
    if isinstance(node, Near):
        return _near_spans(spans(node.left, doc), spans(node.right, doc), node.distance)
    raise TypeError(f"not a positional node: {node!r}")  # the parser never builds this


def _near_spans(left: list[Span], right: list[Span], distance: int) -> list[Span]:
    """Pairs of non-overlapping spans with at most `distance` words between them, each merged
    into the span covering both. Sorted inputs; bisect keeps long texts near-linear."""
    starts = [s for s, _ in right]
    ends = sorted(e for _, e in right)
    by_end = sorted(right, key=lambda s: s[1])
    found: set[Span] = set()
    for a_start, a_end in left:
        # right after left: b.start in [a_end + 1, a_end + 1 + distance]
        lo = bisect_left(starts, a_end + 1)
        hi = bisect_right(starts, a_end + 1 + distance)
        for _b_start, b_end in right[lo:hi]:
            found.add((a_start, b_end))
        # right before left: b.end in [a_start - 1 - distance, a_start - 1]
        lo = bisect_left(ends, a_start - 1 - distance)
        hi = bisect_right(ends, a_start - 1)
        for b_start, _b_end in by_end[lo:hi]:
            found.add((b_start, a_end))
    return sorted(found)


def _near_exists(left: list[Span], right: list[Span], distance: int) -> bool:
    """Whether `_near_spans` would find any pair, without listing them: a NEAR that is not
    itself inside a NEAR needs only this, in O(n log n) even on a long text."""
    starts = [s for s, _ in right]
    ends = sorted(e for _, e in right)
    for a_start, a_end in left:
        if bisect_left(starts, a_end + 1) < bisect_right(starts, a_end + 1 + distance):
            return True
        if bisect_left(ends, a_start - 1 - distance) < bisect_right(ends, a_start - 1):
            return True
    return False


def _compare(value: int, op: Comparison, limit: int) -> bool:
    if op == ">":
        return value > limit
    if op == ">=":
        return value >= limit
    if op == "<":
        return value < limit
    if op == "<=":
        return value <= limit
    return value == limit


def evaluate(node: Node, doc: Document) -> bool:
    """Whether the post `doc` satisfies the query tree `node`."""
    if isinstance(node, Word):
        term = node.term
        if term.prefix:
            return any(w.startswith(term.text) for w in doc.word_set)
        return term.text in doc.word_set
    if isinstance(node, And):
        return all(evaluate(child, doc) for child in node.children)
    if isinstance(node, Or):
        return any(evaluate(child, doc) for child in node.children)
    if isinstance(node, Not):
        return not evaluate(node.child, doc)
    if isinstance(node, Phrase):
        return bool(spans(node, doc))
    if isinstance(node, Near):
        return _near_exists(spans(node.left, doc), spans(node.right, doc), node.distance)
    if isinstance(node, Tag):
        return any(node.accepts(body) for body, _, _ in doc.tags(node.sigil))
    if isinstance(node, Author):
        if doc.author is None:
            return False
        return doc.author.startswith(node.handle) if node.prefix else doc.author == node.handle
    if isinstance(node, Source):
        if doc.source is None:
            return False
        return doc.source.startswith(node.name) if node.prefix else doc.source == node.name
    if isinstance(node, Lang):
        return doc.lang is not None and (
            doc.lang == node.code or doc.lang.startswith(node.code + "-")
        )
    if isinstance(node, Followers):
        return doc.followers is not None and _compare(doc.followers, node.op, node.value)
    return doc.has_link  # HasLink


# --- what a query needs, for the prefilter ---------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Needle:
    """A folded word (or word prefix) that a post must contain for a query to match it."""

    text: str
    prefix: bool = False


def needles(node: Node) -> frozenset[Needle] | None:
    """A set of needles of which every matching post contains at least one, or None when no
    such set exists (negations, fields, an OR with such a branch). Sound, not complete: a post
    holding a needle may still fail the query, which is then evaluated exactly."""
    if isinstance(node, Word):
        return frozenset({Needle(node.term.text, node.term.prefix)})
    if isinstance(node, Phrase):
        return frozenset({_best_term(node.terms)})
    if isinstance(node, Tag):
        body_words = split_words(node.body)
        if not body_words:
            return None
        # a body like "咖啡" is several words; its first is whole unless it is also the last
        only = len(body_words) == 1
        return frozenset({Needle(body_words[0], node.prefix and only)})
    if isinstance(node, Near):
        return _best([needles(node.left), needles(node.right)])
    if isinstance(node, And):
        return _best([needles(child) for child in node.children])
    if isinstance(node, Or):
        union: set[Needle] = set()
        for child in node.children:
            found = needles(child)
            if found is None:
                return None
            union |= found
        return frozenset(union)
    return None


def _best_term(terms: tuple[Term, ...]) -> Needle:
    """The rarest-looking word of a phrase: whole words before prefixes, then the longest."""
    term = max(terms, key=lambda t: (not t.prefix, len(t.text)))
    return Needle(term.text, term.prefix)


def _cost(found: frozenset[Needle]) -> float:
    # Short needles and prefixes let more posts through; a set costs the sum of its needles.
    return sum((2.0 if n.prefix else 1.0) / len(n.text) for n in found)


def _best(options: list[frozenset[Needle] | None]) -> frozenset[Needle] | None:
    present = [o for o in options if o is not None]
    return min(present, key=_cost) if present else None


# --- a compiled query ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Query:
    """A listening query compiled once: its text, its tree and its prefilter needles (None:
    the query must be evaluated on every post). Build it with
    `groundswell.listening.query.compile_query`."""

    text: str
    root: Node
    needles: frozenset[Needle] | None

    def matches(self, doc: Document) -> bool:
        return evaluate(self.root, doc)
