"""Why an alert fired: terms and near-duplicate clusters that grew against the baseline, top
authors by reach, example posts.

Pure standard library; never reads the clock. The `Explainer` sees every post in time order
(`add`) and is told when time moves on (`advance`); it keeps the posts of the longest alert
window and, per topic, hourly document frequencies of terms and of near-duplicate signatures
for the last `BASELINE_HOURS` hours. Memory: the posts of one window plus one day of term and
signature counts per topic.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import zlib
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from groundswell.crisis.domain import Metric, Spike

BASELINE_HOURS: Final = 24
TOP_TERMS: Final = 5
TOP_CLUSTERS: Final = 3
TOP_AUTHORS: Final = 5
EXAMPLES: Final = 3
EXAMPLE_CHARS: Final = 280
MIN_CLUSTER: Final = 3
MIN_TERM_COUNT: Final = 3
# MinHash: BANDS bands of ROWS rows; two posts share a band with probability about
# 1 - (1 - J^ROWS)^BANDS (J = Jaccard similarity of their word pairs): 0.94 at J = 0.6,
# 0.22 at J = 0.2. Each hash function is CRC-32 XOR a fixed salt: a permutation of the
# 32-bit values, cheap enough to sign every post (the baseline counts signatures too).
BANDS: Final = 5
ROWS: Final = 2
_SALTS: Final = tuple(
    int.from_bytes(hashlib.blake2b(f"salt{i}".encode(), digest_size=4).digest())
    for i in range(BANDS * ROWS)
)

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_WORD = re.compile(r"#?\w+", re.UNICODE)
_LETTERS = re.compile(r"[^\W\d_]+")
_STOP_WORDS: Final = """a an and are as at be been but by can could did do does for from had has have he her
    him his how i if in into is it its just me my no not of on or our out so than that the
    their them then there these they this those to too up us was we were what when where which
    who why will with would you your yours im dont cant wont rt amp via get got one all any
    more about after again also am just like now only over some such very here u ur
    le la les un une des et est en du de pas pour que qui sur der die das und ist nicht ein
    eine el los las por con para que del se lo"""
_STOP: Final = frozenset(_STOP_WORDS.split())


def terms(text: str) -> set[str]:
    """Distinct content words and hashtags, lower-cased; URLs, mentions, numbers, stop words
    and words under three letters dropped."""
    text = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    out: set[str] = set()
    for word in _WORD.findall(text):
        bare = word.lstrip("#")
        if bare.isdigit() or bare in _STOP or (len(bare) < 3 and not word.startswith("#")):
            continue
        out.add(word)
    return out


def signature(text: str) -> tuple[str, ...]:
    """Band keys of a MinHash over the post's word pairs (URLs, mentions, digits and
    punctuation removed): near-duplicates share at least one key with high probability.
    Empty for texts under three words."""
    clean = _MENTION.sub(" ", _URL.sub(" ", text.lower()))
    words = _LETTERS.findall(clean)
    if len(words) < 3:
        return ()
    shingles = {f"{a} {b}" for a, b in itertools.pairwise(words)}
    hashes = [zlib.crc32(s.encode()) for s in shingles]
    mins = [min(h ^ salt for h in hashes) for salt in _SALTS]
    return tuple(
        f"{band}:" + ",".join(str(m) for m in mins[band * ROWS : (band + 1) * ROWS])
        for band in range(BANDS)
    )


@dataclass
class Post:
    """What an explanation needs of one post."""

    at: datetime
    id: str | None
    text: str
    topics: tuple[str, ...]
    author: str | None = None
    followers: int | None = None
    negative: bool = False
    risks: frozenset[str] = frozenset()
    terms: set[str] = field(default_factory=set)
    keys: tuple[str, ...] = ()


@dataclass
class _TopicBaseline:
    hours: deque[tuple[int, int, Counter[str], Counter[str]]] = field(default_factory=deque)
    docs: int = 0
    terms: Counter[str] = field(default_factory=Counter)
    keys: Counter[str] = field(default_factory=Counter)
    current_hour: int | None = None
    current_docs: int = 0
    current_terms: Counter[str] = field(default_factory=Counter)
    current_keys: Counter[str] = field(default_factory=Counter)

    def roll(self, hour: int) -> None:
        if self.current_hour is not None and hour != self.current_hour:
            self.hours.append(
                (self.current_hour, self.current_docs, self.current_terms, self.current_keys)
            )
            self.docs += self.current_docs
            self.terms.update(self.current_terms)
            self.keys.update(self.current_keys)
            self.current_docs = 0
            self.current_terms = Counter()
            self.current_keys = Counter()
        self.current_hour = hour
        while self.hours and self.hours[0][0] < hour - BASELINE_HOURS:
            _, docs, old_terms, old_keys = self.hours.popleft()
            self.docs -= docs
            self.terms.subtract(old_terms)
            self.keys.subtract(old_keys)
            # Drop zeros so the counters hold one day's vocabulary, not every word ever seen.
            for term in old_terms:
                if self.terms.get(term, 0) <= 0:
                    self.terms.pop(term, None)
            for key in old_keys:
                if self.keys.get(key, 0) <= 0:
                    self.keys.pop(key, None)

    def add(self, post: Post) -> None:
        self.current_docs += 1
        self.current_terms.update(post.terms)
        self.current_keys.update(post.keys)


class Explainer:
    """Keeps what `explain` needs; see the module docstring for the memory it holds."""

    def __init__(self, window_seconds: int) -> None:
        self.window_seconds = window_seconds
        self.recent: deque[Post] = deque()
        self.baselines: dict[str | None, _TopicBaseline] = {}

    def _hour(self, at: datetime) -> int:
        return int(at.timestamp()) // 3600

    def add(self, post: Post) -> None:
        """Record a post (in time order, after `advance` to its bucket)."""
        post.terms = terms(post.text)
        post.keys = signature(post.text)
        self.recent.append(post)
        hour = self._hour(post.at)
        for topic in (None, *post.topics):
            baseline = self.baselines.get(topic)
            if baseline is None:
                baseline = self.baselines[topic] = _TopicBaseline()
            baseline.roll(hour)
            baseline.add(post)

    def advance(self, now: datetime) -> None:
        """Forget posts older than the longest window before ``now``; roll hourly counts."""
        cutoff = now.timestamp() - self.window_seconds
        while self.recent and self.recent[0].at.timestamp() < cutoff:
            self.recent.popleft()
        hour = self._hour(now)
        for baseline in self.baselines.values():
            baseline.roll(hour)

    def explain(self, spike: Spike) -> dict[str, Any]:
        """The ``why`` object of an alert: see docs/crisis.md for its fields."""
        posts = [
            p
            for p in self.recent
            if spike.window_start <= p.at < spike.at
            and (spike.topic is None or spike.topic in p.topics)
            and _relevant(p, spike.metric)
        ]
        baseline = self.baselines.get(spike.topic) or _TopicBaseline()
        window_hours = (spike.at - spike.window_start).total_seconds() / 3600
        minutes = round(window_hours * 60)
        clusters = _clusters(posts, baseline, window_hours)
        return {
            "summary": _summary(spike, minutes),
            "window_minutes": minutes,
            "posts": len(posts),
            "terms": _grown_terms(posts, baseline),
            "clusters": clusters,
            "authors": _authors(posts),
            "examples": _examples(posts, clusters),
        }


def _relevant(post: Post, metric: Metric) -> bool:
    if metric == "volume":
        return True
    if metric == "negative_share":
        return post.negative
    return metric in post.risks


def _summary(spike: Spike, minutes: int) -> str:
    where = f"topic {spike.topic!r}" if spike.topic is not None else "all posts"
    if spike.metric == "negative_share":
        return (
            f"negative share {spike.observed:.0%} in {minutes} min vs {spike.expected:.0%} "
            f"expected ({where}; score {spike.score:.1f})"
        )
    ratio = spike.observed / spike.expected if spike.expected > 0 else float("inf")
    label = "posts" if spike.metric == "volume" else f"{spike.metric} posts"
    return (
        f"{spike.observed:.0f} {label} in {minutes} min vs {spike.expected:.1f} expected "
        f"({ratio:.1f}x, {where}; score {spike.score:.1f})"
    )


def _grown_terms(posts: list[Post], baseline: _TopicBaseline) -> list[dict[str, Any]]:
    """Terms used by more window posts than the last day's share predicts, most surprising
    first (a Poisson-style excess ``(c - e) / sqrt(e + 1)``)."""
    n = len(posts)
    if n == 0:
        return []
    counts: Counter[str] = Counter()
    for p in posts:
        counts.update(p.terms)
    scored = []
    for term, c in counts.items():
        if c < MIN_TERM_COUNT:
            continue
        expected = n * (baseline.terms.get(term, 0) + 0.5) / (baseline.docs + 1)
        if c < 2 * expected:
            continue
        scored.append(((c - expected) / (expected + 1) ** 0.5, term, c, expected))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return [
        {"term": term, "posts": c, "expected": round(e, 2)} for _, term, c, e in scored[:TOP_TERMS]
    ]


@dataclass
class _Cluster:
    members: list[Post]
    baseline: int


def _clusters(
    posts: list[Post], baseline: _TopicBaseline, window_hours: float
) -> list[dict[str, Any]]:
    """Near-duplicate groups of the window (posts sharing a MinHash band, transitively) of at
    least `MIN_CLUSTER` posts that outgrew what the last day's copies predict."""
    parent = list(range(len(posts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, p in enumerate(posts):
        for key in p.keys:
            j = first.setdefault(key, i)
            if j != i:
                parent[find(i)] = find(j)
    groups: dict[int, list[Post]] = {}
    for i, p in enumerate(posts):
        if p.keys:
            groups.setdefault(find(i), []).append(p)
    found: list[tuple[float, _Cluster]] = []
    scale = window_hours / BASELINE_HOURS
    for members in groups.values():
        if len(members) < MIN_CLUSTER:
            continue
        keys = Counter(k for p in members for k in p.keys)
        before = max(baseline.keys.get(k, 0) for k in keys)
        expected = before * scale
        if len(members) < 2 * expected + MIN_CLUSTER:
            continue
        found.append((len(members) - expected, _Cluster(members, before)))
    found.sort(key=lambda f: (-f[0], f[1].members[0].at))
    return [
        {
            "posts": len(c.members),
            "posts_last_24h": c.baseline,
            "example": _example(_representative(c.members)),
            "ids": [p.id for p in c.members if p.id is not None][:10],
        }
        for _, c in found[:TOP_CLUSTERS]
    ]


def _representative(members: list[Post]) -> Post:
    return max(members, key=lambda p: (p.followers or 0, -p.at.timestamp()))


def _authors(posts: Iterable[Post]) -> list[dict[str, Any]]:
    """Authors of the window by reach (followers, then posts)."""
    seen: dict[str, dict[str, Any]] = {}
    for p in posts:
        if p.author is None:
            continue
        entry = seen.setdefault(p.author, {"author": p.author, "followers": None, "posts": 0})
        entry["posts"] += 1
        if p.followers is not None:
            entry["followers"] = max(entry["followers"] or 0, p.followers)
    ranked = sorted(seen.values(), key=lambda a: (-(a["followers"] or 0), -a["posts"], a["author"]))
    return ranked[:TOP_AUTHORS]


def _example(post: Post) -> dict[str, Any]:
    text = post.text if len(post.text) <= EXAMPLE_CHARS else post.text[: EXAMPLE_CHARS - 1] + "…"
    at = post.at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    out: dict[str, Any] = {"id": post.id, "at": at, "text": text}
    if post.author is not None:
        out["author"] = post.author
    return out


def _examples(posts: list[Post], clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to `EXAMPLES` posts: the biggest cluster's representative, then the widest reach,
    then the latest."""
    chosen: list[dict[str, Any]] = []
    if clusters:
        chosen.append(clusters[0]["example"])
    ranked = sorted(posts, key=lambda p: (-(p.followers or 0), -p.at.timestamp()))
    for p in ranked:
        if len(chosen) >= EXAMPLES:
            break
        ex = _example(p)
        if all(ex["text"] != c["text"] for c in chosen):
            chosen.append(ex)
    return chosen
