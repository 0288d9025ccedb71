"""A test double of `groundswell.triage.models` (keyword rules, no weights).

Used only while the real module is absent (see conftest.py), so the API's tests can run
against the agreed interface; once models.py exists, the tests use the real model set.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from groundswell.triage.domain import INTENT_LABELS

# The label sets live in the pure domain module; imported here so both agree by construction.

NEGATIVE = frozenset({"worst", "awful", "broken", "fire", "hate", "terrible"})
POSITIVE = frozenset({"love", "great", "thanks", "awesome"})


class ModelUnavailable(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RawPredictions:
    language: list[str]
    language_confidence: np.ndarray
    sentiment: np.ndarray
    intents: np.ndarray
    emotion: np.ndarray
    offensive: np.ndarray
    hate: np.ndarray
    irony: np.ndarray
    cues: list[dict[str, list[str]]] | None


class ModelSet:
    def __init__(self, name: str) -> None:
        self.name = name
        self.intent_thresholds = dict.fromkeys(INTENT_LABELS, 0.5)
        self.irony_threshold = 0.5

    def predict(self, texts: Sequence[str], *, explain: bool = True) -> RawPredictions:
        n = len(texts)
        sentiment = np.tile([0.1, 0.8, 0.1], (n, 1))
        intents = np.full((n, len(INTENT_LABELS)), 0.05)
        offensive = np.full(n, 0.05)
        cues: list[dict[str, list[str]]] = []
        for i, text in enumerate(texts):
            words = [w.strip(".,!?") for w in text.lower().split()]
            neg = [w for w in words if w in NEGATIVE]
            pos = [w for w in words if w in POSITIVE]
            cue: dict[str, list[str]] = {}
            if neg:
                sentiment[i] = [0.85, 0.1, 0.05]
                intents[i, INTENT_LABELS.index("complaint")] = 0.9
                cue["sentiment"] = neg[:3]
                cue["complaint"] = neg[:3]
            elif pos:
                sentiment[i] = [0.05, 0.1, 0.85]
                intents[i, INTENT_LABELS.index("praise")] = 0.9
                cue["sentiment"] = pos[:3]
            if "?" in text:
                intents[i, INTENT_LABELS.index("question")] = 0.9
            if "fire" in words or "smoke" in words:
                intents[i, INTENT_LABELS.index("safety_risk")] = 0.95
                cue["safety_risk"] = [w for w in words if w in ("fire", "smoke")]
            if "idiot" in words:
                offensive[i] = 0.9
                cue["offensive"] = ["idiot"]
            cues.append(cue)
        return RawPredictions(
            language=["en" if len(t) >= 3 else "und" for t in texts],
            language_confidence=np.full(n, 0.9),
            sentiment=sentiment,
            intents=intents,
            emotion=np.full((n, 4), 0.25),
            offensive=offensive,
            hate=np.full(n, 0.02),
            irony=np.full(n, 0.1),
            cues=cues if explain else None,
        )


_lock = threading.Lock()
_loaded: dict[str, ModelSet] = {}


def load_model_set(name: str = "default") -> ModelSet:
    if name != "default":
        raise ModelUnavailable(f"model set {name!r} needs the groundswell[embeddings] extra")
    with _lock:
        if name not in _loaded:
            _loaded[name] = ModelSet(name)
        return _loaded[name]
