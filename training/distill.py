"""Knowledge distillation for the default sentiment head (training only).

A fine-tuned MiniLM teacher (``--teacher PATH`` of ``train.py``: an ``.npz`` with the
fine-tuned top encoder layers and a 3-way head, written by the fine-tuning experiment) labels an
*unlabelled* pool of tweet-like texts from shared/data; the linear head then trains on the gold
rows plus the pool with the teacher's soft labels (each pool text as three rows, one per class,
weighted ``lambda * p_class``). Inference is unchanged: the shipped head is still one weight
column per class over the hashed featurizer; torch is needed only to run the teacher.

Pool (:func:`build_pool`), never a test split and never a text of the evaluation sets:
OLID training texts, Davidson et al. texts, TweetEval emotion/hate/irony/offensive train and
val texts, the inbound texts of the customer-support-twitter head sample, and CLINC150
train/val/oos_train/oos_val queries (CC BY 3.0; not banking77, which is non-commercial).
Texts whose normalized form is in the sentiment training data (SemEval derived train, brand
train), in TweetEval sentiment val/test, in the brand dev/test splits, in the SemEval-2017
test file or in any TweetEval test split are dropped, and the pool is deduplicated.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
BRAND = ROOT / "training" / "data" / "brand"
_MENTION = re.compile(r"@\w+")
_URL = re.compile(r"https?://\S+|\bURL\b")
_PUNCT = re.compile(r"[!-\"$-/:-?\[-`{-~\u2018\u2019\u201c\u201d\u2026]")
_USERS = re.compile(r"(@user\s*)+")
_SPACE = re.compile(r"\s+")
TASKS = ("emotion", "hate", "irony", "offensive")


def normalize(text: str) -> str:
    """Key for deduplication: lower case, URLs and ASCII punctuation (but @ and #) dropped,
    runs of mentions as one ``@user``, whitespace collapsed (TweetEval drops URLs that OLID
    writes as ``URL``, and quotes differ between releases)."""
    text = text.replace("&amp;", "&").replace("@USER", "@user")
    text = _PUNCT.sub(" ", _URL.sub(" ", _MENTION.sub("@user", text)).lower())
    return _SPACE.sub(" ", _USERS.sub("@user ", text)).strip()


def _brand_texts(split: str) -> list[str]:
    return [str(r["text"]) for r in datasets.read_jsonl(BRAND / f"{split}.jsonl")]


def _semeval2017_test() -> list[str]:
    path = (
        datasets.DATA
        / "semeval2017-task4a"
        / "raw"
        / "SemEval2017-task4-test.subtask-A.english.txt"
    )
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split("\t")
        if len(parts) >= 3:
            out.append(parts[2])
    return out


def held_out_texts() -> list[str]:
    """Texts no training pool may contain: the brand dev and test splits, the SemEval-2017
    test file and the test split of every TweetEval task."""
    texts = _brand_texts("dev") + _brand_texts("test") + _semeval2017_test()
    for task in ("sentiment", *TASKS):
        texts += datasets.tweeteval(task, "test")[0]
    return texts


def excluded_keys() -> set[str]:
    """Normalized texts the pool must not contain: sentiment training texts and every
    evaluation text (dev and test) read anywhere in the project."""
    texts = list(datasets.semeval_train()[0]) + _brand_texts("train")
    texts += datasets.tweeteval("sentiment", "val")[0] + held_out_texts()
    return {normalize(t) for t in texts}


def _sources() -> dict[str, list[str]]:
    data = datasets.DATA
    out: dict[str, list[str]] = {
        "olid_train": datasets.olid()[0],
        "davidson": datasets.davidson()[0],
    }
    for task in TASKS:
        out[f"tweeteval_{task}"] = (
            datasets.tweeteval(task, "train")[0] + datasets.tweeteval(task, "val")[0]
        )
    with (data / "customer-support-twitter" / "twcs_head5000.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        out["twcs_inbound"] = [
            r["text"] for r in csv.DictReader(fh) if r["inbound"] == "True" and r["text"].strip()
        ]
    clinc = json.loads((data / "clinc150" / "data_full.json").read_text(encoding="utf-8"))
    out["clinc150"] = [
        str(t) for split in ("train", "val", "oos_train", "oos_val") for t, _ in clinc[split]
    ]
    return out


def build_pool() -> tuple[list[str], list[str], dict[str, dict[str, int]]]:
    """``(texts, source of each text, counts per source)``; deterministic order (by source,
    then file order); the first occurrence of a normalized text wins."""
    banned = excluded_keys()
    seen: set[str] = set()
    texts: list[str] = []
    origin: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    for name, raw in _sources().items():
        kept = dup = evald = 0
        for text in raw:
            key = normalize(text)
            if not key:
                continue
            if key in banned:
                evald += 1
            elif key in seen:
                dup += 1
            else:
                seen.add(key)
                texts.append(text)
                origin.append(name)
                kept += 1
        counts[name] = {
            "raw": len(raw),
            "kept": kept,
            "dropped_train_or_eval": evald,
            "dropped_duplicate": dup,
        }
    return texts, origin, counts


def pool_digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


def teacher_logits(
    teacher: Path, texts: Sequence[str], cache_dir: Path | None = None
) -> np.ndarray:
    """Raw logits (n x 3: negative, neutral, positive) of the teacher on ``texts``, cached in
    ``cache_dir`` (default: next to the teacher file) by teacher file and text digest. Needs
    torch, transformers and the bundled MiniLM weights (training time only)."""
    cache_dir = cache_dir or teacher.parent
    cache = cache_dir / f"{teacher.stem}.logits.{pool_digest(texts)}.npy"
    if cache.exists():
        return np.load(cache)
    from groundswell.triage._model_embeddings import SentenceEncoders, member_layer_states

    with np.load(teacher) as z:
        arrays = {key: z[key] for key in z.files}
    # The embeddings set's own encoder (base model + the teacher's fine-tuned layers, mean
    # pooled, L2-normalized). Heads: ft-style `head.weight` (classes x 384) and `head.bias`,
    # or the shipped `embeddings.npz` form, `weights` (384 x classes) and `bias` (its `mix`
    # of the default logits is not part of the teacher).
    if "head.weight" in arrays:
        w, b = arrays["head.weight"].astype(np.float32).T, arrays["head.bias"]
    else:
        w, b = arrays["weights"].astype(np.float32), arrays["bias"]
    # An ensemble's encoders side by side, as the embeddings set reads them.
    embeddings = SentenceEncoders(member_layer_states(arrays)).encode(list(texts))
    out = (embeddings @ w + b.astype(np.float32)).astype(np.float32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    np.save(cache, out)
    return out


def soft_rows(
    logits: np.ndarray, weight: float, temperature: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each pool text as three rows, one per class: ``(row index into the pool, class,
    sample weight = weight * softmax(logits / temperature)[class])``."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    n, k = p.shape
    return np.repeat(np.arange(n), k), np.tile(np.arange(k), n), weight * p.ravel()


def pool_targets(logits: np.ndarray, temperature: float, hard: float = 0.0) -> np.ndarray:
    """Per-text class weights (n x 3) from the teacher: its softmax at ``temperature`` or,
    with ``hard`` > 0, a one-hot row for texts whose top probability is at least ``hard``
    (zero rows for the others)."""
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(axis=1, keepdims=True)
    if hard <= 0:
        return p
    h = np.zeros_like(p)
    keep = p.max(axis=1) >= hard
    h[np.flatnonzero(keep), p[keep].argmax(axis=1)] = 1.0
    return h


def fit_blend(
    x: sparse.csr_matrix,
    y: np.ndarray,
    pool_x: sparse.csr_matrix | None,
    pool_p: np.ndarray | None,
    weight: float,
    c_ovr: float,
    c_mul: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The sentiment head of ``train.py`` (equal blend of a one-vs-rest liblinear and a
    multinomial lbfgs logistic regression, each centred over the classes; gold rows weighted
    to balance the classes) with the pool added: pool text ``i`` is a row of class ``k`` with
    sample weight ``weight * pool_p[i, k]`` (in the one-vs-rest fits, one positive and one
    negative row). Returns ``(coef (classes x features), intercept)``. With no pool it equals
    ``train.py``'s ``class_weight="balanced"`` fits."""
    n = len(y)
    use_pool = pool_x is not None and pool_p is not None and weight > 0
    coefs, inters = [], []
    for k in range(3):
        yk = (y == k).astype(int)
        pos = int(yk.sum())
        xs, ys = [x], [yk]
        ws = [np.where(yk == 1, n / (2 * pos), n / (2 * (n - pos)))]
        if use_pool:
            assert pool_x is not None
            assert pool_p is not None
            m = pool_x.shape[0]
            xs += [pool_x, pool_x]
            ys += [np.ones(m, int), np.zeros(m, int)]
            ws += [weight * pool_p[:, k], weight * (pool_p.sum(axis=1) - pool_p[:, k])]
        model = _weighted_fit(xs, ys, ws, LogisticRegression(C=c_ovr, solver="liblinear"))
        coefs.append(model.coef_[0])
        inters.append(model.intercept_[0])
    c1, i1 = np.vstack(coefs), np.array(inters)
    xs, ys = [x], [y]
    ws = [(n / (3 * np.bincount(y, minlength=3)))[y]]
    if use_pool:
        assert pool_x is not None
        assert pool_p is not None
        m = pool_x.shape[0]
        for k in range(3):
            xs.append(pool_x)
            ys.append(np.full(m, k))
            ws.append(weight * pool_p[:, k])
    model = _weighted_fit(xs, ys, ws, LogisticRegression(C=c_mul, max_iter=300, tol=1e-3))
    c2, i2 = model.coef_, model.intercept_
    c = 0.5 * (c1 - c1.mean(axis=0)) + 0.5 * (c2 - c2.mean(axis=0))
    i = 0.5 * (i1 - i1.mean()) + 0.5 * (i2 - i2.mean())
    return c, i


def _weighted_fit(
    xs: list[sparse.csr_matrix], ys: list[np.ndarray], ws: list[np.ndarray], model: Any
) -> Any:
    """Fit ``model`` on the stacked rows, leaving out rows of (near) zero weight."""
    w = np.concatenate(ws)
    keep = w > 1e-6
    x = sparse.vstack(xs, format="csr")[keep]
    return model.fit(x, np.concatenate(ys)[keep], sample_weight=w[keep])
