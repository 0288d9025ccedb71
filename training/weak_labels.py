"""Weak positives for the rare intents, from our own keyword rules over SemEval training tweets.

The hand-labelled brand posts have only a handful of examples of legal threats, safety
reports, press contacts, spam, suggestions, purchase intent and churn. For each such intent
these rules pick tweets of the SemEval 2013-2016 training set (never its test set, never a
post of the annotation pool, so never the brand test split) as extra positives, and as many
non-matching tweets of the same corpus as extra negatives, so that the head learns the cue and
not the corpus. They are used only to train that intent's head (see train.py), and only for the intents in
``USED``: on the hand-labelled posts most rule matches are not the intent, and for spam and
purchase intent the weak rows lower the head's cross-validated average precision (``python
training/weak_labels.py --cv``, figures in training/README.md).
"""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets

RULES = {
    "legal_threat": r"\b(sue|suing|lawsuit|lawyers?|attorneys?|legal action|class action|"
    r"small claims|take (you|them) to court|see you in court|report(ing)? (you|this) to)\b",
    "safety_risk": r"\b(caught fire|on fire|explod\w*|injur\w*|hospital\w*|food poisoning|"
    r"poison\w*|choking|unsafe|dangerous|hazard\w*|recalled|burn(ed|t) (me|my)|sparks?)\b",
    "press_or_influencer": r"\b(journalist|reporter|my (followers|blog|channel|podcast|readers|"
    r"subscribers|audience)|press (inquiry|enquiry)|media (inquiry|enquiry)|"
    r"(writing|doing) (a|an) (story|article|piece|review)|for (a|an|my) (story|article))\b",
    "spam": r"(follow (me|back)|check out my|free followers|click (here|the link)|giveaway|"
    r"promo code|\bdm (me )?for\b|earn \$|make money|win a free|(re)?tweet to win|\brt to win)",
    "suggestion": r"\b(you should|y'?all should|please add|bring back|would be (great|nice|"
    r"awesome|cool) if|feature request|i suggest|why not add|how about adding|it would help if|"
    r"should (add|make|offer|start))\b",
    "purchase_intent": r"\b(want to buy|wanna buy|going to buy|gonna buy|pre-?order(ed|ing)?|"
    r"where can i (buy|get)|thinking (of|about) (getting|buying)|can'?t wait to (get|buy)|"
    r"about to (buy|order)|need to buy|planning to buy)\b",
    "churn_risk": r"\b(switch(ing|ed)? to|cancel(l?ing|l?ed)? my|done with (you|your)|"
    r"never (again|buying|using|flying|ordering)|take my business elsewhere|"
    r"clos(e|ing) my account|last time i (use|buy|fly|order))\b",
}
MAX_PER_INTENT = 300
USED = ("suggestion", "churn_risk", "safety_risk", "legal_threat", "press_or_influencer")
"""The intents whose heads train on their weak rows: all but those where `cv` has at least
``CV_JUDGES`` hand-labelled positives and finds the weak rows lower the out-of-fold average
precision (spam, purchase_intent). With fewer positives the check says little: safety_risk (19)
and legal_threat (8) come out a little higher without, but their heads then score "my phone
exploded and burned my hand" or "I am calling my lawyer" near 0."""
CV_FOLDS = 5
CV_JUDGES = 30
_NORM = re.compile(r"[^a-z0-9]+")


def norm(text: str) -> str:
    """``text`` lower-cased with every run of other than letters and digits made one space:
    the key that finds a tweet again in another file."""
    return _NORM.sub(" ", text.lower()).strip()


def annotation_pool_keys() -> set[str]:
    """`norm` of every post of the brand annotation pool (``data/annotation/pool.jsonl``)."""
    path = Path(__file__).resolve().parent / "data" / "annotation" / "pool.jsonl"
    return {norm(r["text"]) for r in datasets.read_jsonl(path)}


def weak_examples() -> dict[str, tuple[list[str], list[int]]]:
    """``intent -> (texts, labels)``: up to MAX_PER_INTENT rule matches (1) and as many
    non-matching tweets (0), chosen by a hash of the text (deterministic)."""
    pool = annotation_pool_keys()
    texts, _ = datasets.semeval_train()
    candidates = sorted(
        (t for t in texts if norm(t) not in pool),
        key=lambda t: hashlib.sha256(t.encode()).hexdigest(),
    )
    out: dict[str, tuple[list[str], list[int]]] = {}
    for intent, pattern in RULES.items():
        rx = re.compile(pattern, re.IGNORECASE)
        pos = [t for t in candidates if rx.search(t)][:MAX_PER_INTENT]
        neg = [t for t in candidates if not rx.search(t)][: len(pos)]
        out[intent] = (pos + neg, [1] * len(pos) + [0] * len(neg))
    return out


def used_examples() -> dict[str, tuple[list[str], list[int]]]:
    """`weak_examples` for the intents in ``USED`` only."""
    return {k: v for k, v in weak_examples().items() if k in USED}


def fold_of(post_id: str) -> int:
    """The cross-validation fold of a hand-labelled post: a hash of its id."""
    return int(hashlib.sha256(post_id.encode()).hexdigest(), 16) % CV_FOLDS


def stacked_featurizer() -> Callable[[list[str]], Any]:
    """train.py's intent-head features: the hashed features plus the shipped default set's
    (trained, uncentred) sentiment logits."""
    import numpy as np
    import train

    fz = train.featurizer()
    with np.load(train.MODELS / "default.npz") as npz:
        w_sent = np.asarray(npz["weights"][:, 0:3], dtype=np.float32)

    def stacked(texts: list[str]) -> Any:
        return train.stacked_rows(fz, texts, "intents", w_sent)

    return stacked


def oof_default(x: Any, y: Any, fold: Any, extra: tuple[Any, list[int]] | None) -> Any:
    """Out-of-fold decision values of train.py's intent head over the rows of ``x`` (folds
    ``fold``), with ``extra`` rows (features, labels) always on the fitting side."""
    import numpy as np
    import train
    from scipy import sparse

    out = np.zeros(len(y))
    for k in range(CV_FOLDS):
        fit_rows = fold != k
        xs, ys = x[fit_rows], list(y[fit_rows])
        if extra is not None:
            xs, ys = sparse.vstack([xs, extra[0]], format="csr"), ys + list(extra[1])
        out[fold == k] = train.fit(xs, ys, train.C_INTENT).decision_function(x[fold == k])
    return out


def cv() -> dict[str, dict[str, float]]:
    """For each intent with rules: out-of-fold average precision of train.py's intent head over
    brand train + dev (folds by a hash of the post id), without and with its weak rows (always
    on the fitting side); for safety and legal also with the hand-labelled pass over other
    tweets (rare_pass.py), alone and beside the weak rows. Intents with fewer than
    ``CV_FOLDS`` positives are left out."""
    import numpy as np
    import rare_pass
    import train
    from scipy import sparse
    from sklearn.metrics import average_precision_score

    rows = train.brand("train") + train.brand("dev")
    stacked = stacked_featurizer()
    x = stacked([str(r["text"]) for r in rows])
    fold = np.array([fold_of(str(r["id"])) for r in rows])
    rare = rare_pass.labelled()
    x_rare = stacked(rare[rare_pass.INTENTS[0]][0])
    out: dict[str, dict[str, float]] = {}
    for intent, (wx, wy) in weak_examples().items():
        y = np.array([1 if intent in r["labels"] else 0 for r in rows])
        if y.sum() < CV_FOLDS:
            continue
        x_weak = stacked(wx)
        variants: dict[str, tuple[Any, list[int]] | None] = {
            "without": None,
            "with weak rows": (x_weak, wy),
        }
        if intent in rare:
            ry = rare[intent][1]
            variants["with the rare pass"] = (x_rare, ry)
            both = sparse.vstack([x_weak, x_rare], format="csr")
            variants["with both"] = (both, wy + ry)
        scores = {
            name: round(float(average_precision_score(y, oof_default(x, y, fold, extra))), 4)
            for name, extra in variants.items()
        }
        out[intent] = scores
        shown = "  ".join(f"AP {name} {value:.4f}" for name, value in scores.items())
        print(f"{intent:20s} {int(y.sum()):4d} positives  {shown}", flush=True)
    return out


if __name__ == "__main__":
    if "--cv" in sys.argv[1:]:
        cv()
    else:
        for intent, (_x, y) in weak_examples().items():
            print(f"{intent:20s} {sum(y):4d} weak positives")
