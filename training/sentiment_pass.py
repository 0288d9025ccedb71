"""A hand-labelled sentiment pass over more recent tweets, for the default sentiment head.

The sentiment heads train on SemEval's 2013-2016 tweets; TweetEval's sentiment test is the
SemEval-2017 test (tweets of late 2016 and early 2017), and the default head loses most of
its val figure there (the topics and wording of a later year). shared/data holds other, more
recent tweets with no sentiment label: the training splits of TweetEval emotion (SemEval 2018,
tweets of 2016-2017), irony (SemEval 2018), hate (HatEval 2019) and offensive (OLID 2019).
This script draws a fixed sample of them (``--pool``); the labels are written by hand under
``docs/annotation-guide.md`` (section "Sentiment pass"), never by a model or a word rule.

The pool never holds a text (normalized, see ``distill.normalize``) of any sentiment training
set, of TweetEval sentiment val or test, of the SemEval-2017 test file, of the brand splits,
of any TweetEval task's val or test split, or of the annotation pools already labelled.

The first pass is ``sentiment_a.tsv`` (``id<TAB>negative|neutral|positive``, one line per pool
tweet); a second annotator labelled every tenth tweet (line index % 10 == 5) blind,
``sentiment_b.tsv``.

    python training/sentiment_pass.py          # Cohen's kappa of the two passes
    python training/sentiment_pass.py --pool   # writes data/annotation/sentiment_pool.jsonl
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import datasets
import distill
import rare_pass
from weak_labels import annotation_pool_keys, norm

from groundswell.triage.domain import SENTIMENT_LABELS

ROOT = Path(__file__).resolve().parents[1]
ANNOTATION = ROOT / "training" / "data" / "annotation"
POOL = ANNOTATION / "sentiment_pool.jsonl"
LABELS = SENTIMENT_LABELS
"""Label names, in the order of the sentiment head's classes."""
SAMPLE = {"emotion": 3200, "irony": 1600, "hate": 1600, "offensive": 1600}
"""Tweets drawn from each TweetEval task's train split: all of emotion (the tweets nearest in
time to the 2017 test), an equal share of the others."""


def _pick_key(task: str, text: str) -> str:
    # A fixed pseudo-random order that does not depend on the file's order or on Python's hash.
    return hashlib.sha256(f"{task}\n{text}".encode()).hexdigest()


def candidates() -> list[dict[str, str]]:
    """``{"id": "<task>:<line index in train_text.txt>", "text"}``, ``SAMPLE[task]`` per task
    (or all it has), deduplicated; the pool's order interleaves the tasks by the pick key."""
    banned = distill.excluded_keys()  # sentiment training and every evaluation text
    for task in distill.TASKS:
        banned |= {distill.normalize(t) for t in datasets.tweeteval(task, "val")[0]}
    labelled = annotation_pool_keys() | {norm(r["text"]) for r in rare_pass.pool()}
    seen: set[str] = set()
    out: list[tuple[str, dict[str, str]]] = []
    for task, size in SAMPLE.items():
        texts = datasets.tweeteval(task, "train")[0]
        order = sorted(range(len(texts)), key=lambda i: _pick_key(task, texts[i]))
        kept = 0
        for i in order:
            if kept == size:
                break
            key = distill.normalize(texts[i])
            if not key or key in banned or key in seen or norm(texts[i]) in labelled:
                continue
            seen.add(key)
            out.append((_pick_key(task, texts[i]), {"id": f"{task}:{i}", "text": texts[i]}))
            kept += 1
    return [row for _, row in sorted(out, key=lambda x: x[0])]


def pool() -> list[dict[str, str]]:
    return datasets.read_jsonl(POOL)


def read(path: Path) -> dict[str, int]:
    """``id -> class index`` from one pass."""
    out: dict[str, int] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 2 or fields[1] not in LABELS:
            raise ValueError(f"{path.name}:{n}: expected id<TAB>{'|'.join(LABELS)}, got {line!r}")
        out[fields[0]] = LABELS.index(fields[1])
    return out


def labelled(sources: tuple[str, ...] = tuple(SAMPLE)) -> tuple[list[str], list[int]]:
    """``(texts, labels)`` of the pool tweets drawn from ``sources`` (TweetEval task names),
    from the first pass."""
    labels = read(ANNOTATION / "sentiment_a.tsv")
    rows = pool()
    if [r["id"] for r in rows] != list(labels):
        raise ValueError("sentiment_a.tsv must label every tweet of sentiment_pool.jsonl, in order")
    rows = [r for r in rows if r["id"].split(":")[0] in sources]
    return [r["text"] for r in rows], [labels[r["id"]] for r in rows]


def passes() -> tuple[list[int], list[int]]:
    """First and second labels of the tweets both passes annotated."""
    first, second = read(ANNOTATION / "sentiment_a.tsv"), read(ANNOTATION / "sentiment_b.tsv")
    common = [i for i in first if i in second]
    return [first[i] for i in common], [second[i] for i in common]


def main() -> None:
    if "--pool" in sys.argv[1:]:
        rows = candidates()
        datasets.write_jsonl(POOL, rows)
        print(f"wrote {len(rows)} tweets to {POOL}")
        return
    from agreement import kappa

    a, b = passes()
    print(
        f"sentiment: tweets annotated twice {len(a)}; "
        f"agreement {sum(x == y for x, y in zip(a, b, strict=True)) / max(len(a), 1):.3f}; "
        f"kappa {kappa([LABELS[x] for x in a], [LABELS[x] for x in b]):.3f}"
    )


if __name__ == "__main__":
    main()
