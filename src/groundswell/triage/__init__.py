"""Triage: what a post is (language, sentiment, intents, emotion, offensive/hate, irony,
personal data) and how urgent it is (priority + why). The public surface of the room.

`triage`, `summarize` and `configured_weights` load on first use (PEP 562): importing this package, e.g. for
`find_personal_data` or for the root CLI's start-up, does not import numpy and the models.
"""

from typing import TYPE_CHECKING, Any

from groundswell.triage.domain import (
    EMOTION_LABELS,
    INTENT_LABELS,
    SENTIMENT_LABELS,
    Hints,
    PriorityRule,
    PriorityWeights,
    Sentiment,
    Triage,
    prioritize,
    priority,
    weights_with_overrides,
)
from groundswell.triage.recognizers import (
    PERSONAL_DATA_TYPES,
    PersonalDataSpan,
    find_personal_data,
    iban_valid,
    luhn_valid,
)

if TYPE_CHECKING:
    from groundswell.triage.service import configured_weights, summarize, triage


def __getattr__(name: str) -> Any:
    if name in ("triage", "summarize", "configured_weights"):
        from groundswell.triage import service

        return getattr(service, name)
    raise AttributeError(f"module 'groundswell.triage' has no attribute {name!r}")


__all__ = [
    "EMOTION_LABELS",
    "INTENT_LABELS",
    "PERSONAL_DATA_TYPES",
    "SENTIMENT_LABELS",
    "Hints",
    "PersonalDataSpan",
    "PriorityRule",
    "PriorityWeights",
    "Sentiment",
    "Triage",
    "configured_weights",
    "find_personal_data",
    "iban_valid",
    "luhn_valid",
    "prioritize",
    "priority",
    "summarize",
    "triage",
    "weights_with_overrides",
]
