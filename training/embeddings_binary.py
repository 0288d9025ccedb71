"""The embeddings set's binary heads (offensive, hate, irony): for each, a logistic regression
over the shipped encoders' sentence embeddings, stacked on the default set's logit for that
task (TweetEval offensive = OLID level A, TweetEval hate, TweetEval irony). Writes
``models/embeddings_<task>.npz`` (``mix``, ``weights``, ``bias``: logit = mix * default logit
+ embeddings @ weights + bias, decision point 0) and ``training/embeddings_<task>.json``.

Dev is cross-validation over the task's train split only (5 folds). Its val split cannot judge
the stack: the shipped default heads were refit on train + val, so their val logits are
in-sample.
1. Out-of-fold logits of the default head's procedure: train.py's fit for the task (hashed
   features; for offensive also the teacher pool, the brand train posts and ``OFFENSIVE_C``)
   on 4/5 of train. They come without its val threshold or val refit.
2. The embeddings regression's C by the same folds, then its out-of-fold logits.
3. The stack: a logistic regression on the two out-of-fold logits, with the macro-F1 threshold
   on them. Its figure comes from an inner 5-fold CV.
4. The embeddings regression is refit on train + val, as the default heads are, and all of it
   is folded into ``mix``, ``weights`` and ``bias``.

Needs the extra (``pip install 'groundswell[embeddings]'``). Run it after `train.py` and
`train_embeddings.py`: it reads the shipped default set and encoders. Encoding OLID train + val
takes about 12 minutes on 2 cores (hate 6, irony 2); ``--cache DIR`` keeps the embeddings,
keyed by a digest of ``embeddings.npz``.

    python training/embeddings_binary.py --task offensive --cache /tmp/emb-binary
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

# train.py first: it fixes the BLAS threads and kernel before numpy loads.
import train  # noqa: E402, I001

import brand_passes  # noqa: E402
import datasets  # noqa: E402
import numpy as np  # noqa: E402
import offensive  # noqa: E402
from scipy import sparse  # noqa: E402
from scipy.special import expit  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from groundswell.triage.models import BINARY_TASKS, COLUMNS, load_model_set  # noqa: E402

MODELS = Path(os.environ.get("GROUNDSWELL_TRAIN_OUT", ROOT / "src" / "groundswell" / "models"))
TASKS = BINARY_TASKS
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5


def best_threshold(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(macro-F1, threshold) at the best of 361 quantiles of ``score`` (5th to 95th)."""
    grid = np.quantile(score, np.linspace(0.05, 0.95, 361))
    return max((float(f1_score(y, score >= t, average="macro")), float(t)) for t in grid)


def folds(y: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(y, y))


def regression(c: float) -> Any:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000)


@functools.cache
def shipped_digest() -> str:
    """SHA-256 of the shipped ``embeddings.npz``: what the cached embeddings are keyed by."""
    return hashlib.sha256((MODELS / "embeddings.npz").read_bytes()).hexdigest()


def columns(kind: str) -> slice:
    """The columns of the shipped weight matrix (``COLUMNS``) of ``kind`` ("intent",
    "emotion"), which are side by side."""
    index = [i for i, column in enumerate(COLUMNS) if column.startswith(f"{kind}:")]
    return slice(index[0], index[-1] + 1)


def embeddings(name: str, texts: list[str], cache: Path | None, threads: int) -> np.ndarray:
    """The shipped encoders' embeddings of ``texts``, from ``cache`` when it holds them for
    the shipped ``embeddings.npz`` (by `shipped_digest`)."""
    digest = shipped_digest()
    model = load_model_set("embeddings")
    if model.refiner is None:
        raise SystemExit("the embeddings set has no encoders")
    path = cache / f"{name}.npz" if cache else None
    if path is not None and path.exists():
        with np.load(path) as z:
            if str(z["digest"]) == digest and len(z["emb"]) == len(texts):
                return np.asarray(z["emb"])
    import torch  # the extra; train.py has set one BLAS thread, which torch would follow

    torch.set_num_threads(threads)
    started, out = time.time(), []
    for i in range(0, len(texts), 256):
        out.append(model.refiner.embed(texts[i : i + 256]))
        print(f"{name}: {i + len(out[-1])}/{len(texts)} {time.time() - started:.0f}s", flush=True)
    emb = np.vstack(out)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, emb=emb, digest=digest)
    return emb


def default_oof(task: str, texts: list[str], y: np.ndarray) -> np.ndarray:
    """Out-of-fold logits of train.py's procedure for ``task`` (for offensive, its teacher
    pool and the brand train posts with their offensive pass included, always on the fitting
    side)."""
    fz = train.featurizer()
    x = train.featurize(fz, texts, task)
    out = np.zeros(len(y))
    if task != "offensive":
        for fit_rows, held_out in folds(y):
            model = train.fit(x[fit_rows], y[fit_rows], train.C_BINARY)
            out[held_out] = model.decision_function(x[held_out])
        return out
    (x_pool, y_pool, w_pool), _ = offensive.teacher_rows(
        lambda pool_texts: train.featurize(fz, pool_texts, task),
        train.OFFENSIVE_TEACHER_POOLS,
        train.OFFENSIVE_TEACHER_WEIGHT,
    )
    b_texts, b_labels = brand_passes.split("train", "offensive")
    repeat = train.BRAND_OFFENSIVE_REPEAT
    x_brand = train.featurize(fz, b_texts * repeat, task)
    y_brand = np.asarray(b_labels * repeat)
    for fit_rows, held_out in folds(y):
        coef, intercept = offensive.fit_weighted(
            sparse.vstack([x[fit_rows], x_brand, x_pool], format="csr"),
            np.r_[y[fit_rows], y_brand, y_pool],
            np.r_[np.ones(len(fit_rows) + len(y_brand)), w_pool],
            train.OFFENSIVE_C,
        )
        out[held_out] = x[held_out] @ coef + intercept
    return out


def oof(x: np.ndarray, y: np.ndarray, c: float, seed: int = 0) -> np.ndarray:
    out = np.zeros(len(y))
    for fit_rows, held_out in folds(y, seed):
        out[held_out] = regression(c).fit(x[fit_rows], y[fit_rows]).decision_function(x[held_out])
    return out


def fold(
    stack: tuple[float, float, float],
    threshold: float,
    vectors: tuple[np.ndarray, float],
    default_threshold: float,
) -> tuple[float, np.ndarray, float]:
    """The stack as the shipped ``(mix, weights, bias)``. ``stack`` is (weight of the default
    logit, weight of the vectors' logit, intercept), learnt on raw logits with its decision at
    ``threshold``; ``vectors`` the regression over the vectors (coef, intercept). The shipped
    default logit is the raw one less logit(``default_threshold``), which train.py folds into
    its bias, so that is added back here; the decision point becomes 0."""
    w_default, w_vectors, intercept = stack
    coef, vectors_intercept = vectors
    bias = (
        w_default * train.logit(default_threshold)
        + w_vectors * vectors_intercept
        + intercept
        - threshold
    )
    return w_default, (w_vectors * coef).astype(np.float32), float(bias)


def arguments(doc: str, *, tasks: bool = False) -> argparse.Namespace:
    """The options of the scripts that fit heads over the shipped encoders' embeddings
    (``--task`` with ``tasks``)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    if tasks:
        parser.add_argument("--task", choices=TASKS, required=True, help="which head to fit")
    parser.add_argument("--cache", type=Path, default=None, help="folder for the embeddings")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for encoding")
    return parser.parse_args()


def refuse_unmatched(task: str, shipped: dict[str, Any]) -> None:
    """Stop when the default set's head for ``task`` was trained with options `default_oof`
    does not repeat: its out-of-fold logits would not match the shipped head."""
    if task == "offensive":
        unmatched = (
            shipped.get("naive_bayes_scaling")
            or shipped.get("stacked_on_sentiment")
            or shipped.get("hateful_tweets_added")
            or shipped.get("C") != train.OFFENSIVE_C
            or shipped.get("teacher_weight") != train.OFFENSIVE_TEACHER_WEIGHT
            or shipped.get("brand_train_posts", 0)
            != len(brand_passes.split("train", "offensive")[1]) * train.BRAND_OFFENSIVE_REPEAT
        )
    else:
        unmatched = shipped.get("C") != train.C_BINARY
    if unmatched:
        raise SystemExit(
            f"the default set's {task} head uses options default_oof does not repeat "
            "(naive-Bayes scaling, sentiment stacking, hateful tweets, another C, teacher "
            "weight or number of brand train posts)"
        )


def main() -> None:
    args = arguments(__doc__, tasks=True)
    task = str(args.task)
    config = json.loads((MODELS / "default.json").read_text(encoding="utf-8"))
    shipped = config["training"][task]
    refuse_unmatched(task, shipped)
    started = time.time()
    tx, ty_ = datasets.tweeteval(task, "train")
    vx, vy_ = datasets.tweeteval(task, "val")
    ty, vy = np.asarray(ty_), np.asarray(vy_)
    e_train = embeddings(f"{task}_train", list(tx), args.cache, args.threads)
    e_val = embeddings(f"{task}_val", list(vx), args.cache, args.threads)

    d = default_oof(task, list(tx), ty)
    cv = {c: best_threshold(ty, oof(e_train, ty, c))[0] for c in C_GRID}
    c = max(cv, key=lambda k: (round(cv[k], 4), -k))
    e = oof(e_train, ty, c)
    stacked = np.c_[d, e]
    inner = np.zeros(len(ty))
    for fit_rows, held_out in folds(ty, seed=1):
        stack = regression(1e4).fit(stacked[fit_rows], ty[fit_rows])
        inner[held_out] = stack.decision_function(stacked[held_out])
    stack = regression(1e4).fit(stacked, ty)
    f1, threshold = best_threshold(ty, stack.decision_function(stacked))
    w_default, w_emb = (float(w) for w in stack.coef_[0])
    final = regression(c).fit(np.vstack([e_train, e_val]), np.r_[ty, vy])
    mix, weights, bias = fold(
        (w_default, w_emb, float(stack.intercept_[0])),
        threshold,
        (final.coef_[0], float(final.intercept_[0])),
        float(shipped["val_threshold_folded"]),
    )
    summary = {
        "train": len(ty) + len(vy),
        "members": e_train.shape[1] // 384,
        "C": c,
        "cv_macro_f1_by_C": {str(k): round(v, 4) for k, v in cv.items()},
        "cv_macro_f1_default_alone": round(best_threshold(ty, d)[0], 4),
        "cv_macro_f1_embeddings_alone": round(best_threshold(ty, e)[0], 4),
        "cv_macro_f1_stacked": round(best_threshold(ty, inner)[0], 4),
        "stack": {"default": round(w_default, 4), "embeddings": round(w_emb, 4)},
        "oof_macro_f1_at_threshold": round(f1, 4),
        "seconds": round(time.time() - started),
    }
    flag = {}
    if task == "irony":
        # The flag's operating point for brand-directed posts (brand_passes.py), on the head
        # as shipped: float32 weights over the brand dev posts' embeddings.
        texts, y = brand_passes.split("dev")
        default_logit = load_model_set("default").logits(texts)[:, COLUMNS.index(task)]
        emb = embeddings("brand_dev", texts, args.cache, args.threads)
        logit = np.float32(mix) * default_logit + emb @ weights + np.float32(bias)
        flag["threshold"] = brand_passes.flag_threshold(y, expit(logit))
        summary |= {"brand_dev_ironic": sum(y), "flag_threshold": flag["threshold"]}
    print(json.dumps(summary, indent=1))
    if args.no_write:
        return
    path = MODELS / f"embeddings_{task}.npz"
    np.savez(
        path,
        mix=np.float32(mix),
        weights=weights,
        bias=np.float32(bias),
        **{name: np.float32(value) for name, value in flag.items()},
    )
    summary_path = ROOT / "training" / f"embeddings_{task}.json"
    summary_path.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
