"""The triage model sets: shipped linear heads over one shared featurizer, plus language id.

``load_model_set()`` reads package files only (``groundswell/models/``) with numpy, never
pickle and never the network. A loaded :class:`ModelSet` is immutable, so ``predict`` and
``predict_lazy`` may be called from several threads at once. Training lives in ``training/``
(see its README).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from importlib.resources.abc import Traversable
from types import MappingProxyType
from typing import Final

import numpy as np
import numpy.typing as npt

from groundswell.triage._model_embeddings import (
    EMBEDDING_DIM,
    EmbeddingsMissing,
    SentenceEncoders,
    member_layer_states,
)
from groundswell.triage.domain import EMOTION_LABELS, INTENT_LABELS, SENTIMENT_LABELS
from groundswell.triage.features import FEATURE_VERSION, Features, Featurizer, WordVectors
from groundswell.triage.language import LanguageModel

# The label sets live in the pure domain module; imported here so both agree by construction.
MODEL_SET_NAMES = ("default", "embeddings")

#: Column order of the shipped weight matrix.
COLUMNS = (
    *(f"sentiment:{x}" for x in SENTIMENT_LABELS),
    *(f"intent:{x}" for x in INTENT_LABELS),
    *(f"emotion:{x}" for x in EMOTION_LABELS),
    "offensive",
    "hate",
    "irony",
)
_SENT = slice(0, 3)
_INTENT = slice(3, 13)
_EMO = slice(13, 17)
_OFF, _HATE, _IRONY = 17, 18, 19
_BINARY_COLUMNS: Final = {"offensive": _OFF, "hate": _HATE, "irony": _IRONY}
_MAX_CUES = 3


class ModelUnavailable(Exception):
    """A model set cannot be loaded (unknown name, optional extra missing, files missing)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RawPredictions:
    """Model outputs for a batch; row ``i`` of every field belongs to ``texts[i]``."""

    language: list[str]
    language_confidence: npt.NDArray[np.float32]
    sentiment: npt.NDArray[np.float32]
    intents: npt.NDArray[np.float32]
    emotion: npt.NDArray[np.float32]
    offensive: npt.NDArray[np.float32]
    hate: npt.NDArray[np.float32]
    irony: npt.NDArray[np.float32]
    cues: list[dict[str, list[str]]] | None


#: The binary columns an embeddings set may refine, each with a `BinaryHead`.
BINARY_TASKS: Final = tuple(_BINARY_COLUMNS)


@dataclass(frozen=True)
class BinaryHead:
    """One of the ``embeddings`` set's binary heads (offensive, hate, irony), stacked on the
    default one: logit = ``mix`` times the default set's logit for that column + the
    embeddings side by side @ ``weights`` + ``bias`` (decision point 0, like the default
    heads' folded thresholds)."""

    mix: float
    weights: npt.NDArray[np.float32]
    bias: float
    threshold: float = 0.5
    """The probability at which a flag (irony) is set; the probabilities of the other columns
    are reported as they are."""

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ValueError(f"a flag threshold must be a probability, got {self.threshold}")
        # Shared by every thread that predicts with the cached set: read-only.
        self.weights.setflags(write=False)


@dataclass(frozen=True)
class IntentsHead:
    """The ``embeddings`` set's intent heads, one column per intent in ``INTENT_LABELS``
    order: logit = ``mix`` (per intent) times the default set's intent logit + the embeddings
    side by side @ ``weights`` + ``bias``; an intent is in ``labels`` when its probability
    reaches its entry of ``thresholds`` (tuned on dev like the default set's)."""

    mix: npt.NDArray[np.float32]
    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]
    thresholds: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        n = len(INTENT_LABELS)
        if (
            self.mix.shape != (n,)
            or self.bias.shape != (n,)
            or self.thresholds.shape != (n,)
            or self.weights.ndim != 2
            or self.weights.shape[1] != n
        ):
            raise ValueError(f"intent heads need one column per intent ({n})")
        for array in (self.mix, self.weights, self.bias, self.thresholds):
            array.setflags(write=False)

    def threshold_map(self) -> dict[str, float]:
        return {label: float(t) for label, t in zip(INTENT_LABELS, self.thresholds, strict=True)}


@dataclass(frozen=True)
class EmotionHead:
    """The ``embeddings`` set's emotion head: logits = ``mix`` times the default set's centred
    emotion logits + the embeddings side by side @ ``weights`` (384 * encoders x 4) + ``bias``
    (4,), in ``EMOTION_LABELS`` order; a softmax as the default head."""

    mix: float
    weights: npt.NDArray[np.float32]
    bias: npt.NDArray[np.float32]

    def __post_init__(self) -> None:
        n = len(EMOTION_LABELS)
        if self.bias.shape != (n,) or self.weights.ndim != 2 or self.weights.shape[1] != n:
            raise ValueError(f"an emotion head needs one column per emotion ({n})")
        for array in (self.weights, self.bias):
            array.setflags(write=False)


class EmbeddingsRefiner:
    """What the ``embeddings`` set changes in the default set's logits, from the 384-dimensional
    sentence embedding of each text by each encoder (one, or several fine-tuned alike: an
    ensemble whose heads are averaged is still one linear model over the embeddings side by
    side).

    Sentiment: ``mix`` (3 x 3) weighs the default set's centred sentiment logits, ``weights``
    (384 * encoders x 3) the embeddings, plus ``bias`` (3,). Offensive, hate and irony, each
    when the set has a `BinaryHead` for it (``binary``, keyed by the column's name), the
    intents, when it has `IntentsHead`, and the emotion, when it has `EmotionHead`: those heads
    over the same embeddings. Every other column, and every cue (the default set's sparse
    features), stays the default set's.
    """

    def __init__(
        self,
        encoders: Sequence[SentenceEncoders],
        mix: npt.NDArray[np.float32],
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        binary: Mapping[str, BinaryHead] | None = None,
        intents: IntentsHead | None = None,
        emotion: EmotionHead | None = None,
    ) -> None:
        members = sum(encoder.members for encoder in encoders)
        width = EMBEDDING_DIM * members
        if not members or weights.shape != (width, 3):
            raise ValueError(f"weights of shape {weights.shape} do not fit {members} encoder(s)")
        unknown = set(binary or {}) - set(BINARY_TASKS)
        if unknown:
            raise ValueError(f"no binary column {min(unknown)!r}; the columns are {BINARY_TASKS}")
        # (name, weights, their number of dimensions): one row per embedding dimension.
        heads = [(task, head.weights, 1) for task, head in (binary or {}).items()]
        heads += [("intent", intents.weights, 2)] if intents is not None else []
        heads += [("emotion", emotion.weights, 2)] if emotion is not None else []
        for name, head_weights, ndim in heads:
            if head_weights.shape[0] != width or head_weights.ndim != ndim:
                raise ValueError(
                    f"{name} weights of shape {head_weights.shape} do not fit {members} encoder(s)"
                )
        self._encoders = list(encoders)
        self._mix = np.array(mix, dtype=np.float32)
        self._weights = np.array(weights, dtype=np.float32)
        self._bias = np.array(bias, dtype=np.float32)
        self._binary = dict(binary or {})
        self._intents = intents
        self._emotion = emotion

    @property
    def binary(self) -> Mapping[str, BinaryHead]:
        """The binary heads this set ships, by column name (offensive, hate, irony)."""
        return MappingProxyType(self._binary)

    @property
    def intents(self) -> IntentsHead | None:
        """The intent heads, when this set ships them."""
        return self._intents

    @property
    def emotion(self) -> EmotionHead | None:
        """The emotion head, when this set ships one."""
        return self._emotion

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Each text's embedding by every encoder, side by side (n x 384 * encoders)."""
        return np.hstack([encoder.encode(texts) for encoder in self._encoders])

    def refine(
        self, texts: Sequence[str], logits: npt.NDArray[np.float32]
    ) -> npt.NDArray[np.float32]:
        """The default set's logits (n x ``len(COLUMNS)``) with the columns this set refines
        replaced (a new array)."""
        emb = self.embed(texts)
        out = np.array(logits, dtype=np.float32)
        # Trained on centred logits (log-probabilities minus their mean): centre them too.
        sent = logits[:, _SENT]
        centred = sent - sent.mean(axis=1, keepdims=True)
        out[:, _SENT] = centred @ self._mix.T + emb @ self._weights + self._bias
        for task, head in self._binary.items():
            col = _BINARY_COLUMNS[task]
            out[:, col] = head.mix * logits[:, col] + emb @ head.weights + head.bias
        if self._intents is not None:
            heads = self._intents
            out[:, _INTENT] = heads.mix * logits[:, _INTENT] + emb @ heads.weights + heads.bias
        if self._emotion is not None:
            emo = logits[:, _EMO]
            centred_emo = emo - emo.mean(axis=1, keepdims=True)
            emotion = self._emotion
            out[:, _EMO] = emotion.mix * centred_emo + emb @ emotion.weights + emotion.bias
        return out


class ModelSet:
    """A loaded set of models. Immutable after construction; ``predict`` is thread-safe."""

    def __init__(
        self,
        *,
        name: str,
        featurizer: Featurizer,
        weights: npt.NDArray[np.float32],
        bias: npt.NDArray[np.float32],
        language: LanguageModel,
        intent_thresholds: dict[str, float],
        irony_threshold: float,
        cue_threshold: float = 0.5,
        refiner: EmbeddingsRefiner | None = None,
    ) -> None:
        if weights.shape != (featurizer.n_features, len(COLUMNS)):
            raise ModelUnavailable(
                f"weights have shape {weights.shape}, expected "
                f"{(featurizer.n_features, len(COLUMNS))}"
            )
        self.name = name
        self.intent_thresholds = dict(intent_thresholds)
        self.irony_threshold = irony_threshold
        self._featurizer = featurizer
        self._language = language
        self._cue_threshold = cue_threshold
        # Softmax heads are invariant to a per-feature shift shared by their classes, so the
        # weights are centred per head: then a feature's weight for a class is its push
        # towards that class against the others, which is what a cue should report.
        w = np.array(weights, dtype=np.float32)
        for head in (_SENT, _EMO):
            w[:, head] -= w[:, head].mean(axis=1, keepdims=True)
        w.setflags(write=False)
        self._weights = w
        self._bias = np.array(bias, dtype=np.float32)
        self._bias.setflags(write=False)
        self._thresholds = np.array([intent_thresholds[x] for x in INTENT_LABELS], dtype=np.float32)
        self._refiner = refiner

    @property
    def refiner(self) -> EmbeddingsRefiner | None:
        """What the ``embeddings`` set changes in the default logits (None for ``default``)."""
        return self._refiner

    def logits(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """The linear heads' logits (n x ``len(COLUMNS)``), before any refiner: what the
        ``embeddings`` set's heads are stacked on (training/README.md)."""
        return self._linear(self._featurizer.featurize(list(texts)))

    def _linear(self, feats: Features) -> npt.NDArray[np.float32]:
        return np.asarray(feats.matrix @ self._weights, dtype=np.float32) + self._bias

    def predict(self, texts: Sequence[str], *, explain: bool = True) -> RawPredictions:
        """Predict every field for ``texts`` (any length, empty strings allowed).

        With ``explain``, ``cues[i]`` maps a field to up to 3 display tokens that pushed its
        output most: ``sentiment`` (when not neutral), each intent over its threshold,
        ``offensive``/``hate`` when their probability is at least 0.5, ``emotion`` (its top
        class, when that has at least 0.5). Only readable features (words, emoji, "?", "!",
        bigrams not made of stop words only) are cues; fields without a positive push are
        left out.
        """
        raw, finder = self.predict_lazy(texts)
        if not explain:
            return raw
        return replace(raw, cues=finder.find_all())

    def predict_lazy(self, texts: Sequence[str]) -> tuple[RawPredictions, CueFinder]:
        """`predict` without cues, plus a `CueFinder` that names the cues of chosen
        (text, field) pairs afterwards: a caller that shows only some fields' cues (the
        ``why`` of the priority) pays only for those. Same cues as ``predict``'s."""
        texts = list(texts)
        languages, lang_conf = self._language.identify(texts)
        feats = self._featurizer.featurize(texts)
        logits = self._linear(feats)
        if self._refiner is not None:
            logits = self._refiner.refine(texts, logits)
        sentiment = _softmax(logits[:, _SENT])
        emotion = _softmax(logits[:, _EMO])
        sig = _sigmoid(logits[:, _INTENT.start :])
        intents = sig[:, : _INTENT.stop - _INTENT.start]
        rest = sig[:, _OFF - _INTENT.start :]
        offensive = np.ascontiguousarray(rest[:, 0])
        hate = np.ascontiguousarray(rest[:, 1])
        irony = np.ascontiguousarray(rest[:, 2])
        raw = RawPredictions(
            language=languages,
            language_confidence=lang_conf,
            sentiment=sentiment,
            intents=np.ascontiguousarray(intents),
            emotion=emotion,
            offensive=offensive,
            hate=hate,
            irony=irony,
            cues=None,
        )
        return raw, CueFinder(self, feats, raw)


class CueFinder:
    """The cues of one predicted batch, found on request (see `ModelSet.predict`).

    A field of a text has cues only when it is *eligible*: ``sentiment`` when its top class
    is not neutral (the cues are that class's), ``emotion`` when its top class has at least
    the cue threshold, ``offensive``/``hate`` at or over the cue threshold, an intent at or
    over its own threshold. Immutable; safe to share between threads.
    """

    FIELDS: Final = ("sentiment", "emotion", "offensive", "hate", *INTENT_LABELS)
    _INDEX: Final = {name: i for i, name in enumerate(FIELDS)}

    def __init__(self, model_set: ModelSet, feats: Features, raw: RawPredictions) -> None:
        self._weights = model_set._weights
        self._feats = feats
        n = len(raw.language)
        threshold = model_set._cue_threshold
        sent_top = raw.sentiment.argmax(axis=1)
        emo_top = raw.emotion.argmax(axis=1)
        # Row f: which texts field FIELDS[f] is eligible for, and its weight column for each.
        self._eligible = np.concatenate(
            [
                (sent_top != 1)[None],
                (raw.emotion[np.arange(n), emo_top] >= threshold)[None],
                (raw.offensive >= threshold)[None],
                (raw.hate >= threshold)[None],
                (raw.intents >= model_set._thresholds).T,
            ]
        )
        self._columns = np.concatenate(
            [
                (sent_top + _SENT.start)[None],
                (emo_top + _EMO.start)[None],
                np.full((1, n), _OFF),
                np.full((1, n), _HATE),
                np.repeat(np.arange(_INTENT.start, _INTENT.stop)[:, None], n, axis=1),
            ]
        ).astype(np.int64)
        self._n = n

    def find_all(self) -> list[dict[str, list[str]]]:
        """The cues of every eligible field of every text (``predict``'s ``cues``)."""
        fields, rows = np.nonzero(self._eligible)
        return self._find(rows, fields)

    def find(self, rows: Sequence[int], names: Sequence[str]) -> list[dict[str, list[str]]]:
        """Cues of the pairs (text ``rows[k]``, field ``names[k]``) that are eligible, one
        dict per text of the batch (empty where nothing was asked or found). Ask each pair
        once."""
        if len(rows) != len(names):
            raise ValueError(f"{len(rows)} rows for {len(names)} field names")
        index = self._INDEX
        fields = np.array([index[name] for name in names], dtype=np.int64)
        row_array = np.array(rows, dtype=np.int64)
        ok = self._eligible[fields, row_array]
        return self._find(row_array[ok], fields[ok])

    def _find(
        self, rows: npt.NDArray[np.int64], fields: npt.NDArray[np.int64]
    ) -> list[dict[str, list[str]]]:
        cues: list[dict[str, list[str]]] = [{} for _ in range(self._n)]
        if not len(rows):
            return cues
        feats = self._feats
        hashed = feats.hashed
        indptr = hashed.indptr
        counts = indptr[rows + 1] - indptr[rows]
        # Stored entries of the selected texts, pair after pair.
        ends = np.cumsum(counts)
        entry = np.arange(ends[-1]) + np.repeat(indptr[rows] - (ends - counts), counts)
        owner = np.repeat(np.arange(len(rows), dtype=np.int64), counts)
        col_of = np.repeat(self._columns[fields, rows], counts)
        # Features a person cannot read (stop words, character n-grams...) never become
        # cues, though they count in the output.
        readable = feats.readable[entry]
        entry, owner, col_of = entry[readable], owner[readable], col_of[readable]
        contrib = hashed.data[entry] * self._weights[hashed.indices[entry], col_of]
        # Only a positive push is a cue. Dropping the others before the (stable) sort
        # leaves the top entries of each pair, ties included, as they were.
        positive = contrib > 0
        entry, owner, contrib = entry[positive], owner[positive], contrib[positive]
        # Pair first, then strongest push first, ties in entry order: one stable sort of
        # an integer key (a positive float's bits order like the float).
        key = (owner << 31) | (0x7FFFFFFF - contrib.view(np.int32)).astype(np.int64)
        order = np.argsort(key, kind="stable")
        owner_sorted = owner[order]
        starts = np.searchsorted(owner_sorted, np.arange(len(rows)))
        rank = np.arange(len(order)) - starts[owner_sorted]
        # Sorted by pair, then strongest push first.
        pick = order[rank < _MAX_CUES]
        tokens = feats.tokens
        shown = [_display(tokens[t]) for t in feats.source[entry[pick]].tolist()]
        ends = np.cumsum(np.bincount(owner[pick], minlength=len(rows))).tolist()
        names = self.FIELDS
        start = 0
        for row, field, end in zip(rows.tolist(), fields.tolist(), ends, strict=True):
            if end > start:
                cues[row][names[field]] = shown[start:end]
                start = end
        return cues


def _display(token: str) -> str:
    """Readable form of a feature string (negation mark and sentence marks spelled out)."""
    if token.startswith("¬"):
        return "not " + token[1:]
    if "<" not in token:  # no sentence mark (always so for readable features)
        return token
    return token.replace("<s> ", "").replace(" </s>", "")


def _softmax(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    out: npt.NDArray[np.float32] = (e / e.sum(axis=1, keepdims=True)).astype(np.float32)
    return out


def _sigmoid(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = (1.0 / (1.0 + np.exp(-np.clip(x, -30, 30)))).astype(np.float32)
    return out


_LOCK = threading.Lock()
_LOADED: dict[str, ModelSet] = {}


def load_model_set(name: str = "default") -> ModelSet:
    """Load once (cached, lock-protected), lazily, from package files only; never touches the
    network. Raises :class:`ModelUnavailable` for an unknown name, missing files, or when the
    embeddings extra is not installed."""
    with _LOCK:
        cached = _LOADED.get(name)
        if cached is None:
            cached = _load(name)
            _LOADED[name] = cached
        return cached


def _load(name: str) -> ModelSet:
    if name not in MODEL_SET_NAMES:
        raise ModelUnavailable(f"unknown model set {name!r}; choose one of {MODEL_SET_NAMES}")
    if name == "embeddings":
        return _load_embeddings()
    base = resources.files("groundswell").joinpath("models")
    try:
        config = json.loads(base.joinpath(f"{name}.json").read_text(encoding="utf-8"))
        with base.joinpath(f"{name}.npz").open("rb") as fh, np.load(fh) as npz:
            weights = np.asarray(npz["weights"], dtype=np.float32)
            bias = np.asarray(npz["bias"], dtype=np.float32)
        with base.joinpath("language.npz").open("rb") as fh, np.load(fh) as npz:
            language = LanguageModel.from_arrays(dict(npz))
        lexicon = _read_lexicon(base.joinpath("lexicon.txt").read_text(encoding="utf-8"))
        word_vectors = _read_word_vectors(base, config.get("word_vectors"))
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise ModelUnavailable(f"model set {name!r} is incomplete: {exc}") from exc
    if config["feature_version"] != FEATURE_VERSION:
        raise ModelUnavailable(
            f"model set {name!r} was trained with feature version {config['feature_version']}"
            f", this code has {FEATURE_VERSION}: retrain (training/README.md)"
        )
    return ModelSet(
        name=name,
        featurizer=Featurizer(int(config["bits"]), lexicon, word_vectors),
        weights=weights,
        bias=bias,
        language=language,
        intent_thresholds={k: float(v) for k, v in config["intent_thresholds"].items()},
        irony_threshold=float(config["irony_threshold"]),
    )


def _load_embeddings() -> ModelSet:
    """The default heads, with the sentiment (``embeddings.npz``) and, when their files are
    there, the offensive, hate and irony (``embeddings_<column>.npz``), intent
    (``embeddings_intents.npz``, with their own thresholds) and emotion heads
    (``embeddings_emotion.npz``) refined by
    sentence embeddings (from all-MiniLM-L6-v2 with its top layers replaced by the shipped
    fine-tuned ones; the encoders of an ensemble share the layers none of them replaced)."""
    base = resources.files("groundswell").joinpath("models")
    try:
        with base.joinpath("embeddings.npz").open("rb") as fh, np.load(fh) as npz:
            # Each `npz[key]` reads the array from the file: read every one once.
            arrays = {key: npz[key] for key in npz.files}
        mix = np.asarray(arrays["mix"], dtype=np.float32)
        weights = np.asarray(arrays["weights"], dtype=np.float32)
        bias = np.asarray(arrays["bias"], dtype=np.float32)
        members = member_layer_states(arrays)
        binary = {
            task: head
            for task in BINARY_TASKS
            if (head := _read_binary_head(base.joinpath(f"embeddings_{task}.npz"))) is not None
        }
        intents = _read_intents_head(base.joinpath("embeddings_intents.npz"))
        emotion = _read_emotion_head(base.joinpath("embeddings_emotion.npz"))
    except (FileNotFoundError, KeyError, ValueError) as exc:
        raise ModelUnavailable(f"model set 'embeddings' is incomplete: {exc}") from exc
    try:
        # One object for all the members: they share the layers none of them replaces.
        encoders = [SentenceEncoders(members)]
    except EmbeddingsMissing as exc:
        raise ModelUnavailable(str(exc)) from exc
    try:
        refiner = EmbeddingsRefiner(encoders, mix, weights, bias, binary, intents, emotion)
    except ValueError as exc:  # a head that does not fit the shipped encoders
        raise ModelUnavailable(f"model set 'embeddings' is incomplete: {exc}") from exc
    default = _load("default")
    return ModelSet(
        name="embeddings",
        featurizer=default._featurizer,
        weights=default._weights,
        bias=default._bias,
        language=default._language,
        intent_thresholds=(
            default.intent_thresholds if intents is None else intents.threshold_map()
        ),
        irony_threshold=(
            binary["irony"].threshold if "irony" in binary else default.irony_threshold
        ),
        refiner=refiner,
    )


def _read_arrays(path: Traversable) -> dict[str, npt.NDArray[np.float32]] | None:
    """Every array of a shipped head file as float32, or None when the file is not shipped
    (the default set's head is then used)."""
    if not path.is_file():
        return None
    with path.open("rb") as fh, np.load(fh) as npz:
        return {name: np.asarray(npz[name], dtype=np.float32) for name in npz.files}


def _read_binary_head(path: Traversable) -> BinaryHead | None:
    """One of the embeddings set's binary heads (training/embeddings_binary.py), or None."""
    if (a := _read_arrays(path)) is None:
        return None
    threshold = float(a["threshold"]) if "threshold" in a else 0.5
    return BinaryHead(float(a["mix"]), a["weights"], float(a["bias"]), threshold)


def _read_intents_head(path: Traversable) -> IntentsHead | None:
    """The embeddings set's intent heads and thresholds (training/embeddings_intents.py), or
    None."""
    if (a := _read_arrays(path)) is None:
        return None
    return IntentsHead(a["mix"], a["weights"], a["bias"], a["thresholds"])


def _read_emotion_head(path: Traversable) -> EmotionHead | None:
    """The embeddings set's emotion head (training/embeddings_emotion.py), or None."""
    if (a := _read_arrays(path)) is None:
        return None
    return EmotionHead(mix=float(a["mix"]), weights=a["weights"], bias=a["bias"])


def _read_word_vectors(base: Traversable, spec: object) -> WordVectors | None:
    """The word vectors a set's configuration names (``{"file", "words", "dims"}``), or None
    when it names none; a file that does not match its record is refused."""
    if spec is None:
        return None
    if not isinstance(spec, dict):
        raise ValueError(f"word_vectors must be an object, not {spec!r}")
    with base.joinpath(str(spec["file"])).open("rb") as fh:
        vectors = WordVectors.load(fh)
    if (len(vectors.words), vectors.dims) != (spec["words"], spec["dims"]):
        raise ValueError(
            f"{spec['file']} holds {len(vectors.words)} x {vectors.dims} vectors, "
            f"the set was trained with {spec['words']} x {spec['dims']}"
        )
    return vectors


def _read_lexicon(text: str) -> dict[str, float]:
    lexicon: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            token, value = line.split("\t")
            lexicon[token] = float(value)
    return lexicon
