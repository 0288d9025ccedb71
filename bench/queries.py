"""Benchmark: many saved listening queries matched against real tweets.

Posts are the real tweets in the team's shared data (TweetEval, SemEval-2017 task 4A, and the
customer-support-twitter sample with its author ids), prepared the way `listening match`
prepares them. Queries are generated with a fixed seed from the same corpus' vocabulary (a
frequency band that skips the commonest words, as brand, product and risk terms do), its real
hashtags and @-handles, in shapes that use every operator: words, OR-lists with wildcards,
phrases, NEAR/n, NOT, hashtags, mentions and fields.

For 50 and 500 queries it prints posts/s for each prefilter of `groundswell.listening.matcher`
(``aho``, the default; ``words``; ``regex``; ``none`` = evaluate every query on every post),
the queries evaluated exactly per post, and the matches found (identical across prefilters,
checked). Post preparation (folding, building the `Document`) is inside the timed loop. Then
the ``listening match`` CLI end to end on a JSONL file of the same posts (one query; process
start, JSON parsing and validation included). Figures are measured, never asserted.

Usage: ``python bench/queries.py [--posts N] [--baseline-posts N] [--seed S]``
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from groundswell.listening.domain import Document, Query
from groundswell.listening.matcher import PREFILTERS, PrefilterName, QuerySet
from groundswell.listening.query import compile_query
from groundswell.listening.schemas import PostIn

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")
WORD = re.compile(r"[a-z][a-z']{3,}")
TAG = re.compile(r"(?<![\w#@])([#@])(\w{3,})")


def corpus() -> list[dict[str, Any]]:
    """Real tweets as posts of the ``files`` format, duplicates removed, in a fixed order."""
    posts: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(text: str | None, **fields: Any) -> None:
        if text and text.strip() and text not in seen:
            seen.add(text)
            posts.append({"id": f"t{len(posts)}", "text": text, "lang": "en", **fields})

    twcs = DATA / "customer-support-twitter" / "twcs_head5000.csv"
    if twcs.exists():
        with twcs.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                add(row["text"], author=row["author_id"], source="twitter")
    train = DATA / "semeval2017-task4a" / "derived" / "train.tsv"
    if train.exists():
        with train.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                add(row["text"], source="twitter")
    for path in sorted((DATA / "tweeteval").glob("*/*_text.txt")):
        with path.open(encoding="utf-8") as f:
            for line in f:
                add(line.rstrip("\n"), source="twitter")
    return posts


def generate_queries(posts: list[dict[str, Any]], count: int, seed: int) -> list[str]:
    """`count` queries in realistic shapes from the corpus' own words, hashtags and handles."""
    words: Counter[str] = Counter()
    tags: Counter[str] = Counter()
    for p in posts:
        text = p["text"]
        words.update(set(WORD.findall(text.lower())))
        tags.update({s + b.lower() for s, b in TAG.findall(text)})
    ranked = sorted(words, key=lambda w: (-words[w], w))
    band = ranked[150:20_000]  # the commonest words are not what teams listen for
    ranked_tags = sorted(tags, key=lambda t: (-tags[t], t))[:2_000]
    hashtags = [t for t in ranked_tags if t[0] == "#"]
    handles = [t for t in ranked_tags if t[0] == "@"]
    rng = random.Random(seed)

    def w() -> str:
        return rng.choice(band).replace("'", "")

    shapes = [
        lambda: w(),
        lambda: f"{w()} OR {w()} OR {w()}*",
        lambda: f"{w()} ({w()} OR {w()}*)",
        lambda: f'"{w()} {w()}"',
        lambda: f"{w()} NEAR/3 ({w()} OR {w()})",
        lambda: f"({w()} OR {w()}) NOT {w()}",
        lambda: f"{rng.choice(hashtags)} OR {rng.choice(handles)}",
        lambda: f"{w()} lang:en -has:link",
        lambda: f"({w()} OR {w()}) followers:>100",
        lambda: f"{rng.choice(handles)} ({w()}* OR {w()})",
    ]
    return [rng.choice(shapes)() for _ in range(count)]


def measure(
    docs_posts: list[PostIn], queries: list[Query], prefilter: PrefilterName
) -> tuple[float, list[list[int]], float]:
    """posts/s, the queries each post matched, queries evaluated exactly per post."""
    query_set = QuerySet(list(enumerate(queries)), prefilter=prefilter)
    # Queries evaluated exactly: the prefilter's candidates plus those without needles.
    sample = docs_posts[:2_000]
    evaluated = 0
    for post in sample:
        doc = Document.from_post(post)
        if query_set.prefilter is None:
            evaluated += len(query_set.always)
        else:
            evaluated += len(query_set.prefilter.candidates(doc) | set(query_set.always))
    per_post = evaluated / len(sample)
    found: list[list[int]] = []
    start = time.perf_counter()
    for post in docs_posts:
        found.append(query_set.match(Document.from_post(post)))
    elapsed = time.perf_counter() - start
    return len(docs_posts) / elapsed, found, per_post


def cli_run(posts: list[dict[str, Any]], query: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for p in posts:
                f.write(json.dumps(p, ensure_ascii=False) + "\n")
        start = time.perf_counter()
        run = subprocess.run(
            [
                sys.executable,
                "-m",
                "groundswell",
                "listening",
                "match",
                "-q",
                query,
                "--in",
                str(path),
            ],
            capture_output=True,
            check=True,
        )
        elapsed = time.perf_counter() - start
    return len(posts) / elapsed, len(run.stdout.splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=0, help="limit the posts (0: all)")
    parser.add_argument(
        "--baseline-posts",
        type=int,
        default=5_000,
        help="posts for the slow baselines (regex, none), which are rates all the same",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    posts = corpus()
    if args.posts:
        posts = posts[: args.posts]
    if not posts:
        raise SystemExit(f"no tweets found under {DATA}")
    parsed = [PostIn.model_validate(p) for p in posts]
    print(f"posts: {len(posts):,} real tweets from {DATA}")
    for count in (50, 500):
        texts = generate_queries(posts, count, args.seed)
        start = time.perf_counter()
        queries = [compile_query(t) for t in texts]
        compile_s = time.perf_counter() - start
        always = sum(q.needles is None for q in queries)
        print(
            f"\n{count} queries (compiled in {compile_s * 1000:.0f} ms, "
            f"{count / compile_s:,.0f} queries/s; {always} without needles); e.g. {texts[:3]}"
        )
        results: dict[str, list[list[int]]] = {}
        for prefilter in PREFILTERS:
            sample = parsed if prefilter in ("aho", "words") else parsed[: args.baseline_posts]
            rate, found, per_post = measure(sample, queries, prefilter)
            results[prefilter] = found
            print(
                f"  {prefilter:6} {rate:>10,.0f} posts/s  over {len(sample):,} posts   "
                f"{per_post:6.1f} queries evaluated/post   "
                f"{sum(map(len, found)):,} matches"
            )
        common = min(map(len, results.values()))
        same = len({json.dumps(r[:common]) for r in results.values()}) == 1
        print(
            f"  every prefilter matched the same queries on each of the first {common:,} posts "
            f"as exact evaluation of all queries (none): {'yes' if same else 'NO'}"
        )
    rate, matched = cli_run(posts, "(refund* OR cancel*) NOT lang:fr")
    print(
        f"\nlistening match CLI, one query, end to end (process start included): "
        f"{rate:,.0f} posts/s, {matched:,} matched"
    )


if __name__ == "__main__":
    main()
