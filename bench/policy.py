"""Benchmark: the policy engine's speed and how often the starter policy blocks real tweets.

* Speed: `PolicyEngine.check` on real tweets (TweetEval sentiment test, 12,284 tweets), once
  without and once with the X network limits; the best of five passes over all of them (the
  least disturbed by other load), in checks per second, single thread. Target >= 10,000/s.
* Block rate of the starter policy on 1,000 *ordinary* tweets: the first 1,000 tweets that
  TweetEval's annotators labelled not offensive (offensive test split, then validation).
  Target < 1 %. For context, the same figure on 1,000 tweets of any kind (sentiment test),
  1,000 brand replies from the Customer Support on Twitter sample, and 1,000 tweets labelled
  offensive (where a high rate is the point), with the rules that blocked.

Usage: ``python bench/policy.py [--passes 5]``. Figures are measured and printed, never
asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from groundswell.governance.domain import Severity
from groundswell.governance.engine import PolicyEngine
from groundswell.governance.policy import starter_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def tweeteval(task: str, split: str) -> list[tuple[str, int]]:
    folder = DATA / "tweeteval" / task
    texts = _lines(folder / f"{split}_text.txt")
    labels = [int(x) for x in _lines(folder / f"{split}_labels.txt")]
    return list(zip(texts, labels, strict=True))


def twcs_brand_replies(limit: int) -> list[str]:
    replies: list[str] = []
    with (DATA / "customer-support-twitter" / "twcs_head5000.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row.get("inbound") == "False" and row.get("text"):
                replies.append(row["text"])
                if len(replies) == limit:
                    break
    return replies


def full_length(tweets: list[str]) -> list[str]:
    """Real tweets joined until 250-280 characters: the longest texts X accepts."""
    texts: list[str] = []
    current = ""
    for tweet in tweets:
        current = f"{current} {tweet}" if current else tweet
        if len(current) >= 250:
            texts.append(current[:280])
            current = ""
    return texts


def speed(
    engine: PolicyEngine, texts: list[str], network: str | None, passes: int
) -> tuple[float, float]:
    """(checks per wall second, checks per CPU second), best pass of each. The CPU figure is
    the one that other load on a shared machine disturbs least."""
    best_wall = best_cpu = float("inf")
    for _ in range(passes):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            engine.check(text, network=network)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return len(texts) / best_wall, len(texts) / max(best_cpu, 1e-9)


def block_rate(engine: PolicyEngine, texts: Iterable[str]) -> tuple[int, int, Counter[str]]:
    blocked = 0
    total = 0
    rules: Counter[str] = Counter()
    for text in texts:
        total += 1
        blocking = {f.rule for f in engine.check(text) if f.severity is Severity.BLOCK}
        if blocking:
            blocked += 1
            rules.update(blocking)
    return blocked, total, rules


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args(argv)

    engine = PolicyEngine(starter_policy())
    sentiment = [text for text, _ in tweeteval("sentiment", "test")]
    mean_len = sum(map(len, sentiment)) / len(sentiment)
    print(f"python {platform.python_version()} on {platform.machine()}, single thread")
    print(
        f"speed corpus: {len(sentiment)} tweets (TweetEval sentiment test), "
        f"mean {mean_len:.0f} characters"
    )
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    long_texts = full_length(sentiment)
    runs = [
        ("tweets, no network", sentiment, None),
        ("tweets, --network x", sentiment, "x"),
        (f"{len(long_texts)} texts of 250-280 characters, --network x", long_texts, "x"),
    ]
    for label, texts, network in runs:
        wall, cpu = speed(engine, texts, network, args.passes)
        rates = f"{cpu:,.0f} per CPU second, {wall:,.0f} per wall second"
        print(f"checks/s ({label}): {rates} (target >= 10,000)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    offensive = tweeteval("offensive", "test") + tweeteval("offensive", "val")
    ordinary = [text for text, label in offensive if label == 0][:1000]
    rude = [text for text, label in offensive if label == 1]
    rude += [text for text, label in tweeteval("offensive", "train") if label == 1]
    samples = [
        ("ordinary tweets (TweetEval offensive=0)", ordinary, "target < 1%"),
        ("tweets of any kind (TweetEval sentiment test)", sentiment[:1000], "context"),
        ("brand replies (Customer Support on Twitter)", twcs_brand_replies(1000), "context"),
        ("offensive tweets (TweetEval offensive=1)", rude[:1000], "context: high is right"),
    ]
    for name, texts, note in samples:
        blocked, total, rules = block_rate(engine, texts)
        top = ", ".join(f"{rule} {n}" for rule, n in rules.most_common(4)) or "-"
        share = 100 * blocked / total
        print(f"blocked {blocked}/{total} = {share:.1f}% of {name} ({note}); by rule: {top}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
