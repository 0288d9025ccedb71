"""A hand-labelled pass over other tweets for the two rarest intents: safety_risk, legal_threat.

The brand train and dev posts hold 19 safety reports and 8 legal threats, too few for a
head to learn the cues from. This script picks, from the SemEval 2013-2016 training tweets
(never a test set, never a post of the brand annotation pool), every tweet that a broad,
recall-minded pattern matches: words of harm, danger, illness, violence (``SAFETY``) or of
law, courts, regulators, fraud (``LEGAL``). The pattern only chooses what a person reads; the
labels are written by hand under ``docs/annotation-guide.md`` (section "Safety and legal
pass"). Most matches are figurative ("on fire", "killing it") or news: the negatives a head
needs to see.

The first pass is ``rare_a.tsv`` (``id<TAB>safety<TAB>legal``, one line per pool tweet); a
second annotator labelled every tenth tweet (line index % 10 == 5) blind, ``rare_b.tsv``.
train.py adds the labelled tweets to the training rows of the heads in ``USED`` (``used``).

    python training/rare_pass.py          # Cohen's kappa of the two passes, per label
    python training/rare_pass.py --pool   # writes training/data/annotation/rare_pool.jsonl
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import datasets
from weak_labels import annotation_pool_keys, norm

SAFETY = (
    r"\b(fire|fires|burn\w*|smoke|explod\w*|explosion|blew up|injur\w*|hurt|hospital\w*|er|"
    r"emergency|sick|ill|vomit\w*|throw(ing)? up|poison\w*|die|died|dying|dead|death|kill\w*|"
    r"glass|blood\w*|bleed\w*|crash\w*|accident|brakes?|airbags?|danger\w*|unsafe|safety|"
    r"hazard\w*|recall\w*|allerg\w*|chok\w*|shock\w*|electrocut\w*|melt\w*|leak\w*|gas|"
    r"carbon monoxide|mold|mould|cockroach\w*|roach\w*|rats?|mice|bugs?|worms?|threat\w*|"
    r"bomb\w*|shoot\w*|gun|guns|knife|stab\w*|assault\w*|attack\w*|suicid\w*|self.?harm|"
    r"overdose|seizure|broke my|broken (arm|leg|bone|tooth|teeth)|scald\w*|spark\w*|"
    r"overheat\w*|raw chicken|undercooked|salmonella|e\.? ?coli|listeria)\b"
)
LEGAL = (
    r"\b(sue|sued|suing|lawsuit\w*|law ?suit|lawyers?|attorney\w*|court|legal\w*|illegal\w*|"
    r"law|laws|rights|regulator\w*|fcc|ftc|bbb|better business bureau|cfpb|ombudsman|"
    r"trading standards|consumer protection|report(ing|ed)? (you|this|them)|class action|"
    r"small claims|contract|breach|fraud\w*|scam\w*|police|authorities)\b"
)
ROOT = Path(__file__).resolve().parents[1]
ANNOTATION = ROOT / "training" / "data" / "annotation"
POOL = ANNOTATION / "rare_pool.jsonl"
INTENTS = ("safety_risk", "legal_threat")
"""The label columns of ``rare_a.tsv`` / ``rare_b.tsv``, in order."""
USED = ("legal_threat",)
"""The intents whose heads train on the pass (train.py, embeddings_intents.py). Not safety:
on the cross-validation of ``weak_labels.py --cv`` it moved little (average precision 0.113
-> 0.117 over 19 positives), while the probes of training/README.md fell ("my phone exploded
and burned my hand" 0.61 -> 0.30): its 275 safety reports are news of violence and sport,
not customers reporting harm."""


def candidates() -> list[dict[str, str]]:
    """``{"id": "semeval:<tweet id>", "text"}`` of every matching training tweet, in file order,
    each text once, none of the brand annotation pool."""
    pool = annotation_pool_keys()
    rx = re.compile(f"{SAFETY}|{LEGAL}", re.IGNORECASE)
    seen: set[str] = set()
    out: list[dict[str, str]] = []
    for tweet_id, _, text, _ in datasets.semeval_rows():
        key = norm(text)
        if key in seen or key in pool or not rx.search(text):
            continue
        seen.add(key)
        out.append({"id": f"semeval:{tweet_id}", "text": text})
    return out


def read(path: Path) -> dict[str, tuple[int, ...]]:
    """``id -> (safety, legal)`` as 1/0 from one pass."""
    out: dict[str, tuple[int, ...]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split("\t")
        if len(fields) != 1 + len(INTENTS) or any(v not in ("yes", "no") for v in fields[1:]):
            raise ValueError(f"{path.name}:{n}: expected id<TAB>yes|no<TAB>yes|no, got {line!r}")
        out[fields[0]] = tuple(int(v == "yes") for v in fields[1:])
    return out


def pool() -> list[dict[str, str]]:
    return datasets.read_jsonl(POOL)


def used() -> dict[str, tuple[list[str], list[int]]]:
    """`labelled` for the intents in ``USED`` only."""
    return {k: v for k, v in labelled().items() if k in USED}


def labelled() -> dict[str, tuple[list[str], list[int]]]:
    """``intent -> (texts, labels)`` of every pool tweet from the first pass."""
    labels = read(ANNOTATION / "rare_a.tsv")
    rows = pool()
    if [r["id"] for r in rows] != list(labels):
        raise ValueError("rare_a.tsv must label every tweet of rare_pool.jsonl, in its order")
    texts = [r["text"] for r in rows]
    return {intent: (texts, [labels[r["id"]][k] for r in rows]) for k, intent in enumerate(INTENTS)}


def passes() -> dict[str, tuple[list[int], list[int]]]:
    """``intent -> (first, second)`` labels of the tweets both passes annotated."""
    first, second = read(ANNOTATION / "rare_a.tsv"), read(ANNOTATION / "rare_b.tsv")
    common = [i for i in first if i in second]
    return {
        intent: ([first[i][k] for i in common], [second[i][k] for i in common])
        for k, intent in enumerate(INTENTS)
    }


def main() -> None:
    if "--pool" in sys.argv[1:]:
        rows = candidates()
        datasets.write_jsonl(POOL, rows)
        print(f"wrote {len(rows)} candidates to {POOL}")
        return
    from agreement import kappa

    for intent, (a, b) in passes().items():
        k = kappa([str(x) for x in a], [str(x) for x in b])  # 1.0 when both are all "no"
        print(
            f"{intent}: tweets annotated twice {len(a)}; yes: first {sum(a)}, second {sum(b)}; "
            f"kappa {k:.3f}"
        )


if __name__ == "__main__":
    main()
