"""Loaders for the labelled sets in shared/data (see each folder's README for provenance).

Every loader returns ``(texts, labels)`` with integer labels in the order of the matching
``*_LABELS`` tuple of ``groundswell.triage.models``. Mentions are anonymised to ``@user``
everywhere (TweetEval style) so no set teaches the model a handle.
"""

from __future__ import annotations

import csv
import json
import os
import re
from pathlib import Path
from typing import Any

DATA = Path(
    os.environ.get(
        "GROUNDSWELL_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)
_MENTION = re.compile(r"@\w+")

Split = tuple[list[str], list[int]]


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


def tweeteval(task: str, split: str) -> Split:
    """TweetEval ``task`` (sentiment/offensive/hate/emotion/irony), ``split`` train/val/test.

    Sentiment has no train text here: use :func:`semeval_train` instead.
    """
    base = DATA / "tweeteval" / task
    texts = _lines(base / f"{split}_text.txt")
    labels = [int(x) for x in _lines(base / f"{split}_labels.txt")]
    if len(texts) != len(labels):
        raise ValueError(f"{task}/{split}: {len(texts)} texts vs {len(labels)} labels")
    return texts, labels


def semeval_rows(data: Path = DATA) -> list[tuple[str, int, str, str]]:
    """``(tweet id, label, text, source file)`` of every row of the SemEval-2013..2016 derived
    sentiment train set (under the shared data folder ``data``), in file order."""
    with (data / "semeval2017-task4a" / "derived" / "train.tsv").open(encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [(row[0], int(row[1]), row[2], row[3]) for row in reader]


def semeval_train() -> Split:
    """SemEval-2013..2016 derived sentiment train set (deduplicated against TweetEval val+test)."""
    rows = semeval_rows()
    return [text for _, _, text, _ in rows], [label for _, label, _, _ in rows]


def olid() -> Split:
    """OLID level A training set: 1 = offensive. Same tweets as TweetEval offensive train+val."""
    texts: list[str] = []
    labels: list[int] = []
    path = DATA / "olid" / "olid-training-v1.0.tsv"
    with path.open(encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            texts.append(row[1].replace("@USER", "@user"))
            labels.append(1 if row[2] == "OFF" else 0)
    return texts, labels


def davidson() -> tuple[list[str], list[int], list[int]]:
    """Davidson et al. 2017: ``(texts, offensive, hate)`` where offensive = hate or offensive
    language by majority vote and hate = class 0 (hate speech)."""
    texts: list[str] = []
    off: list[int] = []
    hate: list[int] = []
    with (DATA / "davidson-hate-offensive" / "labeled_data.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            text = _MENTION.sub("@user", row["tweet"]).replace("&amp;", "&")
            texts.append(text)
            cls = int(row["class"])
            off.append(1 if cls in (0, 1) else 0)
            hate.append(1 if cls == 0 else 0)
    return texts, off, hate


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The objects of a JSONL file (UTF-8, one a line, blank lines skipped): the brand splits'
    and the annotation pools' format."""
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    """One JSON object a line (UTF-8, non-ASCII kept as is): the annotation pools' format."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    path.write_text(text, encoding="utf-8")
