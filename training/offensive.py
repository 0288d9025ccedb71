"""Training helpers of the offensive head (used by train.py; nothing here runs at inference).

Distillation: a fine-tuned MiniLM teacher (top 2 layers of all-MiniLM-L6-v2, trained on two
thirds of TweetEval offensive train+val; script and split in training/README.md) labelled an
unlabelled pool of tweets from shared/data with p(offensive). The linear head learns from
those soft labels next to the gold OLID labels: each pool tweet becomes two weighted rows,
(x, 1) with weight ``w * p`` and (x, 0) with weight ``w * (1 - p)``, which is exactly the
cross-entropy against the teacher's probability. The pool texts are training texts only
(never a test split): Davidson et al. (texts only; their own labels follow another
definition), TweetEval hate, irony and emotion train and sentiment val.

The teacher's probabilities are stored in ``data/offensive/teacher_pool.npz`` (one float16
array per pool, in loader order, with a digest of the texts to catch a changed loader), so
training needs neither torch nor the teacher.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

TEACHER_POOL = Path(__file__).resolve().parent / "data" / "offensive" / "teacher_pool.npz"


def semeval_pool() -> list[str]:
    """SemEval sentiment training texts (``datasets.semeval_train``) as an offensive pool, in
    file order, dropping every text whose normalized form (``distill.normalize``) is a test
    text of any TweetEval task, a brand dev/test text, a SemEval-2017 test text, a TweetEval
    offensive train/val text (the gold rows, and D, the teacher's held-out third), a text of
    the other pools, or an earlier SemEval text."""
    import distill

    texts = distill.held_out_texts()
    for split in ("train", "val"):
        texts += datasets.tweeteval("offensive", split)[0]
    for name, load in POOLS.items():
        if name != "semeval":
            texts += load()
    seen = {distill.normalize(t) for t in texts}
    out: list[str] = []
    for text in datasets.semeval_train()[0]:
        key = distill.normalize(text)
        if key and key not in seen:
            seen.add(key)
            out.append(text)
    return out


POOLS: dict[str, Callable[[], list[str]]] = {
    "davidson": lambda: datasets.davidson()[0],
    "hate": lambda: datasets.tweeteval("hate", "train")[0],
    "irony": lambda: datasets.tweeteval("irony", "train")[0],
    "emotion": lambda: datasets.tweeteval("emotion", "train")[0],
    "sentval": lambda: datasets.tweeteval("sentiment", "val")[0],
    "semeval": semeval_pool,
}
"""Pools the teacher labels. ``semeval`` (2026-12-07) is optional in the pool file: train.py
reads only the pools named in OFFENSIVE_TEACHER_POOLS."""


def digest(texts: Sequence[str]) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8") + b"\n")
    return h.hexdigest()


def write_teacher_pool(probs: dict[str, np.ndarray], path: Path = TEACHER_POOL) -> None:
    """Store the teacher's p(offensive) per pool (run once after the teacher; see README)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {}
    for name, load in POOLS.items():
        if name not in probs:
            continue
        texts = load()
        if len(texts) != len(probs[name]):
            raise ValueError(f"{name}: {len(texts)} texts vs {len(probs[name])} probabilities")
        arrays[name] = np.asarray(probs[name], dtype=np.float16)
        arrays[f"{name}_sha256"] = np.array(digest(texts))
    np.savez_compressed(path, **arrays)


def teacher_pool(
    path: Path = TEACHER_POOL, names: Sequence[str] | None = None
) -> dict[str, tuple[list[str], np.ndarray]]:
    """``{pool: (texts, p_offensive)}`` for ``names`` (default: every pool in the file);
    raises if a loader no longer gives the same texts."""
    out: dict[str, tuple[list[str], np.ndarray]] = {}
    with np.load(path) as z:
        wanted = [n for n in z.files if n in POOLS] if names is None else list(names)
        for name, load in POOLS.items():
            if name not in wanted:
                continue
            texts = load()
            if str(z[f"{name}_sha256"]) != digest(texts):
                raise ValueError(f"teacher pool {name}: texts changed since the teacher ran")
            out[name] = (texts, np.asarray(z[name], dtype=np.float64))
    return out


def teacher_rows(
    featurize: Callable[[list[str]], sparse.csr_matrix], names: Sequence[str], weight: float
) -> tuple[tuple[sparse.csr_matrix, np.ndarray, np.ndarray], int]:
    """The committed teacher pool's ``names`` as weighted soft rows (`soft_rows`) over the
    columns ``featurize`` gives, and how many pool texts they hold: the extra rows of
    train.py's offensive head (and of embeddings_offensive.py's out-of-fold copy of it)."""
    pool = teacher_pool()
    texts = [t for name in names for t in pool[name][0]]
    p_offensive = np.concatenate([pool[name][1] for name in names])
    return soft_rows(featurize(texts), p_offensive, weight), len(texts)


def soft_rows(
    x: sparse.csr_matrix, p: np.ndarray, weight: float
) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
    """Two rows per text: positive with weight ``weight * p``, negative ``weight * (1 - p)``."""
    n = x.shape[0]
    y = np.r_[np.ones(n, dtype=int), np.zeros(n, dtype=int)]
    return sparse.vstack([x, x], format="csr"), y, np.r_[weight * p, weight * (1.0 - p)]


def nb_ratio(x: sparse.csr_matrix, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Naive-Bayes log-count ratio of each column between weighted positive and negative rows
    (NBSVM, Wang & Manning 2012); as train.nb_scale, with sample weights."""
    present = (x > 0).astype(np.float32)
    pos = np.asarray(present.T @ (w * (y == 1))).ravel() + 1.0
    neg = np.asarray(present.T @ (w * (y == 0))).ravel() + 1.0
    return np.asarray(np.log((pos / pos.sum()) / (neg / neg.sum())))


def fit_weighted(
    x: sparse.csr_matrix, y: np.ndarray, w: np.ndarray, c: float, nb: float = 0.0
) -> tuple[np.ndarray, float]:
    """L2 logistic regression (liblinear) with sample weights, classes balanced on the weighted
    counts (with unit weights this is train.fit's ``class_weight="balanced"``), optional
    naive-Bayes feature scaling folded back into the weights. Returns ``(coef, intercept)``
    over the columns of ``x``."""
    scale = 1.0 + nb * np.abs(nb_ratio(x, y, w)) if nb else np.ones(x.shape[1])
    xs = x @ sparse.diags(scale.astype(np.float32)) if nb else x
    total, pos = float(w.sum()), float(w[y == 1].sum())
    sw = np.where(y == 1, w * total / (2 * pos), w * total / (2 * (total - pos)))
    model = LogisticRegression(C=c, solver="liblinear").fit(xs, y, sample_weight=sw)
    return model.coef_[0] * scale, float(model.intercept_[0])


def best_macro_threshold(y: Sequence[int], p: np.ndarray) -> float:
    """Threshold with the best macro-F1 (both classes) on ``(y, p)`` (as train.py's)."""
    from sklearn.metrics import f1_score

    grid = np.linspace(0.05, 0.95, 91)
    scores = [f1_score(y, p >= t, average="macro") for t in grid]
    return float(grid[int(np.argmax(scores))])


def fit_with_val(
    x_train: sparse.csr_matrix,
    y_train: Sequence[int],
    x_val: sparse.csr_matrix,
    y_val: Sequence[int],
    extra: tuple[sparse.csr_matrix, np.ndarray, np.ndarray],
    c: float,
    nb: float,
) -> tuple[np.ndarray, float, float]:
    """train.py's binary-head procedure with weighted extra rows: fit on train + extra, choose
    the macro-F1 threshold on val, refit on train + val + extra. Returns
    ``(coef, intercept, threshold)``."""
    x_extra, y_extra, w_extra = extra

    def stack(
        x: sparse.csr_matrix, y: Sequence[int]
    ) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        return (
            sparse.vstack([x, x_extra], format="csr"),
            np.r_[np.asarray(y), y_extra],
            np.r_[np.ones(x.shape[0]), w_extra],
        )

    coef, intercept = fit_weighted(*stack(x_train, y_train), c, nb)
    p_val = 1.0 / (1.0 + np.exp(-(x_val @ coef + intercept)))
    thr = best_macro_threshold(y_val, p_val)
    x_all = sparse.vstack([x_train, x_val], format="csr")
    coef, intercept = fit_weighted(*stack(x_all, list(y_train) + list(y_val)), c, nb)
    return coef, intercept, thr
