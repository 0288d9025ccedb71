"""Full-text search benchmark: `listening.search.search_mentions` over 1,000,000 stored mentions.

    .venv/bin/python bench/search.py [--mentions 1000000] [--queries 200] [--seed 7]
        [--database-url postgresql+psycopg://.../bench_db] [--skip-sqlite]

Mentions are bulk-loaded, not run through the pipeline (that is bench/pipeline.py): texts of
6-30 words drawn with a Zipf law from the vocabulary of the team's real tweets (shared data),
spread over 90 days, in one organization. SQLite: rows inserted with the full-text trigger
off, then the FTS5 index rebuilt in one pass; PostgreSQL: COPY, then the GIN index built.
Queries (fixed seed) are of four kinds: one very common word, one mid-frequency word, one rare
word, and two mid-frequency words; each runs the real search (newest first, 20 results)
through a SQLAlchemy session. Prints load time, then p50/p95/p99 latency per kind and overall.

--database-url WIPES that database's schema `public` (it refuses a database whose name does
not contain "bench").
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, make_url, text

from groundswell.identity import service
from groundswell.kernel import migrate
from groundswell.kernel.db import Database
from groundswell.listening import bulk
from groundswell.listening.search import search_mentions

DATA = Path("/work/shared/data")
_WORD = re.compile(r"[a-z]{2,}")
COLUMNS = (
    "organization_id, source, external_id, text, created_at, imported_at, links, metrics, labels"
)


def vocabulary() -> list[str]:
    """Words of the shared tweets, commonest first."""
    counts: Counter[str] = Counter()
    for path in sorted((DATA / "tweeteval").glob("*/*_text.txt")):
        counts.update(_WORD.findall(path.read_text(encoding="utf-8").lower()))
    return [w for w, _ in counts.most_common(30_000)]


def texts(vocab: list[str], n: int, seed: int) -> Iterator[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(6, 31, size=n)
    ranks = rng.zipf(1.15, size=int(lengths.sum())) - 1
    ranks = np.minimum(ranks, len(vocab) - 1)  # the long tail folds onto the rarest word
    words = np.array(vocab, dtype=object)[ranks]
    start = 0
    for length in lengths:
        yield " ".join(words[start : start + length])
        start += int(length)


def rows(
    org_id: str, vocab: list[str], n: int, seed: int, *, as_text: bool
) -> Iterator[tuple[object, ...]]:
    """Mention rows; instants as SQLAlchemy stores them on SQLite (UTC text) when `as_text`."""
    start = datetime(2026, 8, 1, tzinfo=UTC)
    step = timedelta(days=90) / n
    for i, body in enumerate(texts(vocab, n, seed)):
        at = start + step * i
        when: object = at.strftime("%Y-%m-%d %H:%M:%S.%f") if as_text else at
        yield (org_id, "bench", f"m{i}", body, when, when, "[]", "{}", "[]")


def new_org(db: Database) -> str:
    with db.unit_of_work() as session:
        org, _ = service.create_organization(
            session, "Search", owner_email="search@example.org", owner_password="bench-pw-8s7d6f5g"
        )
        return org.id


def load_sqlite(db: Database, vocab: list[str], n: int, seed: int) -> str:
    org_id = new_org(db)
    raw = db.write_engine.raw_connection()
    try:
        driver: Any = raw.driver_connection  # the sqlite3 connection itself
        cur = driver.cursor()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute("DROP TRIGGER mention_fts_insert")  # rebuilt in one pass below
        cur.executemany(
            f"INSERT INTO mention ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows(org_id, vocab, n, seed, as_text=True),
        )
        cur.execute("INSERT INTO mention_fts(mention_fts) VALUES ('rebuild')")
        cur.execute(bulk.FTS_INSERT_TRIGGER)
        cur.execute("COMMIT")
        cur.execute("ANALYZE")
    finally:
        raw.close()
    return org_id


def load_postgres(db: Database, vocab: list[str], n: int, seed: int) -> str:
    org_id = new_org(db)
    raw = db.write_engine.raw_connection()
    try:
        driver: Any = raw.driver_connection  # psycopg 3 (COPY)
        cur = driver.cursor()
        cur.execute("DROP INDEX ix_mention_search")
        with cur.copy(f"COPY mention ({COLUMNS}) FROM STDIN") as copy:
            for row in rows(org_id, vocab, n, seed, as_text=False):
                copy.write_row(row)
        cur.execute("SET maintenance_work_mem = '512MB'")
        cur.execute(
            "CREATE INDEX ix_mention_search ON mention USING gin (to_tsvector('simple', text))"
        )
        raw.commit()
        cur.execute("ANALYZE mention")
        raw.commit()
    finally:
        raw.close()
    return org_id


def make_queries(vocab: list[str], n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    kinds: list[tuple[str, Callable[[], str]]] = [
        ("common word", lambda: rng.choice(vocab[5:50])),
        ("mid word", lambda: rng.choice(vocab[200:2000])),
        ("rare word", lambda: rng.choice(vocab[10_000:20_000])),
        ("two mid words", lambda: f"{rng.choice(vocab[100:1000])} {rng.choice(vocab[100:1000])}"),
    ]
    return [(kinds[i % 4][0], kinds[i % 4][1]()) for i in range(n)]


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def measure(label: str, db: Database, org_id: str, queries: list[tuple[str, str]]) -> None:
    by_kind: dict[str, list[float]] = {}
    hits = 0
    with db.reader() as session:
        search_mentions(session, org_id, "warm")  # first statement: connection set-up
        for kind, query in queries:
            start = time.perf_counter()
            found = search_mentions(session, org_id, query, limit=20)
            by_kind.setdefault(kind, []).append(time.perf_counter() - start)
            hits += len(found)
    every = [t for ts in by_kind.values() for t in ts]
    print(f"== {label}: {len(queries)} searches (20 newest results each; {hits} results) ==")
    for kind, times in by_kind.items():
        print(
            f"  {kind:<14} p50 {pct(times, 50):7.1f} ms  p95 {pct(times, 95):7.1f} ms  "
            f"p99 {pct(times, 99):7.1f} ms"
        )
    print(
        f"  {'all':<14} p50 {pct(every, 50):7.1f} ms  p95 {pct(every, 95):7.1f} ms  "
        f"p99 {pct(every, 99):7.1f} ms  (target p95 <= 200 ms)"
    )


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", help="also run on this PostgreSQL database (wiped)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args(argv)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    vocab = vocabulary()
    queries = make_queries(vocab, args.queries, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        targets: list[tuple[str, str]] = []
        if not args.skip_sqlite:
            targets.append(("SQLite", f"sqlite:///{Path(tmp) / 'search.db'}"))
        if args.database_url:
            targets.append(("PostgreSQL", args.database_url))
        for label, url in targets:
            if label == "SQLite":
                migrate.upgrade(url)
                db = Database(url)
            else:
                db = fresh_postgres(url)
            start = time.perf_counter()
            loader = load_sqlite if label == "SQLite" else load_postgres
            org_id = loader(db, vocab, args.mentions, args.seed)
            print(
                f"{label}: loaded {args.mentions:,} mentions in {time.perf_counter() - start:.1f} s"
            )
            measure(label, db, org_id, queries)
            db.dispose()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
