"""The training scripts' pure helpers, checked against the files that ship (numpy only)."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def train_embeddings(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """training/train_embeddings.py imported for one test: the paths it adds and the training
    modules it loads (``datasets``, ``train``...) are taken away again afterwards; the package
    modules stay, so no test sees a second copy of a class."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    before = set(sys.modules)
    sys.path.insert(0, str(ROOT / "training"))
    yield importlib.import_module("train_embeddings")
    training = str(ROOT / "training")
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", "") or "").startswith(training):
            del sys.modules[name]


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
