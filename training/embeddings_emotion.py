"""The embeddings set's emotion head: a multinomial logistic regression over the shipped
encoders' sentence embeddings (TweetEval emotion: anger, joy, optimism, sadness), added to
``mix`` times the default set's centred emotion logits. Writes
``models/embeddings_emotion.npz`` (``mix``, ``weights``, ``bias``) and
``training/embeddings_emotion.json``.

Dev is TweetEval emotion val: the default emotion head is trained on train only, so its val
logits are out of sample. The regression's C and the mix are chosen together there (macro-F1),
then the regression is refit on train + val with that C. The test split is never read here.

Needs the extra (``pip install 'groundswell[embeddings]'``); run it after `train.py` and
`train_embeddings.py`. Encoding the 3,600 tweets takes about 2 minutes on 2 cores.

    python training/embeddings_emotion.py [--cache DIR]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import train  # noqa: E402, F401, I001  (first: it pins the BLAS kernel before numpy loads)

import datasets  # noqa: E402
import numpy as np  # noqa: E402
from embeddings_binary import MODELS, arguments, columns, embeddings  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

from groundswell.triage.models import load_model_set  # noqa: E402

SUMMARY = ROOT / "training" / "embeddings_emotion.json"
C_GRID = (0.03, 0.1, 0.3, 1.0)
MIX_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
_EMO = columns("emotion")


def regression(c: float) -> Any:
    return LogisticRegression(C=c, class_weight="balanced", max_iter=2000)


def centred(logits: np.ndarray) -> np.ndarray:
    return logits - logits.mean(axis=1, keepdims=True)


def choose(
    default_val: np.ndarray, vectors_val: dict[float, np.ndarray], y_val: np.ndarray
) -> tuple[float, float, dict[str, float]]:
    """(C, mix, every pair's val macro-F1): the pair with the best macro-F1 of argmax(mix x
    the default's centred logits + the regression's centred logits); ties go to the smaller C,
    then the smaller mix."""
    grid = {
        (c, mix): float(
            f1_score(
                y_val,
                (mix * centred(default_val) + centred(vectors_val[c])).argmax(axis=1),
                average="macro",
            )
        )
        for c in vectors_val
        for mix in MIX_GRID
    }
    c, mix = max(grid, key=lambda k: (round(grid[k], 4), -k[0], -k[1]))
    return c, mix, {f"C={k[0]} mix={k[1]}": round(v, 4) for k, v in grid.items()}


def main() -> None:
    args = arguments(__doc__)
    started = time.time()
    tx, ty_ = datasets.tweeteval("emotion", "train")
    vx, vy_ = datasets.tweeteval("emotion", "val")
    ty, vy = np.asarray(ty_), np.asarray(vy_)
    e_train = embeddings("emotion_train", list(tx), args.cache, args.threads)
    e_val = embeddings("emotion_val", list(vx), args.cache, args.threads)
    default_val = load_model_set("default").logits(list(vx))[:, _EMO]
    vectors_val = {c: regression(c).fit(e_train, ty).decision_function(e_val) for c in C_GRID}
    c, mix, grid = choose(default_val, vectors_val, vy)
    final = regression(c).fit(np.vstack([e_train, e_val]), np.r_[ty, vy])
    # The regression's logits are centred at run time as in `choose`: fold that into the
    # weights and bias (the mean over classes of a linear map is linear).
    weights = (final.coef_ - final.coef_.mean(axis=0)).T.astype(np.float32)
    bias = (final.intercept_ - final.intercept_.mean()).astype(np.float32)
    summary = {
        "train": len(ty) + len(vy),
        "members": e_train.shape[1] // 384,
        "C": c,
        "mix": mix,
        "val_macro_f1_default_alone": round(
            float(f1_score(vy, default_val.argmax(axis=1), average="macro")), 4
        ),
        "val_macro_f1_vectors_alone": grid[f"C={c} mix=0.0"],
        "val_macro_f1": grid[f"C={c} mix={mix}"],
        "val_macro_f1_by_C_and_mix": grid,
        "seconds": round(time.time() - started),
    }
    print(json.dumps(summary, indent=1))
    if args.no_write:
        return
    np.savez(MODELS / "embeddings_emotion.npz", mix=np.float32(mix), weights=weights, bias=bias)
    SUMMARY.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODELS / 'embeddings_emotion.npz'}")


if __name__ == "__main__":
    main()
