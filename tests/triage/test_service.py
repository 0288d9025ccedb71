"""The batch `triage()` API: shape of results, hints, weights settings, threads, no network."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn

import pytest

from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.settings import get_settings
from groundswell.triage import (
    EMOTION_LABELS,
    INTENT_LABELS,
    SENTIMENT_LABELS,
    Hints,
    Triage,
    find_personal_data,
    triage,
)
from groundswell.triage import models as triage_models
from groundswell.triage.service import analyse_batch, configured_weights, json_lines, records

POSTS = [
    "Your charger caught fire and the smoke filled my kitchen. Worst product ever!",
    "I love the new app, thanks team",
    "How do I reset my password?",
    "Email me at jane.doe@example.com or call +44 20 7946 0958",
    "",
    "ok",
]


def test_one_result_per_text_with_every_field() -> None:
    results = triage(POSTS)
    assert len(results) == len(POSTS)
    for text, t in zip(POSTS, results, strict=True):
        assert isinstance(t, Triage)
        assert set(t.sentiment.scores) == set(SENTIMENT_LABELS)
        assert sum(t.sentiment.scores.values()) == pytest.approx(1.0, abs=1e-3)
        assert t.sentiment.label == max(t.sentiment.scores, key=t.sentiment.scores.__getitem__)
        assert set(t.intents) == set(INTENT_LABELS)
        assert set(t.labels) <= set(INTENT_LABELS)
        assert set(t.emotion) == set(EMOTION_LABELS)
        assert 0 <= t.offensive <= 1
        assert 0 <= t.hate <= 1
        assert 0 <= t.priority <= 100
        assert t.why
        assert t.personal_data == find_personal_data(text)
        assert t.language == "und" or len(t.language) == 2


def test_personal_data_spans_come_through() -> None:
    (t,) = triage([POSTS[3]])
    assert [s.type for s in t.personal_data] == ["email", "phone"]


def test_empty_batch() -> None:
    assert triage([]) == []


def test_hints_raise_priority_and_appear_in_why() -> None:
    text = [POSTS[0]]
    plain = triage(text)[0]
    loud = triage(text, hints=[Hints(followers=250_000, verified=True, age_hours=30)])[0]
    assert loud.priority >= plain.priority
    assert "reach 250k followers" in loud.why
    assert "waiting 30h" in loud.why


def test_hints_must_match_texts() -> None:
    with pytest.raises(ValueError, match="hints has 1 entries for 2 texts"):
        triage(["a", "b"], hints=[None])


def test_priority_weights_come_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    base = triage([POSTS[0]])[0].priority
    monkeypatch.setenv(
        "GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS",
        '{"negative": 0, "complaint": 0, "safety_risk": 0, "churn_risk": 0, "legal_threat": 0,'
        ' "press_or_influencer": 0, "question": 0, "offensive": 0, "hate": 0}',
    )
    get_settings.cache_clear()
    try:
        assert triage([POSTS[0]])[0].priority == 0
        monkeypatch.setenv("GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS", '{"negatve": 1}')
        get_settings.cache_clear()
        with pytest.raises(InvalidInput, match="negatve"):
            triage([POSTS[0]])
    finally:
        monkeypatch.delenv("GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS")
        get_settings.cache_clear()
    assert triage([POSTS[0]])[0].priority == base


def test_concurrent_calls_agree_with_sequential_ones() -> None:
    batches = [POSTS[i:] + POSTS[:i] for i in range(len(POSTS))] * 4
    sequential = [triage(b) for b in batches]
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(triage, batches))
    assert concurrent == sequential


def test_unknown_model_set_is_refused() -> None:
    with pytest.raises(triage_models.ModelUnavailable):
        triage(["x"], model="no-such-model")


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise OSError("socket creation attempted while loading models")


def test_models_load_with_sockets_blocked(monkeypatch: pytest.MonkeyPatch) -> None:
    # Stricter than the autouse fixture: no socket object may even be created.
    monkeypatch.setattr(socket, "socket", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    load = getattr(triage_models.load_model_set, "cache_clear", None)
    if load is not None:  # force a real load if the loader caches with functools
        load()
    model_set = triage_models.load_model_set("default")
    predictions = model_set.predict(["hello world"], explain=True)
    assert predictions.sentiment.shape == (1, 3)


def test_json_lines_equal_the_records() -> None:
    texts = [*POSTS, 'quote " and \\ backslash \u2603 \U0001f525', "card 4111 1111 1111 1111"]
    ids: list[object] = [1, "two", None, 4.5, {"nested": [1]}, "x", "y", "z"]
    columns = analyse_batch(
        triage_models.load_model_set("default"), texts, weights=configured_weights()
    )
    parsed = [json.loads(line) for line in json_lines(columns, ids)]
    assert parsed == records(columns, ids)
