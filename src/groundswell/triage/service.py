"""The batch triage use case: shipped models + personal-data recognizers + the priority rule.

`triage(texts)` is what other rooms call. `analyse_batch` is the shared, vectorized core; the
CLI turns its columns straight into JSON lines (`records`), skipping the per-post Pydantic
objects that `triage` builds.

Thread-safe: nothing here is mutable after import; model sets load once behind their own lock
(`load_model_set`) and their ``predict`` is thread-safe by contract.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii

import numpy as np

from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.settings import get_settings
from groundswell.triage.domain import (
    EMOTION_LABELS,
    INTENT_LABELS,
    SENTIMENT_LABELS,
    Hints,
    PriorityRule,
    PriorityWeights,
    Sentiment,
    SentimentLabel,
    Triage,
    weights_with_overrides,
)
from groundswell.triage.models import ModelSet, load_model_set
from groundswell.triage.recognizers import PersonalDataSpan, find_personal_data

# Probabilities are reported with 4 decimals: finer digits are noise for a linear model and
# only make every output line longer.
DECIMALS = 4


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
    intents: list[dict[str, float]]
    labels: list[list[str]]
    emotion: list[list[float]]
    offensive: list[float]
    hate: list[float]
    irony: list[bool]
    personal_data: list[list[PersonalDataSpan]]
    priority: list[int]
    why: list[str]


def _labels_over_thresholds(intents: np.ndarray, thresholds: np.ndarray) -> list[list[str]]:
    labels: list[list[str]] = [[] for _ in range(intents.shape[0])]
    rows, cols = np.nonzero(intents >= thresholds)
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        labels[r].append(INTENT_LABELS[c])
    return labels


def analyse_batch(
    model_set: ModelSet,
    texts: Sequence[str],
    *,
    hints: Sequence[Hints | None] | None = None,
    weights: PriorityWeights,
) -> BatchColumns:
    """Run every triage field over ``texts`` at once (one model call for the whole batch)."""
    if hints is not None and len(hints) != len(texts):
        raise ValueError(f"hints has {len(hints)} entries for {len(texts)} texts")
    raw = model_set.predict(texts, explain=True)
    thresholds = np.array([model_set.intent_thresholds[name] for name in INTENT_LABELS])
    sentiment = np.asarray(raw.sentiment, dtype=np.float64)
    intents = np.asarray(raw.intents, dtype=np.float64)
    label_index = sentiment.argmax(axis=1).tolist()
    sentiment_label: list[SentimentLabel] = [SENTIMENT_LABELS[i] for i in label_index]
    sent_rounded = np.round(sentiment, DECIMALS).tolist()
    intents_rounded = np.round(intents, DECIMALS).tolist()
    offensive = np.round(np.asarray(raw.offensive, dtype=np.float64), DECIMALS).tolist()
    hate = np.round(np.asarray(raw.hate, dtype=np.float64), DECIMALS).tolist()
    intent_maps = [dict(zip(INTENT_LABELS, row, strict=True)) for row in intents_rounded]
    cues = raw.cues
    rule = PriorityRule(weights)
    score_and_why = rule.score_and_why
    priority: list[int] = []
    why: list[str] = []
    for i, label in enumerate(sentiment_label):
        scores = sent_rounded[i]
        value, reason = score_and_why(
            sentiment_label=label,
            sentiment_score=scores[label_index[i]],
            negative=scores[0],
            intents=intent_maps[i],
            offensive=offensive[i],
            hate=hate[i],
            hints=hints[i] if hints is not None else None,
            cues=cues[i] if cues is not None else None,
        )
        priority.append(value)
        why.append(reason)
    return BatchColumns(
        language=list(raw.language),
        language_confidence=np.round(
            np.asarray(raw.language_confidence, dtype=np.float64), DECIMALS
        ).tolist(),
        sentiment_label=sentiment_label,
        sentiment=sent_rounded,
        intents=intent_maps,
        labels=_labels_over_thresholds(intents, thresholds),
        emotion=np.round(np.asarray(raw.emotion, dtype=np.float64), DECIMALS).tolist(),
        offensive=offensive,
        hate=hate,
        irony=(np.asarray(raw.irony) >= model_set.irony_threshold).tolist(),
        personal_data=[find_personal_data(t) for t in texts],
        priority=priority,
        why=why,
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
    + ",".join(f'"{k}":%r' for k in SENTIMENT_LABELS)
    + '}},"intents":{'
    + ",".join(f'"{k}":%r' for k in INTENT_LABELS)
    + '},"labels":%s,"emotion":{'
    + ",".join(f'"{k}":%r' for k in EMOTION_LABELS)
    + '},"offensive":%r,"hate":%r,"irony":%s,"personal_data":%s,"priority":%d,"why":%s}'
)
_encode_id = json.JSONEncoder(separators=(",", ":"), default=str).encode


def json_lines(columns: BatchColumns, ids: Sequence[object]) -> list[str]:
    """`records` already serialized as compact JSON (no newline), one string per row.

    Same objects as ``json.dumps(records(columns, ids))`` would give, built from one string
    template instead of per-row dicts: the CLI's hot path. Probabilities are finite floats,
    so ``repr`` is their JSON form.
    """
    lines: list[str] = []
    append = lines.append
    template = _LINE_TEMPLATE
    for i, id_ in enumerate(ids):
        labels = columns.labels[i]
        spans = columns.personal_data[i]
        append(
            template
            % (
                _encode_id(id_),
                encode_basestring_ascii(columns.language[i]),
                columns.sentiment_label[i],
                *columns.sentiment[i],
                *columns.intents[i].values(),
                '["' + '","'.join(labels) + '"]' if labels else "[]",
                *columns.emotion[i],
                columns.offensive[i],
                columns.hate[i],
                "true" if columns.irony[i] else "false",
                "["
                + ",".join(f'{{"type":"{s.type}","start":{s.start},"end":{s.end}}}' for s in spans)
                + "]",
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
