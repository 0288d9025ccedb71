"""The CLI's fast paths give the bytes of the plain, per-post computation.

`groundswell triage` batches its work (lazy cues, a numpy priority rule, probability texts
from a table, a batch text normalizer). These tests rebuild the expected output line by
line from the slow, obvious pieces (`ModelSet.predict` with every cue, `prioritize`,
``json.dumps``), so any drift in the fast paths shows up as a byte difference, whatever
the shipped weights.
"""

from __future__ import annotations

import io
import json
import random

import numpy as np
import pytest
from rich.console import Console

from groundswell.triage import cli as triage_cli
from groundswell.triage.cli import Job, process, run_jsonl_batch
from groundswell.triage.domain import (
    EMOTION_LABELS,
    INTENT_LABELS,
    SENTIMENT_LABELS,
    Hints,
    PriorityRule,
    PriorityWeights,
    prioritize,
)
from groundswell.triage.features import normalize, normalize_batch, tokenize
from groundswell.triage.models import ModelSet, load_model_set
from groundswell.triage.recognizers import find_personal_data
from groundswell.triage.service import assess_batch, configured_weights

# Real-looking posts and the edge cases that broke or could break a fast path.
TEXTS = [
    "@AcmeSupport my order is three weeks late and nobody answers, worst service ever!!!",
    "Thank you so much, the team fixed it in minutes. Amazing!",
    "How do I change the delivery address on my order #12345?",
    "My charger caught fire and burned my hand. I will sue you, my lawyer will call.",
    "cancel my subscription, I'm switching to another provider",
    "Email me at jane.doe@example.com or call +44 20 7946 0958, card 4111 1111 1111 1111",
    "",
    " ",
    "😀😀😀🔥",
    "soooooo goooood SOoOoo",
    "ΟΔΟΣ ΣΑΣ İstanbul ٣٤٥ १२ ² digits",
    "lone surrogate \ud800 in the text",
    "nul\x00inside and\ttabs\nand newlines",
    "quote \" backslash \\ and ’curly’ apostrophes don't",
    "not good at all, but great! never happy",
    "http://example.com/a@b.com www.example.org @user @Other_Handle",
    "Ça coûte très cher, c'est nul! Das ist wirklich schlecht.",
    "x" * 3000,
]
IDS: list[object] = [1, "two", None, 4.5, {"nested": [1]}, "ünï", True, -0.0, 10**30]


def _expected_line(model_set: ModelSet, text: str, id_: object) -> str:
    """The output line of one post, computed alone and the obvious way."""
    raw = model_set.predict([text], explain=True)
    assert raw.cues is not None
    sentiment = np.round(raw.sentiment[0].astype(np.float64), 4).tolist()
    intents = dict(
        zip(INTENT_LABELS, np.round(raw.intents[0].astype(np.float64), 4).tolist(), strict=True)
    )
    emotion = np.round(raw.emotion[0].astype(np.float64), 4).tolist()
    offensive = float(np.round(np.float64(raw.offensive[0]), 4))
    hate = float(np.round(np.float64(raw.hate[0]), 4))
    top = int(np.argmax(raw.sentiment[0]))
    value, why = prioritize(
        sentiment_label=SENTIMENT_LABELS[top],
        sentiment_score=sentiment[top],
        negative=sentiment[0],
        intents=intents,
        offensive=offensive,
        hate=hate,
        cues=raw.cues[0],
        weights=configured_weights(),
    )
    thresholds = model_set.intent_thresholds
    record = {
        "id": id_,
        "language": raw.language[0],
        "sentiment": {
            "label": SENTIMENT_LABELS[top],
            "scores": dict(zip(SENTIMENT_LABELS, sentiment, strict=True)),
        },
        "intents": intents,
        "labels": [
            k for k in INTENT_LABELS if raw.intents[0][INTENT_LABELS.index(k)] >= thresholds[k]
        ],
        "emotion": dict(zip(EMOTION_LABELS, emotion, strict=True)),
        "offensive": offensive,
        "hate": hate,
        "irony": bool(raw.irony[0] >= model_set.irony_threshold),
        "personal_data": [
            {"type": s.type, "start": s.start, "end": s.end} for s in find_personal_data(text)
        ],
        "priority": value,
        "why": why,
    }
    return json.dumps(record, separators=(",", ":"), default=str)


def test_cli_lines_equal_the_per_post_computation() -> None:
    model_set = load_model_set("default")
    job = Job("text", "id", "default", configured_weights())
    ids = [IDS[i % len(IDS)] for i in range(len(TEXTS))]
    lines = [json.dumps({"id": i, "text": t}).encode() for i, t in zip(ids, TEXTS, strict=True)]
    lines.insert(3, b"not json")
    output = run_jsonl_batch(lines, 1, job).output.splitlines()
    assert output[3] == '{"line":4,"error":"not JSON (Expecting value at column 1)"}'
    del output[3]
    expected = [_expected_line(model_set, t, i) for i, t in zip(ids, TEXTS, strict=True)]
    assert output == expected


def test_worker_processes_write_the_same_bytes() -> None:
    job = Job("text", "id", "default", configured_weights())
    lines = [json.dumps({"id": i, "text": t}).encode() for i, t in enumerate(TEXTS * 3)]
    data = b"\n".join(lines) + b"\n"
    out = io.StringIO()
    process(
        triage_cli._jsonl_batches(io.BytesIO(data), 5),
        job,
        out,
        Console(file=io.StringIO()),
        workers=2,
    )
    assert out.getvalue() == run_jsonl_batch(lines, 1, job).output


def test_batch_normalizer_equals_the_per_text_one() -> None:
    rng = random.Random(11)
    alphabet = [*"aAbBsSoOiI0123456789 .,:@#/'’!?\x00\n\t", "http://x.y/z", "www.", "@user"]
    alphabet += ["٣", "१", "Σ", "ΣΑΣ", "İ", "ß", "\ud800", "😀", "ǅ", "²", "𝟘", "ﬀ", "K"]
    for _ in range(300):
        texts = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
            for _ in range(rng.randint(0, 6))
        ]
        assert normalize_batch(texts) == [normalize(t) for t in texts]
        for t in texts:  # spaces are skipped, never tokens
            assert all(tok.strip() for tok in tokenize(t))


@pytest.mark.parametrize(
    "weights",
    [
        PriorityWeights(),
        PriorityWeights(spam=0.0, question=1.0, negative=1.0, hate=0.0),
        PriorityWeights(reach=3.0, verified=1.0, age=2.0, age_horizon_hours=2.0),
    ],
)
def test_batch_priority_rule_equals_the_per_post_one(weights: PriorityWeights) -> None:
    rng = np.random.default_rng(5)
    n = 400
    columns = len(SENTIMENT_LABELS) + len(INTENT_LABELS) + len(EMOTION_LABELS) + 2
    units = rng.integers(0, 10_001, size=(n, columns)).astype(np.float64)
    # Exact thresholds and extremes, where a comparison could go either way.
    units[::7] = rng.choice(
        [0.0, 4999.0, 5000.0, 5001.0, 10_000.0], size=(len(units[::7]), columns)
    )
    hints: list[Hints | None] = [
        None
        if k % 3 == 0
        else Hints(
            followers=[None, 0, 12, 52_000, 3_000_000][k % 5],
            verified=[None, True, False][k % 3],
            age_hours=[None, 0.0, 5.5, 48.0][k % 4],
            answered=[None, True, False][k % 3],
        )
        for k in range(n)
    ]
    label_index = rng.integers(0, 3, size=n).tolist()
    labels = [SENTIMENT_LABELS[i] for i in label_index]
    rule = PriorityRule(weights)
    for batch_hints in (None, hints):
        priority, parts = assess_batch(rule, units, labels, label_index, batch_hints)
        for i in range(n):
            p = (units[i] / 10_000.0).tolist()
            intents = dict(zip(INTENT_LABELS, p[3:13], strict=True))
            expected = rule.assess(
                sentiment_label=labels[i],
                sentiment_score=p[label_index[i]],
                negative=p[0],
                intents=intents,
                offensive=p[17],
                hate=p[18],
                hints=batch_hints[i] if batch_hints is not None else None,
            )
            assert (priority[i], parts[i]) == expected


def test_lazy_cues_are_the_full_cues() -> None:
    model_set = load_model_set("default")
    raw = model_set.predict(TEXTS, explain=True)
    assert raw.cues is not None
    _, finder = model_set.predict_lazy(TEXTS)
    rows = [i for i, cues in enumerate(raw.cues) for _ in cues]
    names = [name for cues in raw.cues for name in cues]
    assert finder.find(rows, names) == raw.cues
    # A subset asked for gives those cues only; an ineligible pair gives none.
    assert finder.find([0], ["sentiment"])[0] == {
        k: v for k, v in raw.cues[0].items() if k == "sentiment"
    }
    assert finder.find([6], ["complaint"]) == [{} for _ in TEXTS]


def test_summarize_gives_what_triage_gives_for_the_fields_it_keeps() -> None:
    """The ingest pipeline's lighter call: same language, sentiment label, labels and
    priority as `triage`, post for post, with and without hints."""
    from groundswell.triage import summarize, triage

    rng = random.Random(7)
    texts = TEXTS * 3
    hints = [
        None
        if rng.random() < 0.2
        else Hints(
            followers=rng.choice([None, 0, 40, 12_000, 2_000_000]),
            verified=rng.choice([None, True, False]),
            age_hours=rng.choice([None, 0.0, 3.5, 200.0]),
        )
        for _ in texts
    ]
    for given in (None, hints):
        full = triage(texts, hints=given)
        summary = summarize(texts, hints=given)
        assert summary.language == [t.language for t in full]
        assert summary.sentiment_label == [t.sentiment.label for t in full]
        assert summary.labels == [t.labels for t in full]
        assert summary.priority == [t.priority for t in full]
    assert summarize([]).priority == []
