"""Yes/no passes over the brand-directed posts (irony, hate, offensive): the hand labels and
the irony flag's operating point.

Irony. TweetEval's irony set (SemEval-2018 Task 3A) is about half ironic; brand-directed posts
are not, so its heads at their TweetEval decision point flag far too many of them (a quarter of
the brand dev and test posts). The brand dev and test splits carry a separate irony pass
(``data/annotation/irony_a.tsv``, guide: docs/annotation-guide.md, "Irony"), and each model
set's ``irony_threshold`` is the probability with the best F1 of the ironic class on brand dev.
``irony_b.tsv`` is the independent second pass, for agreement only.

Hate. All three brand splits carry a hate pass (``hate_a.tsv``, guide: "Hate"; ``hate_b.tsv``
is the second pass over every tenth post). The hate head learns from the brand train posts as
well (train.py), and evaluate.py scores the brand test split.

Offensive. All three brand splits carry an offensive pass (``offensive_a.tsv``, guide:
"Offensive"; ``offensive_b.tsv`` is the second pass over every tenth post). As for hate, the
offensive head learns from the brand train posts too and evaluate.py scores the test split.

    python training/brand_passes.py    # Cohen's kappa (or raw agreement) of each task's passes
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
from sklearn.metrics import f1_score

ANNOTATION = Path(__file__).resolve().parent / "data" / "annotation"
BRAND = Path(__file__).resolve().parent / "data" / "brand"
GRID = np.round(np.linspace(0.2, 0.95, 76), 2)
"""Thresholds searched: a flag under 0.2 would be noise, over 0.95 almost never set."""
MIN_POSITIVES = 5


TASKS = ("irony", "hate", "offensive")


def read(path: Path) -> dict[str, int]:
    """``id -> 1 (yes) or 0`` from one pass (``id<TAB>yes|no``)."""
    out: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        post_id, value = line.split("\t")
        if value not in ("yes", "no"):
            raise ValueError(f"{path.name}: {post_id}: the label must be yes or no, got {value!r}")
        out[post_id] = int(value == "yes")
    return out


def split(name: str, task: str = "irony") -> tuple[list[str], list[int]]:
    """The texts of brand split ``name`` and their ``task`` labels from its first pass (irony:
    dev and test only; hate and offensive: train, dev and test)."""
    labels = read(ANNOTATION / f"{task}_a.tsv")
    rows = datasets.read_jsonl(BRAND / f"{name}.jsonl")
    missing = [str(r["id"]) for r in rows if r["id"] not in labels]
    if missing:
        raise ValueError(f"{len(missing)} {name} posts have no {task} label, e.g. {missing[0]}")
    return [str(r["text"]) for r in rows], [labels[str(r["id"])] for r in rows]


def counts(task: str) -> tuple[int, int]:
    """``(yes, posts)`` of ``task``'s first pass over all three brand splits (hate, offensive)."""
    labels = [y for name in ("train", "dev", "test") for y in split(name, task)[1]]
    return sum(labels), len(labels)


def flag_threshold(y: list[int], p: np.ndarray) -> float:
    """The threshold of ``GRID`` with the best F1 of the ironic class on ``(y, p)`` (the
    lowest among ties); 0.5 with fewer than ``MIN_POSITIVES`` ironic posts."""
    if sum(y) < MIN_POSITIVES:
        return 0.5
    scores = [f1_score(y, p >= t, zero_division=0) for t in GRID]
    return float(GRID[int(np.argmax(scores))])


def passes(task: str = "irony") -> tuple[list[int], list[int]]:
    """The two ``task`` passes' labels (first, second) of the posts both annotated, in id
    order."""
    first, second = read(ANNOTATION / f"{task}_a.tsv"), read(ANNOTATION / f"{task}_b.tsv")
    common = sorted(set(first) & set(second))
    return [first[i] for i in common], [second[i] for i in common]


def kappa(a: list[int], b: list[int]) -> float:
    """Cohen's kappa of two yes/no label lists."""
    from agreement import kappa as cohen

    return cohen([str(x) for x in a], [str(x) for x in b])


def main() -> None:
    for task in TASKS:
        a, b = passes(task)
        print(f"{task}: posts annotated twice: {len(a)}; yes: first {sum(a)}, second {sum(b)}")
        if len(set(a) | set(b)) > 1:
            print(f"{task} kappa {kappa(a, b):.3f}")
        else:  # kappa is undefined when both passes give one label throughout
            agree = np.mean(np.array(a) == np.array(b))
            print(f"{task}: one label throughout; raw agreement {agree:.3f}")


if __name__ == "__main__":
    main()
