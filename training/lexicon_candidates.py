"""Candidate tokens for the project's valence lexicon, chosen by frequency only.

Counts each token once per post (``groundswell.triage.features.tokenize``) over the shared
tweet texts: SemEval 2013-2016 derived train, TweetEval emotion/hate/irony/offensive train
texts and the brand annotation pool. No label is read. Writes
``training/data/lexicon/candidates.tsv`` (rank, token, posts); see docs/lexicon-guide.md.

    python training/lexicon_candidates.py
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402

from groundswell.triage.features import _NEGATORS, _QUIET, tokenize  # noqa: E402

N_WORDS = 6000
N_SYMBOLS = 300
OUT = ROOT / "training" / "data" / "lexicon" / "candidates.tsv"
_WORD = re.compile(r"[a-z][a-z0-9_]*")
_SYMBOL = re.compile(r"[\W_]+")
_PUNCT = set(".,;:-'\"()[]/&*…!?#@$%+=_~`^|\\<>{}“”‘’—–")


def texts() -> list[str]:
    out, _ = datasets.semeval_train()
    for task in ("emotion", "hate", "irony", "offensive"):
        x, _ = datasets.tweeteval(task, "train")
        out += x
    pool = ROOT / "training" / "data" / "annotation" / "pool.jsonl"
    out += [json.loads(line)["text"] for line in pool.read_text(encoding="utf-8").splitlines()]
    return out


def main() -> None:
    counts: Counter[str] = Counter()
    for text in texts():
        counts.update(set(tokenize(text)))
    words: list[tuple[str, int]] = []
    symbols: list[tuple[str, int]] = []
    for tok, n in counts.most_common():
        if tok in _QUIET or tok in _NEGATORS or tok[0] in "@#" or tok == "httpurl":
            continue
        if _WORD.fullmatch(tok) and len(tok) >= 2:
            words.append((tok, n))
        elif _SYMBOL.fullmatch(tok) and tok not in _PUNCT and tok.isprintable():
            symbols.append((tok, n))
    rows = ["rank\ttoken\tposts"]
    rows += [f"w{i}\t{t}\t{n}" for i, (t, n) in enumerate(words[:N_WORDS], 1)]
    rows += [f"s{i}\t{t}\t{n}" for i, (t, n) in enumerate(symbols[:N_SYMBOLS], 1)]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"wrote {OUT}: {min(len(words), N_WORDS)} words, {min(len(symbols), N_SYMBOLS)} symbols")


if __name__ == "__main__":
    main()
