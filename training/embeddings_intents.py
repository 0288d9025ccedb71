"""The embeddings set's intent heads: for each intent, a logistic regression over the shipped
encoders' sentence embeddings, averaged with the default set's intent logit. Writes
``models/embeddings_intents.npz`` (``mix``, ``weights``, ``bias``, ``thresholds``, one entry
or column per intent in ``INTENT_LABELS`` order: logit = mix * default logit + embeddings @
weights + bias, then the intent's probability threshold) and
``training/embeddings_intents.json``.

The data are the default intent heads' (train.py): the hand-labelled brand train split plus
the weak rows of ``weak_labels.py`` and, for legal, the hand-labelled pass over other
tweets (``rare_pass.py``); thresholds by the same rule on the brand dev split. The
test split is never read here.

Dev, printed and kept in the summary: 5-fold cross-validation over brand train + dev (folds
by a hash of the post id, the weak and rare-pass rows always on the fitting side), average
precision per intent of the default procedure alone, the regression over the embeddings
alone, and the two averaged.

Needs the extra (``pip install 'groundswell[embeddings]'``); run it after `train.py` and
`train_embeddings.py`. Encoding the 6,300 texts takes about 4 minutes on 2 cores.

    python training/embeddings_intents.py [--cache DIR]
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

import train  # noqa: E402, I001

import numpy as np  # noqa: E402
import rare_pass  # noqa: E402
import weak_labels  # noqa: E402
from embeddings_binary import MODELS, arguments, columns, embeddings  # noqa: E402
from scipy import sparse  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402

from groundswell.triage.domain import INTENT_LABELS  # noqa: E402
from groundswell.triage.models import load_model_set  # noqa: E402

SUMMARY = ROOT / "training" / "embeddings_intents.json"
C = 1.0
MIX = 0.5
"""Weight of each of the two logits: the default head's and the embeddings regression's."""
FOLDS = weak_labels.CV_FOLDS
fold_of = weak_labels.fold_of
_INTENT = columns("intent")


def regression() -> Any:
    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000)


def cv(
    rows: list[dict[str, Any]],
    x: sparse.csr_matrix,
    emb: np.ndarray,
    weak: tuple[sparse.csr_matrix, np.ndarray, list[int]] | None,
    y: np.ndarray,
) -> dict[str, float]:
    """Out-of-fold average precision of the default procedure, the embeddings regression and
    their average (logits), over ``rows`` (brand train + dev)."""
    fold = np.array([fold_of(str(r["id"])) for r in rows])
    d = weak_labels.oof_default(x, y, fold, None if weak is None else (weak[0], weak[2]))
    e = np.zeros(len(rows))
    for k in range(FOLDS):
        fit_rows, held = fold != k, fold == k
        es, ys = [emb[fit_rows]], list(y[fit_rows])
        if weak is not None:
            es.append(weak[1])
            ys += weak[2]
        e[held] = regression().fit(np.vstack(es), ys).decision_function(emb[held])
    return {
        name: round(float(average_precision_score(y, s)), 4)
        for name, s in (("default", d), ("embeddings", e), ("averaged", MIX * d + MIX * e))
    }


def main() -> None:
    args = arguments(__doc__)
    started = time.time()
    b_train, b_dev = train.brand("train"), train.brand("dev")
    weak = weak_labels.used_examples()
    weak_texts = sorted({t for texts, _ in weak.values() for t in texts})
    texts = [str(r["text"]) for r in b_train + b_dev]
    emb = embeddings("brand_train_dev", texts, args.cache, args.threads)
    emb_weak = embeddings("weak_rows", weak_texts, args.cache, args.threads)
    weak_index = {t: i for i, t in enumerate(weak_texts)}
    rare = rare_pass.used()
    rare_texts = [r["text"] for r in rare_pass.pool()]
    emb_rare = embeddings("rare_pass", rare_texts, args.cache, args.threads)
    e_train, e_dev = emb[: len(b_train)], emb[len(b_train) :]

    default = load_model_set("default")
    dev_logits = default.logits(texts[len(b_train) :])[:, _INTENT]
    # The default heads read the sentiment logits too; the CV repeats train.py's procedure.
    stacked = weak_labels.stacked_featurizer()
    x_all = stacked(texts)
    x_rare = stacked(rare_texts)
    n_emb = emb.shape[1]
    mix = np.ones(len(INTENT_LABELS), dtype=np.float32)
    weights = np.zeros((n_emb, len(INTENT_LABELS)), dtype=np.float32)
    bias = np.zeros(len(INTENT_LABELS), dtype=np.float32)
    thresholds = np.full(len(INTENT_LABELS), 0.5, dtype=np.float32)
    summary: dict[str, Any] = {"C": C, "mix": MIX, "members": n_emb // 384, "intents": {}}
    for j, label in enumerate(INTENT_LABELS):
        y_train = [1 if label in r["labels"] else 0 for r in b_train]
        y_dev = np.array([1 if label in r["labels"] else 0 for r in b_dev])
        wx, wy = weak.get(label, ([], []))
        ry = rare[label][1] if label in rare else []
        # The extra rows, always on the fitting side: weak rows, then the rare pass's.
        x_extra = [stacked(wx)] if wx else []
        e_extra = [emb_weak[[weak_index[t] for t in wx]]] if wx else []
        if ry:
            x_extra.append(x_rare)
            e_extra.append(emb_rare)
        e_fit = np.vstack([e_train, *e_extra])
        y_fit = y_train + list(wy) + ry
        entry: dict[str, Any] = {"train_pos": sum(y_fit), "dev_pos": int(y_dev.sum())}
        if sum(y_fit) < 2:
            entry |= {"note": "too few positives: the default head alone", "threshold": 0.5}
            summary["intents"][label] = entry
            continue
        model = regression().fit(e_fit, y_fit)
        mix[j] = MIX
        weights[:, j] = MIX * model.coef_[0]
        bias[j] = MIX * model.intercept_[0]
        dev = MIX * dev_logits[:, j] + e_dev @ weights[:, j] + bias[j]
        thresholds[j] = train.best_threshold(list(y_dev), 1 / (1 + np.exp(-dev)))
        y_all = np.r_[y_train, y_dev]
        extra = (
            (sparse.vstack(x_extra, format="csr"), np.vstack(e_extra), list(wy) + ry)
            if x_extra
            else None
        )
        entry |= {"threshold": round(float(thresholds[j]), 2)}
        if y_all.sum() >= FOLDS:
            entry["cv_average_precision"] = cv(b_train + b_dev, x_all, emb, extra, y_all)
        summary["intents"][label] = entry
        print(label, json.dumps(entry), flush=True)
    summary["seconds"] = round(time.time() - started)
    if args.no_write:
        print(json.dumps(summary, indent=1))
        return
    np.savez(
        MODELS / "embeddings_intents.npz",
        mix=mix,
        weights=weights,
        bias=bias,
        thresholds=thresholds,
    )
    SUMMARY.write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {MODELS / 'embeddings_intents.npz'}")


if __name__ == "__main__":
    main()
