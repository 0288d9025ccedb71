"""Build the pool of brand-directed posts to annotate (reproducible, no randomness beyond a fixed seed).

Pool = every inbound (customer -> brand) tweet of the TWCS head sample, then posts from the
SemEval-2017 training set (never its test set, which is TweetEval's sentiment test) that carry
cues for labels rare in customer-support traffic (legal threats, safety, suggestions, purchase
intent, churn), up to 3,000 posts in all.

    python training/build_pool.py ../shared/data training/data/annotation/pool.jsonl
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
from pathlib import Path

import datasets

RARE_CUES = re.compile(
    r"\b(sue|suing|lawsuit|lawyer|attorney|class action|regulator|fcc|ftc|bbb|"
    r"dangerous|injur|fire|exploded|unsafe|recall|"
    r"you should|please add|wish (you|they|it)|feature request|would be nice|"
    r"want to buy|going to buy|gonna buy|pre-?order|where can i buy|thinking of getting|"
    r"switch(ing)? to|cancel(l?ing)? my|done with|never (again|buying))\b",
    re.IGNORECASE,
)
TARGET = 3000


def main(data_dir: Path, out: Path) -> None:
    pool: list[dict[str, str]] = []
    with (data_dir / "customer-support-twitter" / "twcs_head5000.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["inbound"] == "True" and row["text"].strip():
                pool.append(
                    {"id": f"twcs:{row['tweet_id']}", "source": "twcs", "text": row["text"]}
                )
    extra = [
        {"id": f"semeval:{tweet_id}", "source": "semeval2017-train", "text": text}
        for tweet_id, _, text, _ in datasets.semeval_rows(data_dir)
        if RARE_CUES.search(text)
    ]
    random.Random(20261123).shuffle(extra)
    pool.extend(extra[: max(0, TARGET - len(pool))])
    with out.open("w") as fh:
        for item in pool:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")
    print(f"{len(pool)} posts written to {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
