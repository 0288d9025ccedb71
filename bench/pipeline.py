"""Ingest pipeline benchmark: N real tweets through the full pipeline on SQLite, against the
floor (bare parse + insert of the same posts), in one run.

    .venv/bin/python bench/pipeline.py [--posts 20000|200000] [--queries 50] [--batch 1000]

Posts are real tweet texts from /work/shared/data (customer-support-twitter with its authors
and timestamps, TweetEval, SemEval-2017 4A), distinct texts first; beyond the distinct texts
available, texts repeat under new ids (the run says how many). They are written as a
files-format JSONL, then imported through `listening.ingest.import_posts` (parse -> normalize
-> dedupe -> triage -> match 50 saved queries -> store + FTS5 index -> MentionMatched events)
into a fresh migrated SQLite file. Prints posts/s end to end, time per stage, peak RSS, and
the floor with the ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from groundswell.connectors.files.connector import FilesConnector
from groundswell.identity import service
from groundswell.kernel import migrate
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.db import Database
from groundswell.listening import ingest, pipeline
from groundswell.listening.tables import Mention, MentionMatch
from groundswell.listening.text import words

DATA = Path("/work/shared/data")


def _twcs() -> Iterator[dict[str, Any]]:
    path = DATA / "customer-support-twitter" / "twcs_head5000.csv"
    with path.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if not row.get("created_at") or not row.get("text"):
                continue  # a short row of the sample
            created = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
            yield {
                "text": row["text"],
                "author": row["author_id"],
                "created_at": created.astimezone(UTC).isoformat(),
            }


def _plain_texts() -> Iterator[dict[str, Any]]:
    for path in sorted((DATA / "tweeteval").glob("*/*_text.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            yield {"text": line}
    for path in sorted((DATA / "semeval2017-task4a" / "raw").glob("*.tsv")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 3:
                yield {"text": parts[2]}


def real_posts() -> list[dict[str, Any]]:
    seen: set[str] = set()
    found: list[dict[str, Any]] = []
    for post in [*_twcs(), *_plain_texts()]:
        text = post["text"].strip()
        if text and text not in seen:
            seen.add(text)
            found.append({**post, "text": text})
    return found


def write_posts(path: Path, n: int) -> tuple[int, int]:
    corpus = real_posts()
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            post = {"id": f"b{i}", **corpus[i % len(corpus)]}
            f.write(json.dumps(post, ensure_ascii=False) + "\n")
    return len(corpus), max(0, n - len(corpus))


def make_queries(path: Path, n: int) -> list[str]:
    """n queries of varied shapes over the corpus's frequent words (not tuned to results)."""
    df: Counter[str] = Counter()
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i >= 20_000:
                break
            df.update({w for w in words(json.loads(line)["text"]) if len(w) > 3 and w.isalpha()})
    ranked = sorted(df.items(), key=lambda item: (-item[1], item[0]))  # ties: alphabetical
    common = [w for w, _ in ranked[50:400]]  # skip the very commonest
    shapes: list[Callable[[int], str]] = [
        lambda i: common[i],
        lambda i: f"{common[i]} OR {common[i + 1]}",
        lambda i: f"{common[i]} AND NOT {common[i + 2]}",
        lambda i: f'"{common[i]} {common[i + 3]}" OR {common[i + 4]}',
        lambda i: f"{common[i][:4]}*",
        lambda i: f"({common[i]} OR {common[i + 5]}) AND lang:en",
        lambda i: f"{common[i]} NEAR/3 {common[i + 6]}",
    ]
    return [shapes[k % len(shapes)](k * 5) for k in range(n)]


class StageTimer:
    """Wraps the pipeline's stage functions to add up the time spent in each."""

    STAGES = (
        "parse_stage",
        "normalize_stage",
        "dedupe_stage",
        "triage_stage",
        "match_stage",
        "store_stage",
        "quarantine_stage",
    )

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(self.STAGES, 0.0)

    def install(self) -> None:
        for name in self.STAGES:
            real = getattr(pipeline, name)
            setattr(pipeline, name, self._timed(name, real))

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return wrapper


def fresh_db(directory: Path, name: str) -> Database:
    url = f"sqlite:///{directory / name}"
    migrate.upgrade(url)
    return Database(url)


def floor(db: Database, path: Path, org_id: str, batch: int) -> float:
    """Bare parse (json.loads) and insert of the same posts, same batches, same table."""
    now = datetime.now(UTC)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        with db.unit_of_work() as session:
            session.execute(insert(Mention), rows)
        rows.clear()

    with path.open("rb") as f:
        for line in f:
            post = json.loads(line)
            rows.append(
                {
                    "organization_id": org_id,
                    "source": "floor",
                    "external_id": str(post["id"]),
                    "text": post["text"],
                    "created_at": now,
                    "imported_at": now,
                    "links": [],
                    "metrics": {},
                    "labels": [],
                }
            )
            if len(rows) >= batch:
                flush()
    if rows:
        flush()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--batch", type=int, default=ingest.BATCH_SIZE)
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        posts_file = tmp_path / "posts.jsonl"
        distinct, repeated = write_posts(posts_file, args.posts)
        queries = make_queries(posts_file, args.queries)

        db = fresh_db(tmp_path, "pipeline.db")
        with db.unit_of_work() as session:
            _org, owner = service.create_organization(
                session,
                "Bench",
                owner_email="bench@example.org",
                owner_password="bench-password-7f3k2q9z",
            )
            actor = service.actor_for_user(owner)
            for i, q in enumerate(queries):
                ingest.add_query(
                    session, actor, name=f"q{i}", topic="bench", query=q, clock=SystemClock()
                )
        # Load the triage models before timing: a one-off cost of the process, reported apart.
        start = time.perf_counter()
        from groundswell.triage import triage

        triage(["warm up"])
        warmup = time.perf_counter() - start

        timer = StageTimer()
        timer.install()
        start = time.perf_counter()
        result = ingest.import_posts(
            db, actor, FilesConnector(), str(posts_file), batch_size=args.batch
        )
        elapsed = time.perf_counter() - start
        with db.reader() as session:
            matches = session.scalar(select(func.count()).select_from(MentionMatch)) or 0

        floor_db = fresh_db(tmp_path, "floor.db")
        with floor_db.unit_of_work() as session:
            org, _ = service.create_organization(
                session,
                "Floor",
                owner_email="floor@example.org",
                owner_password="bench-password-7f3k2q9z",
            )
            floor_org = org.id
        floor_seconds = floor(floor_db, posts_file, floor_org, args.batch)
        db.dispose()
        floor_db.dispose()

    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rate = result.read / elapsed
    floor_rate = args.posts / floor_seconds
    print(f"posts: {args.posts} ({distinct} distinct real texts; {repeated} repeats under new ids)")
    print(f"saved queries: {len(queries)}; matches stored (and events emitted): {matches}")
    print(f"summary: {json.dumps(result.as_dict())}")
    print(f"full pipeline: {elapsed:.2f} s, {rate:,.0f} posts/s end to end")
    accounted = sum(timer.seconds.values())
    for name, seconds in timer.seconds.items():
        print(f"  {name:<17} {seconds:7.2f} s  {100 * seconds / elapsed:5.1f} %")
    other = elapsed - accounted
    print(f"  {'other (read, audit, commit)':<17} {other:7.2f} s  {100 * other / elapsed:5.1f} %")
    print(f"triage model load (before timing): {warmup:.2f} s")
    print(
        f"floor (json.loads + insert, same table): {floor_seconds:.2f} s, {floor_rate:,.0f} posts/s"
    )
    print(f"ratio full / floor: {elapsed / floor_seconds:.1f}x the floor's time")
    print(f"peak RSS: {rss_mib:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
