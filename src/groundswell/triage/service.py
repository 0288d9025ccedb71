"""The batch triage use case: shipped models + personal-data recognizers + the priority rule.

`triage(texts)` is what other rooms call. `analyse_batch` is the shared, vectorized core; the
CLI turns its columns straight into JSON lines (`json_lines`, the bytes of `records` dumped),
skipping the per-post Pydantic objects that `triage` builds. The batch keeps per-post Python
work small: the priority rule runs in numpy (`assess_batch`, same arithmetic as
`PriorityRule.assess`), cues are looked up only for the fields ``why`` names, and
probabilities take their JSON text from a table.

Thread-safe: nothing here is mutable after import; model sets load once behind their own lock
(`load_model_set`) and their ``predict`` is thread-safe by contract.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from json.encoder import encode_basestring_ascii

import numpy as np
import numpy.typing as npt

from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.settings import get_settings
from groundswell.triage.domain import (
    EMOTION_LABELS,
    INTENT_LABELS,
    PRIORITY_SIGNALS,
    SENTIMENT_LABELS,
    WHY_MAX_SIGNALS,
    WHY_MIN_PROBABILITY,
    Hints,
    PriorityRule,
    PriorityWeights,
    Sentiment,
    SentimentLabel,
    Triage,
    WhyPart,
    weights_with_overrides,
    why_text,
)
from groundswell.triage.models import CueFinder, ModelSet, RawPredictions, load_model_set
from groundswell.triage.recognizers import PersonalDataSpan, find_personal_data

# Probabilities are reported with 4 decimals: finer digits are noise for a linear model and
# only make every output line longer.
DECIMALS = 4
_SCALE = 10.0**DECIMALS
# The JSON text of every probability k / 10**DECIMALS, so that output lines take each one's
# text from this table instead of formatting floats one by one.
_PROBABILITY_JSON = np.array([repr(k / _SCALE) for k in range(10**DECIMALS + 1)], dtype=object)


def configured_weights() -> PriorityWeights:
    """Default priority weights with the ``GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS`` overrides.

    Raises `InvalidInput` naming the bad key or value.
    """
    overrides = get_settings().triage_priority_weights
    try:
        return weights_with_overrides(overrides)
    except ValueError as exc:  # pydantic's ValidationError is a ValueError too
        first_line = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise InvalidInput(f"GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS: {first_line}") from exc


@dataclass(frozen=True)
class BatchColumns:
    """One batch's results as plain Python columns (row i belongs to texts[i])."""

    language: list[str]
    language_confidence: list[float]
    sentiment_label: list[SentimentLabel]
    sentiment: list[list[float]]
    intent_scores: list[list[float]]  # in INTENT_LABELS order
    labels: list[list[str]]
    emotion: list[list[float]]
    offensive: list[float]
    hate: list[float]
    irony: list[bool]
    personal_data: list[list[PersonalDataSpan]]
    priority: list[int]
    why: list[str]
    # JSON text of the row's probabilities in output order (3 sentiment scores, intents,
    # emotion, offensive, hate): what `json_lines` writes.
    probability_json: list[list[str]]

    @cached_property
    def intents(self) -> list[dict[str, float]]:
        """``intent_scores`` as one mapping per row (built on first use: the CLI needs none)."""
        return [dict(zip(INTENT_LABELS, row, strict=True)) for row in self.intent_scores]


def _labels_over_thresholds(intents: np.ndarray, thresholds: np.ndarray) -> list[list[str]]:
    labels: list[list[str]] = [[] for _ in range(intents.shape[0])]
    rows, cols = np.nonzero(intents >= thresholds)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        labels[r].append(INTENT_LABELS[c])
    return labels


_SENTIMENT_COLUMNS = slice(0, len(SENTIMENT_LABELS))
_INTENT_COLUMNS = slice(_SENTIMENT_COLUMNS.stop, _SENTIMENT_COLUMNS.stop + len(INTENT_LABELS))
_EMOTION_COLUMNS = slice(_INTENT_COLUMNS.stop, _INTENT_COLUMNS.stop + len(EMOTION_LABELS))
_OFFENSIVE_COLUMN = _EMOTION_COLUMNS.stop
_HATE_COLUMN = _OFFENSIVE_COLUMN + 1


def _column(name: str) -> int:
    if name in SENTIMENT_LABELS:
        return SENTIMENT_LABELS.index(name)
    if name in INTENT_LABELS:
        return _INTENT_COLUMNS.start + INTENT_LABELS.index(name)
    return {"offensive": _OFFENSIVE_COLUMN, "hate": _HATE_COLUMN}[name]


_SIGNAL_COLUMNS = [_column(name) for name in PRIORITY_SIGNALS]
_QUESTION_SIGNAL = PRIORITY_SIGNALS.index("question")
_SPAM_COLUMN = _column("spam")
# Each probability k / 10**DECIMALS written with two decimals, as `why` shows it.
_TWO_DECIMALS = [f"{k / _SCALE:.2f}" for k in range(10**DECIMALS + 1)]


def assess_batch(
    rule: PriorityRule,
    units: npt.NDArray[np.float64],
    sentiment_label: Sequence[str],
    label_index: Sequence[int],
    hints: Sequence[Hints | None] | None,
) -> tuple[list[int], list[list[WhyPart]]]:
    """`PriorityRule.assess` for a whole batch, with numpy: the same arithmetic in the same
    order, so the same priorities and ``why`` parts (the tests compare them).

    ``units`` holds the rounded probabilities (as in `analyse_batch`) in whole units of
    10**-DECIMALS, one row per post; ``label_index[i]`` is the column of the winning
    sentiment ``sentiment_label[i]``.
    """
    n = len(units)
    probabilities = units[:, _SIGNAL_COLUMNS] / _SCALE
    answered = np.array([h is not None and bool(h.answered) for h in hints or ()], dtype=bool)
    if answered.any():
        probabilities[answered, _QUESTION_SIGNAL] = 0.0
    contributions = probabilities * np.array(rule.signal_weights)
    keep = np.ones(n)
    for c in contributions.T:
        keep = np.where(c > 0.0, keep * (1.0 - np.minimum(c, 1.0)), keep)
    spam = units[:, _SPAM_COLUMN] / _SCALE
    urgency = (1.0 - keep) * (1.0 - np.clip(rule.weights.spam * spam, 0.0, 1.0))
    if hints is not None:
        for i in np.flatnonzero(urgency > 0.0).tolist():
            if (hint := hints[i]) is not None:
                urgency[i] = rule.amplified(float(urgency[i]), hint)
    priority = np.clip(np.floor(100.0 * urgency + 0.5), 0, 100).astype(np.int64).tolist()
    # Strong signals, strongest contribution first (ties in signal order), at most three.
    strong = (contributions > 0.0) & (probabilities >= WHY_MIN_PROBABILITY)
    order = np.argsort(np.where(strong, -contributions, np.inf), axis=1, kind="stable")
    shown = np.minimum(strong.sum(axis=1), WHY_MAX_SIGNALS).tolist()
    show_spam = (spam >= WHY_MIN_PROBABILITY).tolist() if rule.weights.spam > 0 else [False] * n
    signal_units = units[:, _SIGNAL_COLUMNS].astype(np.intp).tolist()
    label_units = units[np.arange(n), label_index].astype(np.intp).tolist()
    spam_units = units[:, _SPAM_COLUMN].astype(np.intp).tolist()
    two = _TWO_DECIMALS
    parts: list[list[WhyPart]] = []
    for i, (count, top) in enumerate(zip(shown, order[:, :WHY_MAX_SIGNALS].tolist(), strict=True)):
        if count:
            row = signal_units[i]
            why_parts: list[WhyPart] = [_SIGNAL_PARTS[j](two[row[j]]) for j in top[:count]]
        else:
            why_parts = [(f"{sentiment_label[i]} {two[label_units[i]]}", "sentiment")]
        if show_spam[i]:
            why_parts.append((f"spam {two[spam_units[i]]}", "spam"))
        if hints is not None and (hint := hints[i]) is not None:
            why_parts.extend(rule.hint_parts(hint))
        parts.append(why_parts)
    return priority, parts


def _signal_part(name: str) -> Callable[[str], WhyPart]:
    field = "sentiment" if name == "negative" else name
    return lambda probability: (f"{name} {probability}", field)


_SIGNAL_PARTS = [_signal_part(name) for name in PRIORITY_SIGNALS]


@dataclass(frozen=True)
class BatchSummary:
    """What a high-volume caller keeps of a batch (the ingest pipeline); row i is texts[i].
    The same values as `triage` gives for these fields."""

    language: list[str]
    sentiment_label: list[SentimentLabel]
    labels: list[list[str]]
    priority: list[int]


@dataclass(frozen=True)
class _Scored:
    """The model outputs and the priority of a batch, before cues and rounding for output."""

    raw: RawPredictions
    cue_finder: CueFinder
    units: npt.NDArray[np.float64]  # every reported probability times 10**DECIMALS, rinted
    sentiment_label: list[SentimentLabel]
    labels: list[list[str]]
    priority: list[int]
    parts: list[list[WhyPart]]


def _score(
    model_set: ModelSet,
    texts: Sequence[str],
    hints: Sequence[Hints | None] | None,
    weights: PriorityWeights,
) -> _Scored:
    if hints is not None and len(hints) != len(texts):
        raise ValueError(f"hints has {len(hints)} entries for {len(texts)} texts")
    raw, cue_finder = model_set.predict_lazy(texts)
    thresholds = np.array([model_set.intent_thresholds[name] for name in INTENT_LABELS])
    sentiment = np.asarray(raw.sentiment, dtype=np.float64)
    intents = np.asarray(raw.intents, dtype=np.float64)
    label_index = sentiment.argmax(axis=1).tolist()
    sentiment_label: list[SentimentLabel] = [SENTIMENT_LABELS[i] for i in label_index]
    # Every reported probability, in output order, rounded as np.round does it (times
    # 10**DECIMALS, rint, divided back); the whole units index the JSON texts.
    probabilities = np.concatenate(
        [sentiment, intents, raw.emotion, raw.offensive[:, None], raw.hate[:, None]],
        axis=1,
        dtype=np.float64,
    )
    units = np.rint(probabilities * _SCALE)
    priority, parts = assess_batch(
        PriorityRule(weights), units, sentiment_label, label_index, hints
    )
    return _Scored(
        raw=raw,
        cue_finder=cue_finder,
        units=units,
        sentiment_label=sentiment_label,
        labels=_labels_over_thresholds(intents, thresholds),
        priority=priority,
        parts=parts,
    )


def summarize(
    texts: Sequence[str],
    *,
    hints: Sequence[Hints | None] | None = None,
    model: str = "default",
) -> BatchSummary:
    """Language, sentiment label, labels and priority of each post: what `triage` gives for
    those fields, without the cues of `why`, the personal-data spans and a `Triage` object per
    post (about a third of `triage`'s cost on a batch of tweets). For the ingest pipeline."""
    if not texts:
        return BatchSummary([], [], [], [])
    weights = configured_weights()
    scored = _score(load_model_set(model), texts, hints, weights)
    return BatchSummary(
        language=list(scored.raw.language),
        sentiment_label=scored.sentiment_label,
        labels=scored.labels,
        priority=scored.priority,
    )


def analyse_batch(
    model_set: ModelSet,
    texts: Sequence[str],
    *,
    hints: Sequence[Hints | None] | None = None,
    weights: PriorityWeights,
) -> BatchColumns:
    """Run every triage field over ``texts`` at once (one model call for the whole batch)."""
    scored = _score(model_set, texts, hints, weights)
    raw, cue_finder, units, parts = scored.raw, scored.cue_finder, scored.units, scored.parts
    rounded = units / _SCALE
    sent_rounded = rounded[:, _SENTIMENT_COLUMNS].tolist()
    intents_rounded = rounded[:, _INTENT_COLUMNS].tolist()
    offensive = rounded[:, _OFFENSIVE_COLUMN].tolist()
    hate = rounded[:, _HATE_COLUMN].tolist()
    # The cues `why` shows: only those of the fields it names (a few per post).
    cue_rows: list[int] = []
    cue_fields: list[str] = []
    for i, why_parts in enumerate(parts):
        for _, field in why_parts:
            if field is not None:
                cue_rows.append(i)
                cue_fields.append(field)
    cues = cue_finder.find(cue_rows, cue_fields)
    why = [why_text(p, c) for p, c in zip(parts, cues, strict=True)]
    return BatchColumns(
        language=list(raw.language),
        language_confidence=np.round(
            np.asarray(raw.language_confidence, dtype=np.float64), DECIMALS
        ).tolist(),
        sentiment_label=scored.sentiment_label,
        sentiment=sent_rounded,
        intent_scores=intents_rounded,
        labels=scored.labels,
        emotion=rounded[:, _EMOTION_COLUMNS].tolist(),
        offensive=offensive,
        hate=hate,
        irony=(np.asarray(raw.irony) >= model_set.irony_threshold).tolist(),
        personal_data=[find_personal_data(t) for t in texts],
        priority=scored.priority,
        why=why,
        probability_json=_PROBABILITY_JSON[units.astype(np.intp)].tolist(),
    )


def records(columns: BatchColumns, ids: Sequence[object]) -> list[dict[str, object]]:
    """The CLI's output objects (public contract, see docs/triage.md), one per row."""
    out: list[dict[str, object]] = []
    for i, id_ in enumerate(ids):
        out.append(
            {
                "id": id_,
                "language": columns.language[i],
                "sentiment": {
                    "label": columns.sentiment_label[i],
                    "scores": dict(zip(SENTIMENT_LABELS, columns.sentiment[i], strict=True)),
                },
                "intents": columns.intents[i],
                "labels": columns.labels[i],
                "emotion": dict(zip(EMOTION_LABELS, columns.emotion[i], strict=True)),
                "offensive": columns.offensive[i],
                "hate": columns.hate[i],
                "irony": columns.irony[i],
                "personal_data": [
                    {"type": s.type, "start": s.start, "end": s.end}
                    for s in columns.personal_data[i]
                ],
                "priority": columns.priority[i],
                "why": columns.why[i],
            }
        )
    return out


_LINE_TEMPLATE = (
    '{"id":%s,"language":%s,"sentiment":{"label":"%s","scores":{'
    + ",".join(f'"{k}":%s' for k in SENTIMENT_LABELS)
    + '}},"intents":{'
    + ",".join(f'"{k}":%s' for k in INTENT_LABELS)
    + '},"labels":%s,"emotion":{'
    + ",".join(f'"{k}":%s' for k in EMOTION_LABELS)
    + '},"offensive":%s,"hate":%s,"irony":%s,"personal_data":%s,"priority":%d,"why":%s}'
)
_encode_id = json.JSONEncoder(separators=(",", ":"), default=str).encode


def json_lines(columns: BatchColumns, ids: Sequence[object]) -> list[str]:
    """`records` already serialized as compact JSON (no newline), one string per row.

    Same objects as ``json.dumps(records(columns, ids))`` would give, built from one string
    template instead of per-row dicts: the CLI's hot path. Probabilities come as their JSON
    text (``repr`` of the finite float) from ``columns.probability_json``.
    """
    lines: list[str] = []
    append = lines.append
    template = _LINE_TEMPLATE
    before_labels = _INTENT_COLUMNS.stop
    for i, id_ in enumerate(ids):
        labels = columns.labels[i]
        spans = columns.personal_data[i]
        probabilities = columns.probability_json[i]
        append(
            template
            % (
                _encode_id(id_),
                encode_basestring_ascii(columns.language[i]),
                columns.sentiment_label[i],
                *probabilities[:before_labels],
                '["' + '","'.join(labels) + '"]' if labels else "[]",
                *probabilities[before_labels:],
                "true" if columns.irony[i] else "false",
                "["
                + ",".join(f'{{"type":"{s.type}","start":{s.start},"end":{s.end}}}' for s in spans)
                + "]"
                if spans
                else "[]",
                columns.priority[i],
                encode_basestring_ascii(columns.why[i]),
            )
        )
    return lines


def triage(
    texts: Sequence[str],
    *,
    hints: Sequence[Hints | None] | None = None,
    model: str = "default",
) -> list[Triage]:
    """Triage a batch of posts; result i belongs to ``texts[i]``.

    ``hints`` (same length as ``texts``, entries may be None) adds author reach, verification,
    age and answered state to the priority. ``model`` names the model set ("default" or
    "embeddings"); it loads once per process, lazily, from package files only. Raises
    `ModelUnavailable` when that set cannot load (e.g. the embeddings extra is missing),
    `InvalidInput` for bad priority-weight settings and ``ValueError`` for mismatched hints.
    Thread-safe.
    """
    if not texts:
        return []
    weights = configured_weights()
    columns = analyse_batch(load_model_set(model), texts, hints=hints, weights=weights)
    return [
        Triage(
            language=columns.language[i],
            language_confidence=columns.language_confidence[i],
            sentiment=Sentiment(
                label=columns.sentiment_label[i],
                scores=dict(zip(SENTIMENT_LABELS, columns.sentiment[i], strict=True)),
            ),
            intents=dict(columns.intents[i]),
            labels=columns.labels[i],
            emotion=dict(zip(EMOTION_LABELS, columns.emotion[i], strict=True)),
            offensive=columns.offensive[i],
            hate=columns.hate[i],
            irony=columns.irony[i],
            personal_data=columns.personal_data[i],
            priority=columns.priority[i],
            why=columns.why[i],
        )
        for i in range(len(texts))
    ]
