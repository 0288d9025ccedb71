"""Out-of-time check of the default sentiment head (a dev figure; no test set is read).

Fits train.py's sentiment procedure (the blend of one-vs-rest and multinomial heads, the brand
train posts x ``BRAND_WEIGHT``, the brand dev rule's negative shift) on the SemEval 2013-2016
training tweets *without* SemEval's 2016 test file, then scores that file: the nearest thing
to the later 2017 test that the training data holds. Also prints TweetEval val, brand dev and
(when they are not added as training rows) the hand-labelled later tweets of
``sentiment_pass.py``.

    python training/out_of_time.py                       # the shipped word vectors
    python training/out_of_time.py --vectors OTHER.npz   # a trial table of word vectors
    python training/out_of_time.py --vectors none        # no word vectors
    python training/out_of_time.py --pass-repeat 2       # the sentiment pass's tweets x2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))
# build_lexicon writes lexicon.txt next to the weights: keep the shipped folder untouched.
os.environ.setdefault("GROUNDSWELL_TRAIN_OUT", tempfile.mkdtemp(prefix="groundswell-oot-"))

# train first: it pins BLAS's threads and kernel, which must happen before numpy loads.
import train  # noqa: E402, I001  # isort: split
import datasets  # noqa: E402
import numpy as np  # noqa: E402
import sentiment_pass  # noqa: E402
from sklearn.metrics import f1_score, recall_score  # noqa: E402

from groundswell.triage.features import Featurizer, WordVectors  # noqa: E402

HELD_OUT = "twitter-2016test-A.tsv"


def split() -> tuple[list[str], list[int], list[str], list[int]]:
    """``(fit texts, fit labels, held-out texts, held-out labels)`` of the derived train set."""
    fit_x: list[str] = []
    fit_y: list[int] = []
    out_x: list[str] = []
    out_y: list[int] = []
    for _, label, text, source in datasets.semeval_rows():
        xs, ys = (out_x, out_y) if source == HELD_OUT else (fit_x, fit_y)
        xs.append(text)
        ys.append(label)
    return fit_x, fit_y, out_x, out_y


def run(
    vectors: WordVectors | None,
    pass_repeat: int = 0,
    pass_sources: tuple[str, ...] = tuple(sentiment_pass.SAMPLE),
) -> dict[str, object]:
    """The figures of train.py's sentiment procedure fitted on the held-in rows (plus the
    sentiment pass's tweets from ``pass_sources``, ``pass_repeat`` times: a trial; train.py
    does not add them)."""
    fz = Featurizer(train.BITS, train.build_lexicon("own"), vectors)
    fit_x, fit_y, out_x, out_y = split()
    b_train, b_dev = train.brand("train"), train.brand("dev")
    x = fit_x + [str(r["text"]) for r in b_train] * train.BRAND_WEIGHT
    y = fit_y + [train.SENTIMENT_INDEX[str(r["sentiment"])] for r in b_train] * train.BRAND_WEIGHT
    if pass_repeat:
        p_x, p_y = sentiment_pass.labelled(pass_sources)
        x, y = x + p_x * pass_repeat, y + p_y * pass_repeat
    c_, i_ = train.sentiment_blend(train.featurize(fz, x, "sentiment"), y)
    # float32, as train.py stores them.
    w, b = np.asarray(c_.T, dtype=np.float32), np.asarray(i_, dtype=np.float32)
    d_x = train.featurize(fz, [str(r["text"]) for r in b_dev])
    d_y = np.array([train.SENTIMENT_INDEX[str(r["sentiment"])] for r in b_dev])
    d_logits = np.asarray(d_x @ w) + b
    shift, _ = train.negative_shift(d_logits, d_y)
    out: dict[str, object] = {
        "pass_repeat": pass_repeat,
        "pass_sources": list(pass_sources) if pass_repeat else [],
        "shift": round(shift, 2),
    }
    val_x, val_y = datasets.tweeteval("sentiment", "val")
    dev_sets = [("out_of_time", out_x, out_y), ("tweeteval_val", val_x, val_y)]
    if not pass_repeat:
        # The pass's later tweets (2016-2019), a dev set when they are not training rows.
        dev_sets.append(("sentiment_pass", *sentiment_pass.labelled()))
    for name, texts, labels in dev_sets:
        logits = np.asarray(train.featurize(fz, texts) @ w) + b
        out[name] = {
            "argmax": round(float(recall_score(labels, logits.argmax(1), average="macro")), 4),
            "at_shift": round(
                float(recall_score(labels, train.shifted(logits, shift), average="macro")), 4
            ),
        }
    pred = train.shifted(d_logits, shift)
    out["brand_dev"] = {
        "negative_recall": round(float(np.mean(pred[d_y == 0] == 0)), 3),
        "macro_f1": round(float(f1_score(d_y, pred, average="macro")), 3),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--vectors", default=str(train.WORD_VECTORS), help="a word_vectors.npz or none")
    ap.add_argument(
        "--pass-repeat",
        type=int,
        default=0,
        help="times the sentiment pass's tweets are added to the fit (default 0: a dev set)",
    )
    ap.add_argument(
        "--pass-sources",
        default=",".join(sentiment_pass.SAMPLE),
        help="which of the pass's sources (TweetEval tasks) to add, comma-separated",
    )
    args = ap.parse_args()
    vectors = None if args.vectors == "none" else WordVectors.load(args.vectors)
    sources = tuple(x for x in args.pass_sources.split(",") if x)
    print(json.dumps(run(vectors, args.pass_repeat, sources), indent=1))


if __name__ == "__main__":
    main()
