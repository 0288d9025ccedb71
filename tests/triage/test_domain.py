"""The priority rule: a table of worked cases, its monotonicity (Hypothesis) and `why`."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from groundswell.triage.domain import (
    DEFAULT_WEIGHTS,
    INTENT_LABELS,
    RISK_INTENTS,
    Hints,
    PriorityWeights,
    Sentiment,
    Triage,
    prioritize,
    priority,
    weights_with_overrides,
)
from groundswell.triage.recognizers import PersonalDataSpan


def expected(contributions: list[float], spam_damping: float = 1.0, amplifier: float = 1.0) -> int:
    """The documented formula, written out independently of the implementation."""
    content = (1 - math.prod(1 - c for c in contributions)) * spam_damping
    return math.floor(100 * (1 - (1 - content) ** amplifier) + 0.5)


W = DEFAULT_WEIGHTS


@pytest.mark.parametrize(
    ("kwargs", "want"),
    [
        ({"negative": 0.0, "intents": {}}, 0),
        ({"negative": 1.0, "intents": {}}, expected([W.negative])),
        (
            {"negative": 0.9, "intents": {"complaint": 0.9}},
            expected([W.negative * 0.9, W.complaint * 0.9]),
        ),
        ({"negative": 0.2, "intents": {"safety_risk": 1.0}}, expected([0.2 * W.negative, 0.9])),
        (
            {"negative": 0.9, "intents": {"complaint": 0.9}, "hints": Hints(followers=1_000_000)},
            expected([W.negative * 0.9, W.complaint * 0.9], amplifier=2.0),
        ),
        (
            {"negative": 0.9, "intents": {"complaint": 0.9, "spam": 1.0}},
            expected([W.negative * 0.9, W.complaint * 0.9], spam_damping=1 - W.spam),
        ),
        (
            {"negative": 0.0, "intents": {"question": 1.0}, "hints": Hints(age_hours=48)},
            expected([W.question], amplifier=1 + W.age),
        ),
        # answered: the question no longer counts, nor does the waiting time
        (
            {
                "negative": 0.0,
                "intents": {"question": 1.0},
                "hints": Hints(age_hours=48, answered=True),
            },
            0,
        ),
        # reach never lifts a post with no content signal
        ({"negative": 0.0, "intents": {}, "hints": Hints(followers=10**8, verified=True)}, 0),
        # every risk at 1 with full amplification
        (
            {
                "negative": 1.0,
                "intents": dict.fromkeys(RISK_INTENTS, 1.0),
                "offensive": 1.0,
                "hate": 1.0,
            },
            100,
        ),
    ],
)
def test_priority_table(kwargs: dict[str, object], want: int) -> None:
    assert priority(**kwargs) == want  # type: ignore[arg-type]  # kwargs typed loosely for the table


def test_priority_clips_out_of_range_probabilities() -> None:
    assert priority(negative=7.0, intents={"complaint": -3.0}) == priority(
        negative=1.0, intents={"complaint": 0.0}
    )


probability = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
risk_intents = st.fixed_dictionaries({name: probability for name in INTENT_LABELS})
hints = st.builds(
    Hints,
    followers=st.none() | st.integers(min_value=0, max_value=10**9),
    verified=st.none() | st.booleans(),
    age_hours=st.none() | st.floats(min_value=0, max_value=10_000, allow_nan=False),
    answered=st.none() | st.booleans(),
)


@given(probability, probability, risk_intents, probability, probability, hints)
def test_more_negative_never_lowers_priority(
    a: float, b: float, intents: dict[str, float], off: float, hate: float, h: Hints
) -> None:
    lo, hi = sorted((a, b))
    assert priority(negative=lo, intents=intents, offensive=off, hate=hate, hints=h) <= priority(
        negative=hi, intents=intents, offensive=off, hate=hate, hints=h
    )


@given(
    probability,
    risk_intents,
    hints,
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
)
def test_more_reach_never_lowers_priority(
    neg: float, intents: dict[str, float], h: Hints, f1: int, f2: int
) -> None:
    lo, hi = sorted((f1, f2))
    p_lo = priority(negative=neg, intents=intents, hints=h.model_copy(update={"followers": lo}))
    p_hi = priority(negative=neg, intents=intents, hints=h.model_copy(update={"followers": hi}))
    assert p_lo <= p_hi


@given(
    probability,
    risk_intents,
    probability,
    probability,
    hints,
    st.sampled_from([*RISK_INTENTS, "offensive", "hate"]),
    probability,
    probability,
)
def test_more_risk_never_lowers_priority(
    neg: float,
    intents: dict[str, float],
    off: float,
    hate: float,
    h: Hints,
    signal: str,
    a: float,
    b: float,
) -> None:
    lo, hi = sorted((a, b))

    def score(value: float) -> int:
        values = {"offensive": off, "hate": hate}
        its = dict(intents)
        if signal in values:
            values[signal] = value
        else:
            its[signal] = value
        return priority(negative=neg, intents=its, hints=h, **values)

    assert score(lo) <= score(hi)


@given(probability, risk_intents, hints)
def test_priority_is_within_bounds(neg: float, intents: dict[str, float], h: Hints) -> None:
    assert 0 <= priority(negative=neg, intents=intents, hints=h) <= 100


@given(probability, risk_intents, probability, probability, hints)
def test_prioritize_agrees_with_priority(
    neg: float, intents: dict[str, float], off: float, hate: float, h: Hints
) -> None:
    value, why = prioritize(
        sentiment_label="negative",
        sentiment_score=neg,
        negative=neg,
        intents=intents,
        offensive=off,
        hate=hate,
        hints=h,
    )
    assert value == priority(negative=neg, intents=intents, offensive=off, hate=hate, hints=h)
    assert why


def test_why_names_strong_signals_with_cues_and_reach() -> None:
    _, why = prioritize(
        sentiment_label="negative",
        sentiment_score=0.91,
        negative=0.91,
        intents={"safety_risk": 0.72, "complaint": 0.3},
        offensive=0.1,
        hate=0.0,
        hints=Hints(followers=52_300),
        cues={"sentiment": ["worst", "smoke"], "safety_risk": ["fire"]},
    )
    assert why == "safety_risk 0.72 ('fire'); negative 0.91 ('worst', 'smoke'); reach 52k followers"


def test_why_without_strong_signal_names_the_sentiment() -> None:
    value, why = prioritize(
        sentiment_label="positive",
        sentiment_score=0.88,
        negative=0.02,
        intents={"praise": 0.9},
        offensive=0.0,
        hate=0.0,
        cues={"sentiment": ["love"]},
    )
    assert (value, why) == (
        priority(negative=0.02, intents={"praise": 0.9}),
        "positive 0.88 ('love')",
    )


def test_weights_overrides_validate() -> None:
    assert weights_with_overrides({"reach": 2.0}).reach == 2.0
    with pytest.raises(ValueError, match="unknown triage priority weight"):
        weights_with_overrides({"reech": 2.0})
    with pytest.raises(ValidationError):
        weights_with_overrides({"negative": 1.5})


def test_hints_reject_unknown_and_negative_values() -> None:
    with pytest.raises(ValidationError):
        Hints(followers=-1)
    with pytest.raises(ValidationError):
        Hints.model_validate({"folowers": 3})


def test_triage_record_has_the_cli_contract_keys() -> None:
    t = Triage(
        language="en",
        language_confidence=0.9,
        sentiment=Sentiment(
            label="neutral", scores={"negative": 0.1, "neutral": 0.8, "positive": 0.1}
        ),
        intents=dict.fromkeys(INTENT_LABELS, 0.0),
        labels=[],
        emotion={"anger": 0.25, "joy": 0.25, "optimism": 0.25, "sadness": 0.25},
        offensive=0.0,
        hate=0.0,
        irony=False,
        personal_data=[PersonalDataSpan("email", 0, 5)],
        priority=3,
        why="neutral 0.80",
    )
    record = t.to_record("x1")
    assert list(record) == [
        "id",
        "language",
        "sentiment",
        "intents",
        "labels",
        "emotion",
        "offensive",
        "hate",
        "irony",
        "personal_data",
        "priority",
        "why",
    ]
    assert record["personal_data"] == [{"type": "email", "start": 0, "end": 5}]
    assert PriorityWeights().model_dump() == DEFAULT_WEIGHTS.model_dump()
