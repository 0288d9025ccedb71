"""Preparing ingest batches in worker processes (`import_posts(workers=N)`).

The stages that need no database (parse, normalize, triage, match, near-duplicate band keys:
`pipeline.prepare_batch`) run in N forked processes while this one writes the batches they
finished, in order, one transaction each (`pipeline.store_prepared`, which drops posts stored
meanwhile as duplicates). At most N + 1 batches are in flight: reading never runs far ahead of
storing (backpressure), and memory stays bounded.

Workers are forked so that they inherit the compiled queries, the connector and any triage
model already loaded; each forgets the parent's database connections at start (SQLAlchemy's
`dispose(close=False)`), so it never touches them.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import datetime
from types import TracebackType

from groundswell.connectors.contract import RawRecord
from groundswell.kernel.db import Database
from groundswell.listening import pipeline
from groundswell.listening.pipeline import BatchContext, Prepared

_context: BatchContext | None = None
_databases: list[Database] = []


def can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _forget_parent_connections() -> None:
    for db in _databases:
        db.write_engine.dispose(close=False)
        if db.read_engine is not db.write_engine:
            db.read_engine.dispose(close=False)


def _prepare(records: list[tuple[bytes, int, str]], now: datetime) -> Prepared:
    if _context is None:  # the pool is always forked after `PreparePool` set it
        raise RuntimeError("worker started without a batch context")
    return pipeline.prepare_batch(_context, [RawRecord(*r) for r in records], now)


class PreparePool:
    """`workers` forked processes preparing batches of one import (one context)."""

    def __init__(self, ctx: BatchContext, workers: int, db: Database) -> None:
        global _context
        if not can_fork():
            raise RuntimeError("worker processes need the fork start method")
        _context = ctx
        _databases[:] = [db]
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_forget_parent_connections,
        )

    def submit(self, records: Sequence[RawRecord], now: datetime) -> Future[Prepared]:
        # Plain tuples cross the process boundary: pickle handles them in C, while a frozen
        # dataclass goes through Python-level state methods (see `Prepared.__reduce__`).
        return self.pool.submit(_prepare, [(r.payload, r.position, r.format) for r in records], now)

    def __enter__(self) -> PreparePool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _context
        self.pool.shutdown(wait=True, cancel_futures=True)
        _context = None
        _databases.clear()
