"""Micro-benchmark of the triage models alone (no I/O, no recognizers, no priority).

Prints posts/s of ``ModelSet.predict`` (with and without cues), of its parts (language id,
featurizer), and of VADER's ``polarity_scores`` on the same posts, single process. Figures
only: nothing here asserts a time.

    python bench/triage_models.py [--n 20000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "training"))

import datasets  # noqa: E402

from groundswell.triage.models import load_model_set  # noqa: E402


def rate(fn: Callable[[Sequence[str]], object], texts: Sequence[str], batch: int) -> float:
    start = time.perf_counter()
    for i in range(0, len(texts), batch):
        fn(texts[i : i + batch])
    return len(texts) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    texts, _ = datasets.semeval_train()
    texts = (texts * (args.n // len(texts) + 1))[: args.n]
    started = time.perf_counter()
    models = load_model_set("default")
    print(f"load: {time.perf_counter() - started:.2f} s")
    models.predict(texts[:100])  # warm-up
    print(f"predict, cues:    {rate(models.predict, texts, args.batch):9.0f} posts/s")
    print(
        f"predict, no cues: "
        f"{rate(lambda t: models.predict(t, explain=False), texts, args.batch):9.0f} posts/s"
    )
    print(f"language id:      {rate(models._language.identify, texts, args.batch):9.0f} posts/s")
    print(f"featurizer:       {rate(models._featurizer.featurize, texts, args.batch):9.0f} posts/s")
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    vader = SentimentIntensityAnalyzer()
    n_vader = min(len(texts), 10000)

    def run_vader(batch: Sequence[str]) -> None:
        for text in batch:
            vader.polarity_scores(text)

    print(f"VADER:            {rate(run_vader, texts[:n_vader], args.batch):9.0f} posts/s")


if __name__ == "__main__":
    main()
