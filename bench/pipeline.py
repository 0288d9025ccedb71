"""Ingest pipeline benchmark: N posts from the fake connector through the full pipeline on
SQLite (then on PostgreSQL with --database-url), against the floor (bare parse + insert of the
same posts), in one run.

    .venv/bin/python bench/pipeline.py [--posts 20000|200000] [--queries 50] [--batch 1000]
        [--seed 7] [--workers N] [--database-url postgresql+psycopg://.../bench_db]

--database-url WIPES that database's schema `public` (it refuses a database whose name does
not contain "bench").

Posts come from the `fake` connector's bundled `demo` scenario (an airline heard in five
languages: personas, intents, rates by hour of week), generated from Monday 2026-11-02 00:00
UTC on with a fixed seed, so every run reads the same posts. They are written as a files-format
JSONL, then imported through `listening.ingest.import_posts` (parse -> normalize -> dedupe ->
triage -> match 50 saved queries -> store + full-text index + near-duplicate clusters ->
MentionMatched events, with the delivery rows of the handlers a real process loads) into a
fresh migrated database, with --workers processes preparing batches (parse to match; default:
one per CPU) while the main process stores them in order. Prints posts/s end to end, p50/p99
ingest-to-searchable latency (from the moment a record is read to the commit of its batch),
time per stage in the main process, CPU time per post (this process and the workers: on a
shared machine wall-clock figures depend on the load, CPU time much less), peak RSS, and the
floor with the ratio: bare json.loads + insert of the same posts, same batches, same table,
through the same bulk insert (`listening.bulk`) as the pipeline.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, func, make_url, select, text
from sqlalchemy.orm import Session

from groundswell.connectors.contract import ConnectorPost, RawRecord
from groundswell.connectors.fake import generate
from groundswell.connectors.files.connector import FilesConnector
from groundswell.identity import service
from groundswell.kernel import audit, migrate
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.handlers_index import import_all_handlers
from groundswell.listening import bulk, ingest, pipeline
from groundswell.listening.tables import Mention, MentionMatch
from groundswell.listening.text import words

START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday


def write_posts(path: Path, n: int, seed: int) -> tuple[int, str]:
    """`n` posts of the fake connector's demo scenario from `START` on, as files-format JSONL.
    Returns how many distinct texts they hold and the simulated instant of the last one."""
    texts: set[str] = set()
    last = START.isoformat()
    posts = generate("demo", START, START + timedelta(days=3650), seed=seed)
    with path.open("w", encoding="utf-8") as f:
        for post in itertools.islice(posts, n):
            texts.add(post["text"])
            last = post["created_at"]
            f.write(json.dumps(post, ensure_ascii=False) + "\n")
    return len(texts), last


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
    """Wraps the pipeline's stage functions (and the commit and audit of each batch) to add
    up the time spent in each."""

    STAGES = (
        "parse_stage",
        "normalize_stage",
        "dedupe_stage",
        "triage_stage",
        "match_stage",
        "store_stage",
        "cluster_stage",
        "emit_all",
        "quarantine_stage",
    )
    NESTED = frozenset({"cluster_stage", "emit_all"})  # parts of store_stage

    def __init__(self) -> None:
        self.targets: dict[str, tuple[Any, str]] = {name: (pipeline, name) for name in self.STAGES}
        self.targets["audit"] = (audit, "record")
        self.targets["commit"] = (Session, "commit")
        self.seconds: dict[str, float] = dict.fromkeys(self.targets, 0.0)

    def install(self) -> None:
        self.real = {label: getattr(obj, name) for label, (obj, name) in self.targets.items()}
        for label, real in self.real.items():
            obj, name = self.targets[label]
            setattr(obj, name, self._timed(label, real))

    def uninstall(self) -> None:
        for label, real in self.real.items():
            obj, name = self.targets[label]
            setattr(obj, name, real)

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return wrapper


def fresh_sqlite(directory: Path, name: str) -> Database:
    url = f"sqlite:///{directory / name}"
    migrate.upgrade(url)
    return Database(url)


def fresh_postgres(url: str) -> Database:
    name = make_url(url).database or ""
    if "bench" not in name:
        raise SystemExit(f"refusing to wipe {name!r}: use a database whose name has 'bench'")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(url)
    return Database(url)


class TimedFiles:
    """The files connector, noting when each record was read (for the latency figures)."""

    def __init__(self) -> None:
        self.inner = FilesConnector()
        self.name = self.inner.name
        self.capabilities = self.inner.capabilities
        self.read_at: dict[int, float] = {}

    def records(self, location: str) -> Iterator[RawRecord]:
        for record in self.inner.records(location):
            self.read_at[record.position] = time.perf_counter()
            yield record

    def parse(self, record: RawRecord) -> ConnectorPost:
        return self.inner.parse(record)


def floor(db: Database, path: Path, org_id: str, batch: int) -> float:
    """Bare parse (json.loads) and insert of the same posts, same batches, same table, same
    bulk insert (mention rows and their full-text entries) as the pipeline."""
    now = datetime.now(UTC)
    start = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def flush() -> None:
        with db.unit_of_work() as session:
            ids = bulk.allocate_ids(session, len(rows))
            for id_, row in zip(ids, rows, strict=True):
                row["id"] = id_
            bulk.insert_mentions(session, rows)
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
                    "channel": "public",
                }
            )
            if len(rows) >= batch:
                flush()
    if rows:
        flush()
    return time.perf_counter() - start


def percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


def run(
    label: str,
    make_db: Callable[[str], Database],
    posts_file: Path,
    queries: list[str],
    args: argparse.Namespace,
) -> None:
    db = make_db("pipeline")
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
    timer = StageTimer()
    timer.install()
    connector = TimedFiles()
    latencies: list[float] = []

    def committed(batch: Sequence[RawRecord]) -> None:
        now = time.perf_counter()
        latencies.extend(now - connector.read_at.pop(r.position) for r in batch)

    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_start = time.process_time()
    start = time.perf_counter()
    result = ingest.import_posts(
        db,
        actor,
        connector,
        str(posts_file),
        batch_size=args.batch,
        workers=args.workers,
        progress=committed,
    )
    elapsed = time.perf_counter() - start
    cpu_main = time.process_time() - cpu_start
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the pool has exited
    cpu_workers = (children.ru_utime + children.ru_stime) - (
        children_before.ru_utime + children_before.ru_stime
    )
    timer.uninstall()
    with db.reader() as session:
        matches = session.scalar(select(func.count()).select_from(MentionMatch)) or 0
        clustered = session.scalar(select(func.count()).where(Mention.cluster_id.is_not(None))) or 0

    floor_db = make_db("floor")
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

    rate = result.read / elapsed
    print(f"== {label} ==")
    print(f"saved queries: {len(queries)}; matches stored (and events emitted): {matches}")
    print(f"near-duplicates: {clustered} mentions in clusters")
    print(f"summary: {json.dumps(result.as_dict())}")
    print(
        f"full pipeline: {elapsed:.2f} s, {rate:,.0f} posts/s end to end "
        f"({args.workers} worker processes + this one storing)"
    )
    print(
        f"ingest-to-searchable latency: p50 {percentile(latencies, 50):.2f} s, "
        f"p99 {percentile(latencies, 99):.2f} s"
    )
    print(
        f"CPU time: this process {cpu_main:.2f} s ({1e6 * cpu_main / result.read:.0f} us a post), "
        f"workers {cpu_workers:.2f} s ({1e6 * cpu_workers / result.read:.0f} us a post)"
    )
    where = "this process" if args.workers == 0 else "this process only; workers not shown"
    accounted = sum(v for k, v in timer.seconds.items() if k not in timer.NESTED)
    print(f"time per stage ({where}; wall clock):")
    for name, seconds in timer.seconds.items():
        label = f"  of which {name}" if name in timer.NESTED else name
        print(f"  {label:<26} {seconds:7.2f} s  {100 * seconds / elapsed:5.1f} %")
    other = elapsed - accounted
    print(f"  {'other (read, hand-over, waiting for workers)':<26} {other:7.2f} s")
    floor_rate = args.posts / floor_seconds
    print(
        f"floor (json.loads + insert, same table): {floor_seconds:.2f} s, {floor_rate:,.0f} posts/s"
    )
    print(f"ratio full / floor: {elapsed / floor_seconds:.1f}x the floor's time")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--batch", type=int, default=ingest.BATCH_SIZE)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--database-url", help="also run on this PostgreSQL database (wiped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)

    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    import_all_handlers()  # as every real process does: MentionMatched gets its deliveries
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        posts_file = tmp_path / "posts.jsonl"
        distinct, last = write_posts(posts_file, args.posts, args.seed)
        queries = make_queries(posts_file, args.queries)
        print(
            f"posts: {args.posts} from the fake connector's demo scenario, seed {args.seed} "
            f"({distinct} distinct texts; simulated {START.isoformat()} to {last})"
        )
        # Load the triage models before timing (workers inherit them): a one-off cost.
        start = time.perf_counter()
        from groundswell.triage import triage

        triage(["warm up"])
        print(f"triage model load (before timing): {time.perf_counter() - start:.2f} s")
        if not args.skip_sqlite:
            run(
                "SQLite",
                lambda name: fresh_sqlite(tmp_path, f"{name}.db"),
                posts_file,
                queries,
                args,
            )
        if args.database_url:
            url: str = args.database_url
            run("PostgreSQL", lambda name: fresh_postgres(url), posts_file, queries, args)
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"peak RSS: this process {rss_mib:.0f} MiB; largest worker {child_mib:.0f} MiB "
        f"(workers share the parent's pages until written)"
    )
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
