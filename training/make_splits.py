"""Deterministic train/dev/test splits of the hand-labelled brand-directed posts.

Reads ``training/data/annotation/pool.jsonl`` (texts) and ``labels_a{1,2,3}.tsv`` (the primary
annotation: ``id<TAB>sentiment<TAB>labels``), and writes ``training/data/brand/{train,dev,test}.jsonl``
(``id, source, text, sentiment, labels``). The split of a post depends only on the SHA-256 of
its id, so adding labels never moves a post from one split to another:
test 20 %, dev 15 %, train 65 %. ``labels_b.tsv`` (second annotation) is only for agreement.

    python training/make_splits.py
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import datasets

ROOT = Path(__file__).resolve().parent
ANNOTATION = ROOT / "data" / "annotation"
OUT = ROOT / "data" / "brand"
SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = (
    "complaint", "question", "praise", "suggestion", "purchase_intent",
    "churn_risk", "safety_risk", "legal_threat", "press_or_influencer", "spam",
)  # fmt: skip


def split_of(post_id: str) -> str:
    """``test``, ``dev`` or ``train`` from the id's hash (stable across runs and machines)."""
    bucket = int(hashlib.sha256(post_id.encode()).hexdigest()[:8], 16) % 100
    if bucket < 20:
        return "test"
    if bucket < 35:
        return "dev"
    return "train"


def read_labels(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``id -> (sentiment, intents)`` from one annotation TSV; malformed lines are skipped."""
    out: dict[str, tuple[str, list[str]]] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or parts[1] not in SENTIMENTS:
            continue
        labels = [] if parts[2].strip() in ("-", "") else parts[2].strip().split(",")
        if all(x in INTENTS for x in labels):
            out[parts[0]] = (parts[1], labels)
    return out


def main() -> None:
    pool = datasets.read_jsonl(ANNOTATION / "pool.jsonl")
    labels: dict[str, tuple[str, list[str]]] = {}
    for name in ("labels_a1.tsv", "labels_a2.tsv", "labels_a3.tsv"):
        labels.update(read_labels(ANNOTATION / name))
    OUT.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for post in pool:
        if post["id"] not in labels:
            continue
        sentiment, intents = labels[post["id"]]
        record = {**post, "sentiment": sentiment, "labels": intents}
        rows[split_of(post["id"])].append(json.dumps(record, ensure_ascii=False))
    for split, lines in rows.items():
        (OUT / f"{split}.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
        print(f"{split}: {len(lines)} posts")


if __name__ == "__main__":
    main()
