"""Many saved listening queries against each post: a multi-pattern prefilter, then exact
evaluation.

Each compiled query carries *needles* (`domain.needles`): words or word prefixes of which every
post it matches contains at least one. A prefilter finds, in one pass over a post, the needles
it holds and so the queries worth evaluating; queries without needles (pure negations, fields
alone) are evaluated on every post. The prefilter only narrows; exact evaluation decides, so
results never depend on which prefilter runs.

Prefilters (``bench/queries.py`` measures them side by side; see ``docs/queries.md``):

* ``aho`` (default): an Aho-Corasick automaton (pyahocorasick, in C) over all needles, run on
  the post's folded text; a post holding no needle is never split into words at all.
* ``words``: a hash lookup of each distinct word of the post, and of its prefixes at the
  lengths some wildcard uses. Pure Python.
* ``regex``: one compiled alternation of all needles, scanned over the folded text with a
  look-ahead so overlapping needles are all seen.
* ``none``: evaluate every query on every post (the baseline).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Generic, Literal, Protocol, TypeVar

import ahocorasick  # type: ignore[import-not-found]  # C extension without type stubs

from groundswell.listening.domain import Document, Needle, Query
from groundswell.listening.schemas import PostIn

K = TypeVar("K")
PrefilterName = Literal["aho", "words", "regex", "none"]
PREFILTERS: tuple[PrefilterName, ...] = ("aho", "words", "regex", "none")


class Prefilter(Protocol):
    def candidates(self, doc: Document) -> set[int]:
        """Indexes of the needle-bearing queries whose needles `doc` may hold."""
        ...


class AhoCorasickPrefilter:
    """All needles in one automaton; one pass over the folded text reports every occurrence,
    overlapping ones included. Needles are matched as substrings, which a post holding the
    word (or word prefix) always contains."""

    def __init__(self, needles: Sequence[frozenset[Needle] | None]) -> None:
        owners: dict[str, list[int]] = {}
        for index, found in enumerate(needles):
            for needle in found or ():
                owners.setdefault(needle.text, []).append(index)
        self.automaton: object | None = None
        if owners:
            automaton = ahocorasick.Automaton()
            for text, indexes in owners.items():
                automaton.add_word(text, tuple(indexes))
            automaton.make_automaton()
            self.automaton = automaton

    def candidates(self, doc: Document) -> set[int]:
        found: set[int] = set()
        if self.automaton is not None:
            for _end, indexes in self.automaton.iter(doc.folded):  # type: ignore[attr-defined]
                found.update(indexes)
        return found


class WordPrefilter:
    """Needles by word: exact words in one dict, prefixes in another keyed by the prefix."""

    def __init__(self, needles: Sequence[frozenset[Needle] | None]) -> None:
        self.exact: dict[str, list[int]] = {}
        self.prefixes: dict[str, list[int]] = {}
        for index, found in enumerate(needles):
            for needle in found or ():
                table = self.prefixes if needle.prefix else self.exact
                table.setdefault(needle.text, []).append(index)
        self.lengths = sorted({len(p) for p in self.prefixes})

    def candidates(self, doc: Document) -> set[int]:
        found: set[int] = set()
        exact, prefixes, lengths = self.exact, self.prefixes, self.lengths
        for word in doc.word_set:
            hit = exact.get(word)
            if hit is not None:
                found.update(hit)
            for length in lengths:
                if length > len(word):
                    break
                hit = prefixes.get(word[:length])
                if hit is not None:
                    found.update(hit)
        return found


class RegexPrefilter:
    """All needles in one alternation. At each offset the regex reports one needle only, the
    longest; the needles that are prefixes of it are present too, so each needle also stands
    for those (`implied`)."""

    def __init__(self, needles: Sequence[frozenset[Needle] | None]) -> None:
        owners: dict[str, list[int]] = {}
        for index, found in enumerate(needles):
            for needle in found or ():
                owners.setdefault(needle.text, []).append(index)
        texts = sorted(owners, key=lambda t: (-len(t), t))
        self.implied: dict[str, set[int]] = {
            text: {i for other in texts if text.startswith(other) for i in owners[other]}
            for text in texts
        }
        body = "|".join(re.escape(t) for t in texts)
        self.pattern = re.compile(f"(?=({body}))") if texts else None

    def candidates(self, doc: Document) -> set[int]:
        if self.pattern is None:
            return set()
        found: set[int] = set()
        for text in set(self.pattern.findall(doc.folded)):
            found |= self.implied[text]
        return found


class QuerySet(Generic[K]):
    """Compiled queries under caller-chosen keys; `match` returns the keys of the queries a
    post satisfies, in the order the queries were given."""

    def __init__(self, queries: Iterable[tuple[K, Query]], prefilter: PrefilterName = "aho"):
        pairs = list(queries)
        self.keys: list[K] = [k for k, _ in pairs]
        self.queries: list[Query] = [q for _, q in pairs]
        needles = [q.needles if prefilter != "none" else None for q in self.queries]
        # queries with no needles are candidates for every post
        self.always: list[int] = [i for i, n in enumerate(needles) if n is None]
        self.prefilter: Prefilter | None = None
        if prefilter == "aho":
            self.prefilter = AhoCorasickPrefilter(needles)
        elif prefilter == "words":
            self.prefilter = WordPrefilter(needles)
        elif prefilter == "regex":
            self.prefilter = RegexPrefilter(needles)

    def __len__(self) -> int:
        return len(self.queries)

    def match(self, doc: Document) -> list[K]:
        if self.prefilter is None:
            candidates: Iterable[int] = self.always
        else:
            found = self.prefilter.candidates(doc)
            if self.always:
                found.update(self.always)
            candidates = sorted(found)
        queries = self.queries
        return [self.keys[i] for i in candidates if queries[i].matches(doc)]

    def match_post(self, post: PostIn) -> list[K]:
        return self.match(Document.from_post(post))
