"""The training scripts' pure helpers, checked against the files that ship (numpy only)."""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


def import_training(name: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """training/<name>.py imported for one test: the paths it adds, the environment variables
    it sets (thread counts, BLAS kernel) and the training modules it loads (``datasets``,
    ``train``...) are taken away again afterwards; the package modules stay, so no test sees a
    second copy of a class."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    environ = dict(os.environ)
    before = set(sys.modules)
    sys.path.insert(0, str(ROOT / "training"))
    yield importlib.import_module(name)
    training = str(ROOT / "training")
    for module in set(sys.modules) - before:
        if str(getattr(sys.modules[module], "__file__", "") or "").startswith(training):
            del sys.modules[module]
    os.environ.clear()
    os.environ.update(environ)


@pytest.fixture
def train_embeddings(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("train_embeddings", monkeypatch)


@pytest.fixture
def train(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("train", monkeypatch)


@pytest.fixture
def embeddings_binary(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("embeddings_binary", monkeypatch)


def test_the_offensive_stack_folds_into_one_head_with_its_decision_at_zero(
    embeddings_binary: Any,
) -> None:
    rng = np.random.default_rng(0)
    vectors, raw_default = rng.normal(size=(50, 8)), rng.normal(size=50)
    coef, intercept = rng.normal(size=8), 0.3
    stack, threshold, default_threshold = (0.6, 0.5, -0.1), 0.25, 0.57
    # What the stack decides on: raw logits, threshold `threshold`.
    stacked = stack[0] * raw_default + stack[1] * (vectors @ coef + intercept) + stack[2]
    mix, weights, bias = embeddings_binary.fold(
        stack, threshold, (coef, intercept), default_threshold
    )
    # What ships: the default set's logit has its val threshold folded in.
    shipped_default = raw_default - np.log(default_threshold / (1 - default_threshold))
    shipped = mix * shipped_default + vectors @ weights + bias
    np.testing.assert_allclose(shipped, stacked - threshold, rtol=1e-5, atol=1e-5)
    assert weights.dtype == np.float32


@pytest.fixture
def brand_passes(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("brand_passes", monkeypatch)


def test_every_brand_dev_and_test_post_has_an_irony_label(brand_passes: Any) -> None:
    for split in ("dev", "test"):
        texts, labels = brand_passes.split(split)
        assert len(texts) == len(labels) > 400
        assert set(labels) == {0, 1}
        # Rare in brand-directed posts (TweetEval's irony set is about half ironic).
        assert 0.005 < sum(labels) / len(labels) < 0.15
    second = brand_passes.read(brand_passes.ANNOTATION / "irony_b.tsv")
    assert len(second) > 200
    assert set(second) <= set(brand_passes.read(brand_passes.ANNOTATION / "irony_a.tsv"))


@pytest.mark.parametrize(
    ("task", "low", "high", "repeat"),
    [
        # Hate is almost absent from brand-directed posts: 2 of 3,000 in the first pass.
        ("hate", 0.0, 0.01, "BRAND_HATE_REPEAT"),
        # Profanity and insults are a small minority of them (138 of 3,000).
        ("offensive", 0.01, 0.1, "BRAND_OFFENSIVE_REPEAT"),
    ],
)
def test_every_brand_post_has_a_pass_label_and_its_head_learned_from_train(
    brand_passes: Any, train: Any, task: str, low: float, high: float, repeat: str
) -> None:
    sizes = {}
    for split in ("train", "dev", "test"):
        texts, labels = brand_passes.split(split, task)
        sizes[split] = len(texts)
        assert len(texts) == len(labels) > 400
        assert low <= sum(labels) / len(labels) < high
    second = brand_passes.read(brand_passes.ANNOTATION / f"{task}_b.tsv")
    assert len(second) == 300
    assert set(second) <= set(brand_passes.read(brand_passes.ANNOTATION / f"{task}_a.tsv"))
    assert brand_passes.counts(task) == (
        sum(sum(brand_passes.split(split, task)[1]) for split in sizes),
        sum(sizes.values()),
    )
    summary = json.loads((train.MODELS / "default.json").read_text(encoding="utf-8"))
    assert summary["training"][task]["brand_train_posts"] == (
        sizes["train"] * getattr(train, repeat)
    )


def test_the_second_offensive_pass_is_every_tenth_post_of_the_first(brand_passes: Any) -> None:
    first = brand_passes.read(brand_passes.ANNOTATION / "offensive_a.tsv")
    second = brand_passes.read(brand_passes.ANNOTATION / "offensive_b.tsv")
    # Train, dev, test in file order, line index % 10 == 5.
    assert list(second) == list(first)[5::10]


def test_a_pass_refuses_a_label_that_is_not_yes_or_no(brand_passes: Any, tmp_path: Path) -> None:
    path = tmp_path / "irony.tsv"
    path.write_text("twcs:1\tyes\ntwcs:2\tmaybe\n")
    with pytest.raises(ValueError, match="twcs:2: the label must be yes or no"):
        brand_passes.read(path)


@pytest.fixture
def rare_pass(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("rare_pass", monkeypatch)


def test_the_rare_pass_labels_every_candidate_and_its_heads_learned_from_it(
    rare_pass: Any,
) -> None:
    pool = rare_pass.pool()
    labelled = rare_pass.labelled()
    assert set(labelled) == set(rare_pass.INTENTS) == {"safety_risk", "legal_threat"}
    for texts, labels in labelled.values():
        assert texts == [r["text"] for r in pool]
        assert len(labels) == len(pool) > 3000
    # The candidates are SemEval training tweets, none of them a brand annotation post.
    assert all(r["id"].startswith("semeval:") for r in pool)
    brand = [json.loads(x) for x in (rare_pass.ANNOTATION / "pool.jsonl").read_text().splitlines()]
    assert not {rare_pass.norm(r["text"]) for r in pool} & {
        rare_pass.norm(r["text"]) for r in brand
    }
    # The second pass is every tenth tweet of the first (line index % 10 == 5).
    first = rare_pass.read(rare_pass.ANNOTATION / "rare_a.tsv")
    second = rare_pass.read(rare_pass.ANNOTATION / "rare_b.tsv")
    assert list(second) == list(first)[5::10]
    summary = json.loads((ROOT / "src" / "groundswell" / "models" / "default.json").read_text())
    assert set(rare_pass.used()) == set(rare_pass.USED) == {"legal_threat"}
    for intent, (_, labels) in labelled.items():
        entry = summary["training"][f"intent:{intent}"]
        rows, positives = (len(pool), sum(labels)) if intent in rare_pass.USED else (0, 0)
        assert (entry["rare_pass_rows"], entry["rare_pass_pos"]) == (rows, positives)


def test_the_rare_pass_refuses_a_malformed_line(rare_pass: Any, tmp_path: Path) -> None:
    path = tmp_path / "rare.tsv"
    path.write_text("semeval:1\tyes\tno\nsemeval:2\tyes\n")
    with pytest.raises(ValueError, match=re.escape("rare.tsv:2: expected id<TAB>yes|no<TAB>")):
        rare_pass.read(path)


def test_the_irony_flag_threshold_has_the_best_f1_on_dev(brand_passes: Any) -> None:
    y = [0] * 90 + [1] * 10
    p = np.r_[np.linspace(0.0, 0.7, 90), np.linspace(0.75, 0.95, 10)]
    # Every ironic post is over 0.7 and every other one at or under it: the first grid point
    # over 0.7 separates them.
    assert brand_passes.flag_threshold(y, p) == pytest.approx(0.71)
    # Too few ironic posts to choose: the decision point of the head.
    assert brand_passes.flag_threshold([0] * 96 + [1] * 4, p[:100]) == 0.5


def test_the_shipped_irony_flags_use_the_brand_dev_threshold() -> None:
    config = json.loads((ROOT / "src" / "groundswell" / "models" / "default.json").read_text())
    assert config["irony_threshold"] == config["training"]["irony"]["flag_threshold"]
    assert 0.2 <= config["irony_threshold"] <= 0.95
    head = np.load(ROOT / "src" / "groundswell" / "models" / "embeddings_irony.npz")
    summary = json.loads((ROOT / "training" / "embeddings_irony.json").read_text())
    assert float(head["threshold"]) == pytest.approx(summary["flag_threshold"])


def test_the_encoder_head_scripts_find_the_columns_they_refine(embeddings_binary: Any) -> None:
    from groundswell.triage import models

    assert embeddings_binary.columns("intent") == models._INTENT
    assert embeddings_binary.columns("emotion") == models._EMO
    assert embeddings_binary.columns("sentiment") == models._SENT


def test_a_binary_stack_refuses_a_default_head_it_cannot_repeat(embeddings_binary: Any) -> None:
    # The shipped default set's heads are the ones its out-of-fold logits repeat.
    config = json.loads((ROOT / "src" / "groundswell" / "models" / "default.json").read_text())
    for task in embeddings_binary.TASKS:
        embeddings_binary.refuse_unmatched(task, config["training"][task])
    with pytest.raises(SystemExit, match="default set's hate head"):
        embeddings_binary.refuse_unmatched("hate", config["training"]["hate"] | {"C": 0.5})
    shipped = config["training"]["offensive"] | {"naive_bayes_scaling": 1.0}
    with pytest.raises(SystemExit, match="default set's offensive head"):
        embeddings_binary.refuse_unmatched("offensive", shipped)
    # Trained with another number of brand train posts than BRAND_OFFENSIVE_REPEAT gives.
    shipped = config["training"]["offensive"] | {"brand_train_posts": 0}
    with pytest.raises(SystemExit, match="default set's offensive head"):
        embeddings_binary.refuse_unmatched("offensive", shipped)


def test_the_negative_shift_is_the_smallest_that_reaches_the_dev_recall_target(
    train: Any,
) -> None:
    # Ten negative posts: the target (0.80 plus one standard error, 0.926) needs all ten.
    y = np.array([0] * 10 + [1, 2])
    logits = np.zeros((12, 3))
    logits[:10, 1] = np.linspace(0.0, 0.27, 10)  # neutral ahead of negative by up to 0.27
    logits[10:, 1:] = np.eye(2) * 2.0
    shift, target = train.negative_shift(logits, y)
    assert target == pytest.approx(0.8 + (0.8 * 0.2 / 10) ** 0.5)
    assert shift == pytest.approx(0.3)
    # Already met at argmax: no shift.
    logits[:10, 0] = 1.0
    assert train.negative_shift(logits, y)[0] == 0.0


def test_the_shipped_default_set_was_trained_in_the_pinned_environment(train: Any) -> None:
    # Its weights depend on these versions and on OpenBLAS's kernel (training/README.md,
    # "Reproducibility"): what default.json records must be what constraints.txt pins.
    config = json.loads((ROOT / "src" / "groundswell" / "models" / "default.json").read_text())
    recorded = config["training"]["environment"]
    pins = dict(
        line.split("==")
        for line in train.CONSTRAINTS.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert set(pins) == set(train.PINNED)
    assert {name: recorded[name] for name in pins} == pins
    kernels = recorded["blas"].split(", ")
    assert kernels
    assert all(k.startswith("openblas ") for k in kernels)
    assert all(k.endswith(f" {train.BLAS_CORETYPE}") for k in kernels)


def test_a_run_outside_the_pinned_environment_is_named(
    train: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pins = tmp_path / "constraints.txt"
    pins.write_text("# a comment\nnumpy==0.0.1  # too old\n\nscipy>=1\n")
    monkeypatch.setattr(train, "CONSTRAINTS", pins)
    monkeypatch.setattr(train, "blas_kernels", lambda: "openblas 0.3.31 Haswell")
    installed = importlib.metadata.version("numpy")
    assert train.environment_drift() == [f"numpy {installed} (pinned 0.0.1)"]
    monkeypatch.setattr(train, "blas_kernels", lambda: "openblas 0.3.31 SkylakeX")
    assert train.environment_drift()[1] == "BLAS openblas 0.3.31 SkylakeX (pinned OpenBLAS Haswell)"
    monkeypatch.setattr(train, "blas_kernels", lambda: "mkl 2025.1 skylake")
    assert train.environment_drift()[1].startswith("BLAS mkl")


def test_a_shipped_embeddings_set_splits_into_members_that_rebuild_it(
    train_embeddings: Any,
) -> None:
    # `--head` takes a shipped set as its members (to add seeds to it): splitting the shipped
    # file with its own training summary and averaging again must give the file back.
    with np.load(ROOT / "src" / "groundswell" / "models" / "embeddings.npz") as npz:
        shipped = {key: npz[key] for key in npz.files}
    summary = json.loads((ROOT / "training" / "embeddings_training.json").read_text("utf-8"))
    members = train_embeddings.shipped_members(shipped, summary)
    assert len(members) == summary["members"]
    assert all(m["arrays"]["weights"].shape == (384, 3) for m in members)
    rebuilt = train_embeddings.ensemble_arrays([m["arrays"] for m in members])
    rebuilt["bias"] = rebuilt["bias"] + np.array([summary["negative_bias_shift"], 0, 0], "f4")
    rebuilt["mix"] = (summary["mix"] * np.eye(3)).astype(np.float32)
    assert sorted(rebuilt) == sorted(shipped)
    for key, value in shipped.items():
        assert rebuilt[key].dtype == value.dtype, key
        np.testing.assert_allclose(rebuilt[key], value, rtol=1e-6, atol=1e-7, err_msg=key)


def test_a_shipped_set_its_summary_does_not_describe_is_refused(train_embeddings: Any) -> None:
    arrays = {
        "weights": np.zeros((384 * 2, 3), np.float32),
        "bias": np.zeros(3, np.float32),
        "mix": np.eye(3, dtype=np.float32),
    }
    summary = {"members": 3, "negative_bias_shift": 0.8, "best_epoch": [2, 2, 2]}
    with pytest.raises(SystemExit, match="this set has 2 members"):
        train_embeddings.shipped_members(arrays, summary)


@pytest.fixture
def embeddings_intents(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("embeddings_intents", monkeypatch)


def test_the_shipped_intent_heads_are_what_their_summary_records(embeddings_intents: Any) -> None:
    summary = json.loads(embeddings_intents.SUMMARY.read_text())
    with np.load(ROOT / "src" / "groundswell" / "models" / "embeddings_intents.npz") as npz:
        mix, thresholds, weights = npz["mix"], npz["thresholds"], npz["weights"]
    labels = list(summary["intents"])
    assert labels == list(embeddings_intents.INTENT_LABELS)
    for j, label in enumerate(labels):
        entry = summary["intents"][label]
        assert thresholds[j] == pytest.approx(entry["threshold"], abs=0.005)
        if "note" in entry:  # no embeddings head: the default logit alone
            assert mix[j] == 1.0
            assert not weights[:, j].any()
        else:
            assert mix[j] == summary["mix"]
    assert weights.shape[0] == 384 * summary["members"]


def test_intent_folds_are_fixed_by_the_post_id(embeddings_intents: Any) -> None:
    folds = [embeddings_intents.fold_of(f"twcs:{i}") for i in range(500)]
    assert set(folds) == set(range(embeddings_intents.FOLDS))
    assert folds == [embeddings_intents.fold_of(f"twcs:{i}") for i in range(500)]


@pytest.fixture
def weak_labels(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("weak_labels", monkeypatch)


def test_the_shipped_intent_heads_used_weak_rows_exactly_where_the_rules_say(
    weak_labels: Any,
) -> None:
    config = json.loads((ROOT / "src" / "groundswell" / "models" / "default.json").read_text())
    trained_with = {
        key.removeprefix("intent:")
        for key, entry in config["training"].items()
        if key.startswith("intent:") and entry.get("weak_pos")
    }
    assert trained_with == set(weak_labels.USED)
    assert set(weak_labels.USED) <= set(weak_labels.RULES)


@pytest.fixture
def embeddings_emotion(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("embeddings_emotion", monkeypatch)


def test_the_emotion_stack_is_chosen_on_val_with_ties_to_the_smaller_values(
    embeddings_emotion: Any,
) -> None:
    y = np.array([0, 1, 2, 3] * 5)
    default = np.eye(4)[y] * 1.2  # the default head alone is right everywhere
    wrong = np.eye(4)[(y + 1) % 4]  # the vectors' head is wrong everywhere
    c, mix, grid = embeddings_emotion.choose(default, {0.1: wrong, 1.0: wrong}, y)
    assert (c, mix) == (0.1, 1.0)  # mix 1.0 lets the default logits win; C ties -> smaller
    assert grid["C=0.1 mix=0.0"] == 0.0
    assert grid["C=0.1 mix=1.0"] == 1.0


def test_the_shipped_emotion_head_is_what_its_summary_records(embeddings_emotion: Any) -> None:
    summary = json.loads(embeddings_emotion.SUMMARY.read_text())
    with np.load(ROOT / "src" / "groundswell" / "models" / "embeddings_emotion.npz") as npz:
        assert float(npz["mix"]) == summary["mix"]
        assert npz["weights"].shape == (384 * summary["members"], 4)
        # Centred: the regression's logits have mean 0 over the emotions, as `choose` used.
        np.testing.assert_allclose(npz["weights"].sum(axis=1), 0.0, atol=1e-5)
        assert float(npz["bias"].sum()) == pytest.approx(0.0, abs=1e-5)
    assert summary["val_macro_f1"] == max(summary["val_macro_f1_by_C_and_mix"].values())


@pytest.fixture
def sentiment_pass(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    yield from import_training("sentiment_pass", monkeypatch)


def test_the_sentiment_pass_labels_every_pool_tweet_once(sentiment_pass: Any) -> None:
    pool = sentiment_pass.pool()
    texts, labels = sentiment_pass.labelled()
    assert texts == [r["text"] for r in pool]
    assert len(labels) == len(pool) == sum(sentiment_pass.SAMPLE.values()) == 8000
    assert set(labels) == {0, 1, 2}
    # The pool draws from TweetEval train splits only, each tweet once.
    assert {r["id"].split(":")[0] for r in pool} == set(sentiment_pass.SAMPLE)
    assert len({r["id"] for r in pool}) == len(pool)
    # Sources can be picked.
    emotion, _ = sentiment_pass.labelled(("emotion",))
    assert emotion == [r["text"] for r in pool if r["id"].startswith("emotion:")]
    # The second pass is every tenth tweet of the first (line index % 10 == 5), blind.
    first = sentiment_pass.read(sentiment_pass.ANNOTATION / "sentiment_a.tsv")
    second = sentiment_pass.read(sentiment_pass.ANNOTATION / "sentiment_b.tsv")
    assert list(second) == list(first)[5::10]
    a, b = sentiment_pass.passes()
    assert len(a) == len(b) == 800


def test_the_sentiment_pass_refuses_a_malformed_line(sentiment_pass: Any, tmp_path: Path) -> None:
    path = tmp_path / "sentiment.tsv"
    path.write_text("emotion:1\tpositive\nemotion:2\tmixed\n")
    with pytest.raises(ValueError, match=re.escape("sentiment.tsv:2: expected id<TAB>negative|")):
        sentiment_pass.read(path)
