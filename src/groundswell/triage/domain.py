"""What a post is, as pure data, and how urgent it is: the `Triage` record and the priority rule.

Pure: imports only the standard library, Pydantic and the sibling stdlib-only recognizers;
never reads the clock (callers pass the post's age in `Hints`).

Priority
--------
Each post gets ``priority`` 0..100 from two parts.

1. *Content urgency* ``s`` in [0, 1], a noisy-OR of signals, each a model probability ``x``
   times a weight ``w`` in [0, 1] (the most that signal alone can contribute)::

       s = (1 - Π_k (1 - w_k·x_k)) · (1 - w_spam·p_spam)

   over k = negative sentiment, complaint, churn_risk, safety_risk, legal_threat,
   press_or_influencer, question (only while not answered), offensive, hate. Noisy-OR lets any
   one strong signal raise the priority on its own, adds up weak ones without passing 1, and
   is non-decreasing in every probability. Spam only damps.

2. *Amplifiers* ``m >= 1`` from the author and the clock (`Hints`)::

       m = 1 + w_reach·r + w_verified·[verified] + w_age·a
       r = min(1, log10(1 + followers) / log10(1 + reach_saturation_followers))
       a = min(1, age_hours / age_horizon_hours)      (0 once answered)

   Age *raises* urgency: priority orders a work queue, and a post that has waited longer
   without an answer is more urgent, not less; the rise stops at the horizon (default 24 h),
   where an SLA has long been breached and further waiting adds no information.

   ``priority = round(100 · (1 - (1 - s)^m))``

   so amplifiers push a post towards 100 without ever lifting a post with no content signal
   (s = 0 stays 0: a huge account posting spam is not urgent) and without clipping.

Every step is non-decreasing in negativity, reach and each risk probability, which the tests
check with Hypothesis. Weights live in `PriorityWeights`; settings may override them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from groundswell.triage.recognizers import PersonalDataSpan

SentimentLabel = Literal["negative", "neutral", "positive"]

SENTIMENT_LABELS: Final[tuple[SentimentLabel, ...]] = ("negative", "neutral", "positive")
INTENT_LABELS: Final = (
    "complaint",
    "question",
    "praise",
    "suggestion",
    "purchase_intent",
    "churn_risk",
    "safety_risk",
    "legal_threat",
    "press_or_influencer",
    "spam",
)
EMOTION_LABELS: Final = ("anger", "joy", "optimism", "sadness")
UNDETERMINED_LANGUAGE: Final = "und"


class PriorityWeights(BaseModel):
    """Weights of the priority rule (see the module docstring). Signal weights are in [0, 1]:
    the most that one signal alone can contribute to content urgency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    negative: float = Field(0.35, ge=0, le=1, description="Negative-sentiment probability.")
    complaint: float = Field(0.35, ge=0, le=1, description="Complaint probability.")
    churn_risk: float = Field(0.55, ge=0, le=1, description="Churn-risk probability.")
    safety_risk: float = Field(0.9, ge=0, le=1, description="Safety-risk probability.")
    legal_threat: float = Field(0.8, ge=0, le=1, description="Legal-threat probability.")
    press_or_influencer: float = Field(
        0.5, ge=0, le=1, description="Press-or-influencer probability."
    )
    question: float = Field(
        0.25, ge=0, le=1, description="Question probability, while the post is not answered."
    )
    offensive: float = Field(0.2, ge=0, le=1, description="Offensive-language probability.")
    hate: float = Field(0.4, ge=0, le=1, description="Hate-speech probability.")
    spam: float = Field(
        0.8, ge=0, le=1, description="Damping: urgency is multiplied by 1 - spam·p(spam)."
    )
    reach: float = Field(1.0, ge=0, description="Amplifier for author reach (log followers).")
    reach_saturation_followers: float = Field(
        1_000_000, gt=0, description="Follower count at which reach counts fully."
    )
    verified: float = Field(0.25, ge=0, description="Amplifier for a verified author.")
    age: float = Field(0.5, ge=0, description="Amplifier for time waited without an answer.")
    age_horizon_hours: float = Field(
        24.0, gt=0, description="Waiting time at which the age amplifier counts fully."
    )


DEFAULT_WEIGHTS: Final = PriorityWeights()

# The signals of content urgency, in the order `why` prefers on ties.
RISK_INTENTS: Final = (
    "safety_risk",
    "legal_threat",
    "churn_risk",
    "complaint",
    "press_or_influencer",
)


class Hints(BaseModel):
    """What the caller knows about a post besides its text; every field is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    followers: int | None = Field(None, ge=0, description="Author's follower count.")
    verified: bool | None = Field(None, description="Whether the network verified the author.")
    age_hours: float | None = Field(
        None, ge=0, description="Hours since the post was published (caller computes it)."
    )
    answered: bool | None = Field(
        None, description="Whether the organization already answered the post."
    )


class Sentiment(BaseModel):
    """The winning sentiment label and the probability of each label (summing to 1)."""

    model_config = ConfigDict(frozen=True)

    label: SentimentLabel
    scores: dict[str, float]


class Triage(BaseModel):
    """Everything triage says about one post."""

    model_config = ConfigDict(frozen=True)

    language: str = Field(description="ISO 639-1 code, or 'und' when too short or unsure.")
    language_confidence: float
    sentiment: Sentiment
    intents: dict[str, float] = Field(description="Independent probability of each intent.")
    labels: list[str] = Field(description="Intents whose probability passed its threshold.")
    emotion: dict[str, float]
    offensive: float
    hate: float
    irony: bool
    personal_data: list[PersonalDataSpan]
    priority: int = Field(ge=0, le=100)
    why: str

    def to_record(self, id_: object = None) -> dict[str, object]:
        """The CLI's JSON object (the public output contract), with ``id`` first."""
        return {
            "id": id_,
            "language": self.language,
            "sentiment": {"label": self.sentiment.label, "scores": dict(self.sentiment.scores)},
            "intents": dict(self.intents),
            "labels": list(self.labels),
            "emotion": dict(self.emotion),
            "offensive": self.offensive,
            "hate": self.hate,
            "irony": self.irony,
            "personal_data": [
                {"type": s.type, "start": s.start, "end": s.end} for s in self.personal_data
            ],
            "priority": self.priority,
            "why": self.why,
        }


# --- priority ---------------------------------------------------------------------------------


def _clip01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


def _compact_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M".replace(".0M", "M")
    if n >= 10_000:
        return f"{round(n / 1000)}k"
    if n >= 1_000:
        return f"{n / 1000:.1f}k".replace(".0k", "k")
    return str(n)


def _with_cues(text: str, cues: Sequence[str] | None) -> str:
    if not cues:
        return text
    return text + " ('" + "', '".join(cues[:3]) + "')"


# Below this probability a signal is not worth naming in `why`.
WHY_MIN_PROBABILITY: Final = 0.5
WHY_MAX_SIGNALS: Final = 3

# Content signals in `why` tie order; "question" is dropped once the post is answered.
PRIORITY_SIGNALS: Final = ("negative", *RISK_INTENTS, "question", "offensive", "hate")


WhyPart = tuple[str, str | None]
"""One part of ``why``: its text and the field whose cues follow it (None for none)."""


class PriorityRule:
    """The priority rule (module docstring) with its weights unpacked once, for batches.

    Immutable and thread-safe. `priority` and `prioritize` are the one-off forms. Inputs are
    taken as valid probabilities; contributions outside [0, 1] are clipped.
    """

    __slots__ = ("_log_saturation", "_signal_weights", "weights")

    def __init__(self, weights: PriorityWeights = DEFAULT_WEIGHTS) -> None:
        self.weights = weights
        self._signal_weights = tuple(float(getattr(weights, name)) for name in PRIORITY_SIGNALS)
        self._log_saturation = math.log10(1.0 + weights.reach_saturation_followers)

    @property
    def signal_weights(self) -> tuple[float, ...]:
        """The weight of each of `PRIORITY_SIGNALS`, in that order."""
        return self._signal_weights

    def amplified(self, content: float, hints: Hints) -> float:
        """Urgency ``1 - (1 - content)^m`` with the amplifier ``m`` of ``hints``."""
        return 1.0 - math.pow(1.0 - content, self._amplifier(hints))

    def hint_parts(self, hints: Hints) -> list[WhyPart]:
        """The parts of ``why`` that ``hints`` add after the content signals."""
        parts: list[WhyPart] = []
        answered = bool(hints.answered)
        if hints.followers:
            parts.append((f"reach {_compact_count(hints.followers)} followers", None))
        if hints.verified:
            parts.append(("verified", None))
        if hints.age_hours is not None and not answered:
            parts.append((f"waiting {hints.age_hours:.0f}h", None))
        if answered:
            parts.append(("answered", None))
        return parts

    def _amplifier(self, hints: Hints) -> float:
        w = self.weights
        amplifier = 1.0
        if hints.followers:
            reach = math.log10(1.0 + hints.followers) / self._log_saturation
            amplifier += w.reach * (reach if reach < 1.0 else 1.0)
        if hints.verified:
            amplifier += w.verified
        if hints.age_hours is not None and not hints.answered:
            amplifier += w.age * min(1.0, hints.age_hours / w.age_horizon_hours)
        return amplifier

    def _evaluate(
        self,
        negative: float,
        intents: Mapping[str, float],
        offensive: float,
        hate: float,
        hints: Hints | None,
        collect: bool,
    ) -> tuple[int, list[tuple[float, str, float]]]:
        """The priority and, when ``collect``, the strong (contribution, name, p) signals."""
        get = intents.get
        answered = hints is not None and bool(hints.answered)
        probabilities = (
            negative,
            get("safety_risk", 0.0),
            get("legal_threat", 0.0),
            get("churn_risk", 0.0),
            get("complaint", 0.0),
            get("press_or_influencer", 0.0),
            0.0 if answered else get("question", 0.0),
            offensive,
            hate,
        )
        keep = 1.0
        strong: list[tuple[float, str, float]] = []
        for name, weight, p in zip(
            PRIORITY_SIGNALS, self._signal_weights, probabilities, strict=True
        ):
            c = weight * p
            if c > 0.0:
                keep *= 1.0 - (c if c < 1.0 else 1.0)
                if collect and p >= WHY_MIN_PROBABILITY:
                    strong.append((c, name, p))
        content = (1.0 - keep) * (1.0 - _clip01(self.weights.spam * get("spam", 0.0)))
        value = content
        if hints is not None and content > 0.0:
            value = self.amplified(content, hints)
        return min(100, max(0, math.floor(100.0 * value + 0.5))), strong

    def score(
        self,
        *,
        negative: float,
        intents: Mapping[str, float],
        offensive: float = 0.0,
        hate: float = 0.0,
        hints: Hints | None = None,
    ) -> int:
        """Priority 0..100; see `priority`."""
        return self._evaluate(negative, intents, offensive, hate, hints, False)[0]

    def assess(
        self,
        *,
        sentiment_label: str,
        sentiment_score: float,
        negative: float,
        intents: Mapping[str, float],
        offensive: float,
        hate: float,
        hints: Hints | None = None,
    ) -> tuple[int, list[WhyPart]]:
        """Priority and the parts of ``why`` before cues: `why_text` joins them with the
        cues of the fields they name, so a caller can look up only those cues."""
        value, strong = self._evaluate(negative, intents, offensive, hate, hints, True)
        parts: list[WhyPart] = []
        if strong:
            if len(strong) > 1:
                strong.sort(key=lambda t: -t[0])  # stable: ties keep the documented order
            for _, name, p in strong[:WHY_MAX_SIGNALS]:
                parts.append((f"{name} {p:.2f}", "sentiment" if name == "negative" else name))
        else:
            parts.append((f"{sentiment_label} {sentiment_score:.2f}", "sentiment"))
        spam = intents.get("spam", 0.0)
        if spam >= WHY_MIN_PROBABILITY and self.weights.spam > 0:
            parts.append((f"spam {spam:.2f}", "spam"))
        if hints is not None:
            parts.extend(self.hint_parts(hints))
        return value, parts


def why_text(parts: Sequence[WhyPart], cues: Mapping[str, Sequence[str]] | None) -> str:
    """``why`` from the parts `PriorityRule.assess` made and the cues per field (see
    `prioritize`): each part's text with up to three of its field's cues, joined by "; "."""
    if not cues:
        texts = [text for text, _ in parts]
    else:
        texts = [
            text if field is None else _with_cues(text, cues.get(field)) for text, field in parts
        ]
    return "; ".join(texts) if len(texts) > 1 else texts[0]


def priority(
    *,
    negative: float,
    intents: Mapping[str, float],
    offensive: float = 0.0,
    hate: float = 0.0,
    hints: Hints | None = None,
    weights: PriorityWeights = DEFAULT_WEIGHTS,
) -> int:
    """Priority 0..100 of a post (formula in the module docstring).

    ``negative`` is the probability of negative sentiment; ``intents`` maps intent names to
    independent probabilities (missing names count as 0). Probabilities outside [0, 1] are
    clipped. Non-decreasing in ``negative``, every risk intent, ``offensive``, ``hate``,
    followers, verification and age; only ``spam`` and ``answered`` lower it.
    """
    return PriorityRule(weights).score(
        negative=_clip01(negative),
        intents={k: _clip01(v) for k, v in intents.items()},
        offensive=_clip01(offensive),
        hate=_clip01(hate),
        hints=hints,
    )


def prioritize(
    *,
    sentiment_label: str,
    sentiment_score: float,
    negative: float,
    intents: Mapping[str, float],
    offensive: float,
    hate: float,
    hints: Hints | None = None,
    cues: Mapping[str, Sequence[str]] | None = None,
    weights: PriorityWeights = DEFAULT_WEIGHTS,
) -> tuple[int, str]:
    """`priority` plus ``why``: a short text naming the strongest signals with their cues.

    ``why`` lists up to three content signals with probability >= 0.5, strongest weighted
    contribution first, each with up to three cue tokens from ``cues`` (keys: "sentiment",
    intent names, "offensive", "hate"); then spam, reach, verification and waiting time when
    given. With no strong signal it names the sentiment label instead, e.g.
    ``"negative 0.91 ('worst'); safety_risk 0.72 ('fire'); reach 52k followers"``.
    """
    value, parts = PriorityRule(weights).assess(
        sentiment_label=sentiment_label,
        sentiment_score=sentiment_score,
        negative=negative,
        intents=intents,
        offensive=offensive,
        hate=hate,
        hints=hints,
    )
    return value, why_text(parts, cues)


def weights_with_overrides(
    overrides: Mapping[str, float], base: PriorityWeights = DEFAULT_WEIGHTS
) -> PriorityWeights:
    """``base`` with ``overrides`` applied and validated.

    Raises ``ValueError`` naming the unknown keys, or pydantic's ``ValidationError`` (also a
    ``ValueError``) for out-of-range values.
    """
    known = set(PriorityWeights.model_fields)
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(
            f"unknown triage priority weight(s): {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return PriorityWeights.model_validate({**base.model_dump(), **overrides})
