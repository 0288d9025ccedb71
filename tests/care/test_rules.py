"""Routing rules and assignment: pure evaluation, table-tested."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from groundswell.care.rules import (
    Actions,
    Candidate,
    Conditions,
    Facts,
    Rule,
    Strategy,
    matches,
    pick_assignee,
    route,
)

POST = Facts(
    text="My refund still hasn't arrived. Really disappointed!",
    labels=("complaint",),
    sentiment="negative",
    language="en-GB",
    source="masto",
    topics=("billing",),
    followers=25_000,
    priority=55,
)


@pytest.mark.parametrize(
    ("conditions", "expected"),
    [
        ({}, True),
        ({"labels": ["complaint"]}, True),
        ({"labels": ["Question", "COMPLAINT"]}, True),
        ({"labels": ["praise"]}, False),
        ({"sentiment": ["negative"]}, True),
        ({"sentiment": ["positive", "neutral"]}, False),
        ({"languages": ["en"]}, True),  # "en" covers "en-gb"
        ({"languages": ["en-gb"]}, True),
        ({"languages": ["de"]}, False),
        ({"sources": ["masto"]}, True),
        ({"sources": ["bsky"]}, False),
        ({"topics": ["billing"]}, True),
        ({"topics": ["shipping"]}, False),
        ({"words": ["refund"]}, True),
        ({"words": ["REFUND"]}, True),
        ({"words": ["ref"]}, False),  # whole words only
        ({"words": ["still hasn't"]}, True),  # phrases
        ({"words": ["really   disappointed"]}, True),  # any spacing
        ({"min_followers": 10_000}, True),
        ({"min_followers": 50_000}, False),
        ({"max_followers": 1_000}, False),
        ({"min_priority": 55}, True),
        ({"min_priority": 56}, False),
        ({"labels": ["complaint"], "languages": ["de"]}, False),  # all must hold
    ],
)
def test_conditions(conditions: dict[str, object], expected: bool) -> None:
    assert matches(Conditions.model_validate(conditions), POST) is expected


def test_missing_facts_never_match_a_condition_on_them() -> None:
    bare = Facts(text="hello")
    assert not matches(Conditions(sentiment=["negative"]), bare)
    assert not matches(Conditions(languages=["en"]), bare)
    assert not matches(Conditions(min_followers=1), bare)
    assert matches(Conditions(max_followers=10), bare)  # unknown reach counts as none


def rule(name: str, conditions: dict[str, object], actions: dict[str, object]) -> Rule:
    return Rule(
        id=name,
        name=name,
        conditions=Conditions.model_validate(conditions),
        actions=Actions.model_validate(actions),
    )


@pytest.mark.parametrize(
    ("facts", "min_priority", "opens"),
    [
        (Facts(text="x", labels=("complaint",)), 60, True),
        (Facts(text="x", labels=("question",)), 60, True),
        (Facts(text="x", labels=("praise",), priority=59), 60, False),
        (Facts(text="x", labels=("praise",), priority=60), 60, True),
        (Facts(text="x", priority=100), 101, False),
    ],
)
def test_default_opening(facts: Facts, min_priority: int, opens: bool) -> None:
    assert route([], facts, min_priority=min_priority).open is opens


def test_rules_apply_in_order_later_ones_override_tags_add_up() -> None:
    rules = [
        rule("to billing", {"topics": ["billing"]}, {"team_id": "billing", "tags": ["money"]}),
        rule("vip", {"min_followers": 10_000}, {"priority": 90, "tags": ["vip", "money"]}),
        rule("no match", {"languages": ["fr"]}, {"team_id": "france"}),
        rule("escalate", {"words": ["refund"]}, {"team_id": "escalations", "saved_reply_id": "s1"}),
    ]
    result = route(rules, POST, min_priority=60)
    assert result.open
    assert result.team_id == "escalations"
    assert result.priority == 90
    assert result.tags == ["money", "vip"]
    assert result.saved_reply_id == "s1"
    assert result.matched == ["to billing", "vip", "escalate"]


def test_stop_and_open_actions() -> None:
    rules = [
        rule("ignore spam", {"words": ["refund"]}, {"open": False, "stop": True}),
        rule("never reached", {}, {"open": True, "team_id": "x"}),
    ]
    result = route(rules, POST, min_priority=60)
    assert not result.open
    assert result.team_id is None
    assert result.matched == ["ignore spam"]
    forced = route([rule("all", {}, {"open": True})], Facts(text="hi"), min_priority=60)
    assert forced.open


T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def cand(
    user: str,
    load: int = 0,
    capacity: int = 5,
    *,
    available: bool = True,
    languages: tuple[str, ...] = (),
    last_assigned_at: datetime | None = None,
) -> Candidate:
    return Candidate(user, capacity, load, available, languages, last_assigned_at)


@pytest.mark.parametrize(
    ("candidates", "language", "strategy", "expected"),
    [
        ([], "en", Strategy.ROUND_ROBIN, None),
        ([cand("a"), cand("b")], None, Strategy.MANUAL, None),
        # Round robin: never given work first, then the longest ago.
        ([cand("a", last_assigned_at=T), cand("b")], None, Strategy.ROUND_ROBIN, "b"),
        (
            [cand("a", last_assigned_at=T), cand("b", last_assigned_at=T + timedelta(minutes=1))],
            None,
            Strategy.ROUND_ROBIN,
            "a",
        ),
        # Capacity and availability exclude.
        ([cand("a", load=5), cand("b", last_assigned_at=T)], None, Strategy.ROUND_ROBIN, "b"),
        ([cand("a", available=False), cand("b", load=9, capacity=10)], None, Strategy.LOAD, "b"),
        ([cand("a", load=5), cand("b", load=5)], None, Strategy.LOAD, None),
        # Load: the lowest share of capacity in use.
        ([cand("a", load=2, capacity=4), cand("b", load=3, capacity=10)], None, Strategy.LOAD, "b"),
        ([cand("a", load=1), cand("b", load=1, last_assigned_at=T)], None, Strategy.LOAD, "a"),
        # Language skills: listed languages must include the conversation's; none listed: any.
        ([cand("a", languages=("de",)), cand("b", languages=("en",))], "en-US", Strategy.LOAD, "b"),
        ([cand("a", languages=("de",))], "fr", Strategy.ROUND_ROBIN, None),
        ([cand("a", languages=("de",)), cand("b")], "fr", Strategy.ROUND_ROBIN, "b"),
        ([cand("a", languages=("de",))], None, Strategy.ROUND_ROBIN, "a"),
    ],
)
def test_pick_assignee(
    candidates: list[Candidate], language: str | None, strategy: Strategy, expected: str | None
) -> None:
    assert pick_assignee(candidates, language, strategy) == expected
