"""Routing rules and assignment, as pure data and pure functions.

A routing rule is ordered data: `Conditions` (all given ones must hold) and `Actions`. For a
mention, `route` walks the active rules in order; every rule whose conditions hold applies its
actions on top of what earlier rules decided (a later team, assignee, priority or saved reply
replaces an earlier one; tags add up), and a rule with `stop` ends the walk. Whether the
mention opens a conversation at all is decided first by the default (a direct message, a
complaint or a question, or priority >= the organization's threshold) and then by any rule's
`open` action.

`pick_assignee` chooses a team member for a new conversation: only available members below
their capacity who speak the conversation's language (a member with no languages listed takes
any); `round_robin` takes the one given work longest ago (never given any first), `load` the
one with the lowest share of their capacity in use (then round robin among equals).

Pure: no database, no clock.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

COMPLAINT = "complaint"
QUESTION = "question"


class Strategy(StrEnum):
    ROUND_ROBIN = "round_robin"
    LOAD = "load"
    MANUAL = "manual"


class Conditions(BaseModel):
    """What a mention must look like for a rule to apply. Empty lists and None mean "any";
    lists match when the mention has at least one of their values (case-insensitive)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: list[str] = Field(default_factory=list, description="Any of these triage labels.")
    sentiment: list[str] = Field(default_factory=list, description="negative/neutral/positive.")
    languages: list[str] = Field(default_factory=list, description="Language codes, e.g. en.")
    sources: list[str] = Field(default_factory=list, description="Source names.")
    channels: list[str] = Field(
        default_factory=list, description="public, or direct (direct messages to the brand)."
    )
    topics: list[str] = Field(default_factory=list, description="Listening query topics.")
    words: list[str] = Field(
        default_factory=list, description="Any of these words or phrases (whole words)."
    )
    min_followers: int | None = Field(default=None, ge=0, description="Author reach, at least.")
    max_followers: int | None = Field(default=None, ge=0, description="Author reach, at most.")
    min_priority: int | None = Field(default=None, ge=0, le=100)


class Actions(BaseModel):
    """What a rule does. None leaves the earlier decision as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open: bool | None = Field(
        default=None, description="True: always open a conversation; False: never."
    )
    team_id: str | None = None
    assignee_id: str | None = None
    priority: int | None = Field(default=None, ge=0, le=100)
    tags: list[str] = Field(default_factory=list)
    saved_reply_id: str | None = None
    stop: bool = Field(default=False, description="Evaluate no further rules.")


class Rule(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    conditions: Conditions = Field(default_factory=Conditions)
    actions: Actions = Field(default_factory=Actions)


@dataclass(frozen=True, slots=True)
class Facts:
    """What routing knows about a mention."""

    text: str
    labels: Sequence[str] = ()
    sentiment: str | None = None
    language: str | None = None
    source: str = ""
    topics: Sequence[str] = ()
    followers: int | None = None
    priority: int = 0
    direct: bool = False  # a direct (private) message to the brand account


@dataclass(slots=True)
class Routing:
    """The outcome: whether to open a conversation, and its team, assignee, priority, tags,
    suggested saved reply; `matched` names the rules that applied, in order."""

    open: bool
    priority: int
    team_id: str | None = None
    assignee_id: str | None = None
    tags: list[str] = field(default_factory=list)
    saved_reply_id: str | None = None
    matched: list[str] = field(default_factory=list)


def _fold(values: Sequence[str]) -> set[str]:
    return {v.strip().lower() for v in values if v.strip()}


def _has_word(text: str, phrase: str) -> bool:
    pattern = r"(?<!\w)" + r"\s+".join(map(re.escape, phrase.split())) + r"(?!\w)"
    return re.search(pattern, text, flags=re.IGNORECASE) is not None


def matches(conditions: Conditions, facts: Facts) -> bool:
    """Whether every condition given holds for `facts`."""
    c = conditions
    if c.labels and not _fold(c.labels) & _fold(facts.labels):
        return False
    if c.sentiment and (facts.sentiment or "").lower() not in _fold(c.sentiment):
        return False
    if c.languages:
        language = (facts.language or "").lower()
        # "en" matches "en-gb": a rule names the language, the source may name the region.
        if not any(
            language == lang or language.startswith(lang + "-") for lang in _fold(c.languages)
        ):
            return False
    if c.sources and facts.source.lower() not in _fold(c.sources):
        return False
    if c.channels and ("direct" if facts.direct else "public") not in _fold(c.channels):
        return False
    if c.topics and not _fold(c.topics) & _fold(facts.topics):
        return False
    if c.words and not any(_has_word(facts.text, word) for word in c.words if word.strip()):
        return False
    if c.min_followers is not None and (facts.followers or 0) < c.min_followers:
        return False
    if c.max_followers is not None and (facts.followers or 0) > c.max_followers:
        return False
    return c.min_priority is None or facts.priority >= c.min_priority


def opens_by_default(facts: Facts, min_priority: int) -> bool:
    """The default: direct messages (someone wrote to the brand privately), complaints,
    questions, and anything at or above `min_priority`."""
    labels = _fold(facts.labels)
    return (
        facts.direct or COMPLAINT in labels or QUESTION in labels or facts.priority >= min_priority
    )


def route(rules: Sequence[Rule], facts: Facts, *, min_priority: int) -> Routing:
    """Apply the rules in order (see the module docstring)."""
    result = Routing(open=opens_by_default(facts, min_priority), priority=facts.priority)
    for rule in rules:
        if not matches(rule.conditions, facts):
            continue
        a = rule.actions
        result.matched.append(rule.name)
        if a.open is not None:
            result.open = a.open
        if a.team_id is not None:
            result.team_id = a.team_id
        if a.assignee_id is not None:
            result.assignee_id = a.assignee_id
        if a.priority is not None:
            result.priority = a.priority
        for tag in a.tags:
            if tag and tag not in result.tags:
                result.tags.append(tag)
        if a.saved_reply_id is not None:
            result.saved_reply_id = a.saved_reply_id
        if a.stop:
            break
    return result


@dataclass(frozen=True, slots=True)
class Candidate:
    """A team member as assignment sees them: `load` is how many unresolved conversations
    they hold now."""

    user_id: str
    capacity: int
    load: int
    available: bool = True
    languages: Sequence[str] = ()
    last_assigned_at: datetime | None = None


def speaks(candidate: Candidate, language: str | None) -> bool:
    if not candidate.languages or not language:
        return True
    language = language.lower()
    return any(
        language == lang or language.startswith(lang + "-") for lang in _fold(candidate.languages)
    )


def eligible(candidates: Sequence[Candidate], language: str | None) -> list[Candidate]:
    return [c for c in candidates if c.available and c.load < c.capacity and speaks(c, language)]


def pick_assignee(
    candidates: Sequence[Candidate], language: str | None, strategy: Strategy
) -> str | None:
    """The member to give a new conversation to, or None (manual, or nobody eligible)."""
    if strategy is Strategy.MANUAL:
        return None
    pool = eligible(candidates, language)
    if not pool:
        return None

    def round_robin_key(c: Candidate) -> tuple[int, float, str]:
        when = c.last_assigned_at.timestamp() if c.last_assigned_at else 0.0
        return (0 if c.last_assigned_at is None else 1, when, c.user_id)

    if strategy is Strategy.LOAD:
        return min(pool, key=lambda c: (c.load / c.capacity, *round_robin_key(c))).user_id
    return min(pool, key=round_robin_key).user_id
