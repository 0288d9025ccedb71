"""The embeddings set's offensive head: a logistic regression over the shipped encoders'
sentence embeddings (TweetEval offensive = OLID level A), stacked on the default set's
offensive logit. Writes ``models/embeddings_offensive.npz`` (``mix``, ``weights``, ``bias``:
logit = mix * default logit + embeddings @ weights + bias, decision point 0) and
``training/embeddings_offensive.json``.

Dev is cross-validation over OLID train only (5 folds). OLID val cannot judge the stack: the
shipped default head was refit on train + val, so its val logits are in-sample.
1. Out-of-fold logits of the default head's procedure: train.py's offensive fit (hashed
   features, teacher pool, ``OFFENSIVE_C``) on 4/5 of train. They come without its val
   threshold or val refit.
2. The embeddings regression's C by the same folds, then its out-of-fold logits.
3. The stack: a logistic regression on the two out-of-fold logits, with the macro-F1 threshold
   on them. Its figure comes from an inner 5-fold CV.
4. The embeddings regression is refit on train + val, as the default heads are, and all of it
   is folded into ``mix``, ``weights`` and ``bias``.

Needs the extra (``pip install 'groundswell[embeddings]'``). Run it after `train.py` and
`train_embeddings.py`: it reads the shipped default set and encoders. Encoding OLID train + val
takes about 12 minutes on 2 cores; ``--cache DIR`` keeps the embeddings, keyed by a digest of
``embeddings.npz``.

    python training/embeddings_offensive.py --cache /tmp/emb-offensive
"""

from __future__ import annotations

import argparse
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

import datasets  # noqa: E402
import numpy as np  # noqa: E402
import offensive  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402

from groundswell.triage.features import Featurizer  # noqa: E402
from groundswell.triage.models import load_model_set  # noqa: E402

MODELS = Path(os.environ.get("GROUNDSWELL_TRAIN_OUT", ROOT / "src" / "groundswell" / "models"))
SUMMARY = ROOT / "training" / "embeddings_offensive.json"
C_GRID = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
FOLDS = 5


def best_threshold(y: np.ndarray, score: np.ndarray) -> tuple[float, float]:
    """(macro-F1, threshold) at the best of 261 quantiles of ``score`` (30th to 95th)."""
    grid = np.quantile(score, np.linspace(0.3, 0.95, 261))
    return max((float(f1_score(y, score >= t, average="macro")), float(t)) for t in grid)


def folds(y: np.ndarray, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(y, y))


def regression(c: float) -> Any:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000)


def embeddings(
    name: str, texts: list[str], cache: Path | None, digest: str, threads: int
) -> np.ndarray:
    """The shipped encoders' embeddings of ``texts``, from ``cache`` when it holds them for
    the ``embeddings.npz`` whose SHA-256 is ``digest``."""
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


def default_oof(texts: list[str], y: np.ndarray) -> np.ndarray:
    """Out-of-fold logits of train.py's offensive procedure (teacher pool included)."""
    fz = Featurizer(train.BITS, train.build_lexicon("own"))
    x = train.featurize(fz, texts)
    (x_pool, y_pool, w_pool), _ = offensive.teacher_rows(
        lambda pool_texts: train.featurize(fz, pool_texts),
        train.OFFENSIVE_TEACHER_POOLS,
        train.OFFENSIVE_TEACHER_WEIGHT,
    )
    out = np.zeros(len(y))
    for fit_rows, held_out in folds(y):
        coef, intercept = offensive.fit_weighted(
            sparse.vstack([x[fit_rows], x_pool], format="csr"),
            np.r_[y[fit_rows], y_pool],
            np.r_[np.ones(len(fit_rows)), w_pool],
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


def arguments(doc: str) -> argparse.Namespace:
    """The options of the scripts that fit heads over the shipped encoders' embeddings."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=None, help="folder for the embeddings")
    parser.add_argument("--no-write", action="store_true", help="print the figures only")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for encoding")
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__)
    config = json.loads((MODELS / "default.json").read_text(encoding="utf-8"))
    shipped = config["training"]["offensive"]
    # default_oof repeats train.py's offensive fit without its optional parts: refuse a
    # default set trained with any of them, whose out-of-fold logits it would not match.
    if (
        shipped.get("naive_bayes_scaling")
        or shipped.get("stacked_on_sentiment")
        or shipped.get("hateful_tweets_added")
        or shipped.get("C") != train.OFFENSIVE_C
        or shipped.get("teacher_weight") != train.OFFENSIVE_TEACHER_WEIGHT
    ):
        raise SystemExit(
            "the default set's offensive head uses options default_oof does not repeat "
            "(naive-Bayes scaling, sentiment stacking, hateful tweets, another C or teacher "
            "weight)"
        )
    started = time.time()
    tx, ty_ = datasets.tweeteval("offensive", "train")
    vx, vy_ = datasets.tweeteval("offensive", "val")
    ty, vy = np.asarray(ty_), np.asarray(vy_)
    digest = hashlib.sha256((MODELS / "embeddings.npz").read_bytes()).hexdigest()
    e_train = embeddings("olid_train", list(tx), args.cache, digest, args.threads)
    e_val = embeddings("olid_val", list(vx), args.cache, digest, args.threads)

    d = default_oof(list(tx), ty)
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
    print(json.dumps(summary, indent=1))
    if args.no_write:
        return
    np.savez(
        MODELS / "embeddings_offensive.npz",
        mix=np.float32(mix),
        weights=weights,
        bias=np.float32(bias),
    )
    SUMMARY.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODELS / 'embeddings_offensive.npz'}")


if __name__ == "__main__":
    main()
