"""Running the configured sources: network reads in threads, storing in one place.

Each active source gets a producer thread. A `PullSource` thread asks `fetch(config, cursor)`
again and again (at once while batches come, after `poll_seconds` when one is empty, after
`wait_seconds` / Retry-After when the network asks); a `StreamSource` thread iterates its
stream. Both put what they read on one **bounded queue**; when it is full the producer blocks
(backpressure: no network read runs ahead of storing by more than `queue_size` batches).

The consumer (`Worker.step`, on the worker's main thread) takes one fetched batch and runs
`apply_batch`: the pipeline over its records, the deletions it announces, and the new cursor
and health of the source, **in one transaction**. The cursor is compared-and-set: a batch read
from a cursor the database no longer holds (another worker went ahead, or an earlier batch
failed) is dropped and the producer starts over from the stored cursor. So a process killed
anywhere resumes from the last stored batch: no gap, and no duplicate (a batch read twice is
stored once anyway, by the exact dedupe on source + external id).

Errors are recorded on the source (`last_error`, `error_count`, `wait_until` with a capped
exponential backoff, or the network's own Retry-After) and never stop the other sources.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select

from groundswell.connectors import registry
from groundswell.connectors.contract import Batch, PullSource, SourceConfig, StreamSource
from groundswell.connectors.http import SourceUnavailable
from groundswell.governance.vault import Vault
from groundswell.kernel import jobs
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher
from groundswell.listening import pipeline, sources
from groundswell.listening.matcher import QuerySet
from groundswell.listening.pipeline import (
    BatchContext,
    BatchResult,
    SavedQuery,
    TriageFn,
    default_triage,
)
from groundswell.listening.tables import ListeningSource

log = logging.getLogger(__name__)

Resolve = Callable[[str], Any]  # connector name -> connector instance
MAX_ERROR_CHARS = 500
MAX_BACKOFF_SECONDS = 900.0


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    # Fetched batches waiting to be stored (backpressure beyond). When sources read faster than
    # storing, a post waits for every batch ahead of it: (queue_size + 1) x storing time.
    queue_size: int = 2
    poll_seconds: float = 60.0  # a pull source that had nothing is asked again after this
    refresh_seconds: float = 10.0  # how often active sources and saved queries are re-read
    housekeeping_seconds: float = 5.0  # outbox retries and scheduled jobs
    max_backoff_seconds: float = MAX_BACKOFF_SECONDS  # cap of the wait after errors in a row
    housekeeping: bool = True  # run the outbox dispatcher and kernel.jobs.run_due too


@dataclass(frozen=True, slots=True)
class Fetched:
    """One batch read from a source, with the cursor it was read after."""

    source_id: str
    generation: int
    cursor_before: str | None
    batch: Batch


def _registered(name: str) -> Any:
    return registry.get(name)  # looked up at each call: tests replace the registry


class StaleCursor(Exception):
    """The source's stored cursor is not the one the batch was read after."""


def _redact(message: str, config: SourceConfig) -> str:
    for value in config.secrets.values():
        if value:
            message = message.replace(value, "***")
    return message[:MAX_ERROR_CHARS]


def backoff(error_count: int, cap: float) -> float:
    """Seconds to wait after `error_count` errors in a row: 2, 4, 8 ... capped."""
    return float(min(cap, 2.0 ** max(1, min(error_count, 20))))


def record_error(
    db: Database,
    source_id: str,
    message: str,
    *,
    clock: Clock,
    retry_after: float | None = None,
    max_backoff: float = MAX_BACKOFF_SECONDS,
) -> datetime | None:
    """Note a failed read on the source's health; returns until when it waits."""
    with db.unit_of_work() as session:
        row = session.get(ListeningSource, source_id)
        if row is None:
            return None
        now = clock.now()
        row.error_count += 1
        row.last_error = message[:MAX_ERROR_CHARS]
        row.last_fetch_at = now
        wait = retry_after if retry_after is not None else backoff(row.error_count, max_backoff)
        row.wait_until = now + timedelta(seconds=wait)
        return row.wait_until


def apply_batch(
    db: Database,
    fetched: Fetched,
    *,
    connector: Any,
    queries: QuerySet[SavedQuery],
    clock: Clock,
    triage: TriageFn,
) -> BatchResult:
    """Store one fetched batch: its records through the pipeline, its deletions, the source's
    new cursor and health, in one transaction. Raises `StaleCursor` (nothing written) when the
    source no longer holds `fetched.cursor_before`, or is gone or paused.

    The stages that need no lock (parse to match, posts stored already dropped first) run
    before the write transaction opens, so on SQLite the one write lock is held only while
    storing; posts stored meanwhile are then dropped as duplicates."""
    batch = fetched.batch

    def stale(row: ListeningSource | None) -> bool:
        return row is None or row.status != sources.ACTIVE or row.cursor != fetched.cursor_before

    with db.reader() as session:
        found = session.get(ListeningSource, fetched.source_id)
        if found is None or stale(found):
            raise StaleCursor(fetched.source_id)
        ctx = BatchContext(
            organization_id=found.organization_id,
            source_name=found.name,
            connector=connector,
            location=f"source:{found.name}",
            queries=queries,
            clock=clock,
            triage=triage,
        )

        def known(parsed: Sequence[pipeline.Parsed]) -> tuple[list[pipeline.Parsed], int]:
            return pipeline.dedupe_stage(session, ctx.organization_id, ctx.source_name, parsed)

        prepared = pipeline.prepare_batch(ctx, batch.records, clock.now(), known)
    with db.unit_of_work() as session:
        row = session.execute(
            select(ListeningSource).where(ListeningSource.id == fetched.source_id).with_for_update()
        ).scalar_one_or_none()
        if row is None or stale(row):
            raise StaleCursor(fetched.source_id)
        result = pipeline.store_prepared(session, ctx, prepared)
        if batch.deleted:
            pipeline.delete_mentions(session, row.organization_id, row.name, batch.deleted)
        now = clock.now()
        if batch.cursor is not None:
            row.cursor = batch.cursor
        row.last_fetch_at = now
        row.last_error = None
        row.error_count = 0
        row.wait_until = now + timedelta(seconds=batch.wait_seconds) if batch.wait_seconds else None
        row.stored_count += result.stored
        if result.newest is not None:
            row.lag_seconds = max(0.0, (now - result.newest).total_seconds())
    return result


@dataclass
class _Producer:
    source_id: str
    organization_id: str
    connector: Any
    config: SourceConfig
    stop: threading.Event = field(default_factory=threading.Event)
    generation: int = 0
    thread: threading.Thread | None = None


class Worker:
    """Runs every organization's active sources (see the module docstring). `run(stop)` until
    `stop` is set; tests drive `refresh()` and `step()` themselves."""

    def __init__(
        self,
        db: Database,
        vault: Vault,
        *,
        clock: Clock | None = None,
        config: RunnerConfig = RunnerConfig(),
        resolve: Resolve | None = None,
        triage: TriageFn | None = None,
        client_factory: Callable[[], httpx.Client] | None = None,
        sleep: Callable[[threading.Event, float], bool] | None = None,
    ) -> None:
        self.db = db
        self.vault = vault
        self.clock = clock or SystemClock()
        self.config = config
        self.resolve = resolve or _registered
        self.triage = triage or default_triage
        self.client_factory = client_factory or (lambda: httpx.Client(timeout=30.0))
        self.wait = sleep or (lambda event, seconds: event.wait(seconds))
        self.queue: queue.Queue[Fetched] = queue.Queue(maxsize=config.queue_size)
        self.producers: dict[str, _Producer] = {}
        self.queries: dict[str, QuerySet[SavedQuery]] = {}
        self.dispatcher = Dispatcher(db, clock=self.clock)
        self.stored = 0

    # --- the producers ----------------------------------------------------------------------

    def refresh(self) -> None:
        """Start a producer for each newly active source, stop those of paused or removed
        ones, and re-read every organization's saved queries."""
        with self.db.reader() as session:
            rows = list(
                session.scalars(
                    select(ListeningSource).where(ListeningSource.status == sources.ACTIVE)
                )
            )
            orgs = {r.organization_id for r in rows}
            self.queries = {org: pipeline.load_queries(session, org) for org in orgs}
        active = {r.id: r for r in rows}
        for source_id in list(self.producers):
            if source_id not in active:
                self.producers.pop(source_id).stop.set()
        now = self.clock.now()
        for source_id, row in active.items():
            waiting = row.wait_until is not None and row.wait_until > now
            if source_id not in self.producers and not waiting:
                self._start(row)  # (one that failed to start is tried again after its wait)

    def _start(self, row: ListeningSource) -> None:
        try:
            connector = self.resolve(row.connector)
            config = sources.config_for(row, self.vault)
        except Exception as exc:  # unknown connector, unreadable secrets: health, not a crash
            self._error(row.id, f"{type(exc).__name__}: {exc}", None)
            return
        if not isinstance(connector, PullSource | StreamSource):
            if connector.capabilities.receives:  # posts are pushed to the webhook endpoint
                return
            self._error(row.id, f"Connector {row.connector!r} neither pulls nor streams.", None)
            return
        producer = _Producer(row.id, row.organization_id, connector, config)
        target = self._stream if isinstance(connector, StreamSource) else self._pull
        producer.thread = threading.Thread(
            target=target, args=(producer,), name=f"source-{row.name}", daemon=True
        )
        self.producers[row.id] = producer
        producer.thread.start()

    def _error(self, source_id: str, message: str, retry_after: float | None) -> datetime | None:
        try:
            return record_error(
                self.db,
                source_id,
                message,
                clock=self.clock,
                retry_after=retry_after,
                max_backoff=self.config.max_backoff_seconds,
            )
        except Exception:  # the database itself is failing: log, the next round retries
            log.exception("could not record the error of source %s", source_id)
            return None

    def _stored_position(self, producer: _Producer) -> tuple[str | None, float]:
        """The stored cursor, and seconds to wait before reading (rate limit)."""
        with self.db.reader() as session:
            row = session.get(ListeningSource, producer.source_id)
            if row is None:
                return None, 0.0
            wait = 0.0
            if row.wait_until is not None:
                wait = max(0.0, (row.wait_until - self.clock.now()).total_seconds())
            return row.cursor, wait

    def _put(self, producer: _Producer, item: Fetched) -> bool:
        """Block while the queue is full (backpressure); False when told to stop."""
        while not producer.stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _failed(self, producer: _Producer, exc: Exception) -> float:
        retry_after = exc.retry_after if isinstance(exc, SourceUnavailable) else None
        message = _redact(f"{type(exc).__name__}: {exc}", producer.config)
        log.warning("source %s: %s", producer.source_id, message)
        until = self._error(producer.source_id, message, retry_after)
        if until is None:
            return backoff(1, self.config.max_backoff_seconds)
        return max(0.0, (until - self.clock.now()).total_seconds())

    def _pull(self, producer: _Producer) -> None:
        connector: PullSource = producer.connector
        with self.client_factory() as client:
            generation = -1
            cursor: str | None = None
            while not producer.stop.is_set():
                if generation != producer.generation:  # start, or the consumer said: reread
                    generation = producer.generation
                    cursor, wait = self._stored_position(producer)
                    if wait and self.wait(producer.stop, wait):
                        return
                try:
                    batch = connector.fetch(producer.config, cursor, client=client)
                except Exception as exc:
                    if self.wait(producer.stop, self._failed(producer, exc)):
                        return
                    continue
                if not self._put(producer, Fetched(producer.source_id, generation, cursor, batch)):
                    return
                if batch.cursor is not None:
                    cursor = batch.cursor
                pause = batch.wait_seconds or (
                    0.0 if batch.records or batch.deleted else self.config.poll_seconds
                )
                if pause and self.wait(producer.stop, pause):
                    return

    def _stream(self, producer: _Producer) -> None:
        connector: StreamSource = producer.connector
        while not producer.stop.is_set():
            generation = producer.generation
            cursor, wait = self._stored_position(producer)
            if wait and self.wait(producer.stop, wait):
                return
            try:
                for batch in connector.stream(producer.config, cursor):
                    item = Fetched(producer.source_id, generation, cursor, batch)
                    if not self._put(producer, item):
                        return
                    if batch.cursor is not None:
                        cursor = batch.cursor
                    if generation != producer.generation:
                        break  # a batch failed to store: reopen from the stored cursor
                else:
                    # The stream ended (connection closed): reconnect after a short pause.
                    if self.wait(producer.stop, min(self.config.poll_seconds, 5.0)):
                        return
            except Exception as exc:
                if self.wait(producer.stop, self._failed(producer, exc)):
                    return

    # --- the consumer -----------------------------------------------------------------------

    def step(self, timeout: float = 0.2) -> BatchResult | None:
        """Store one fetched batch, waiting up to `timeout` seconds for one. Returns what it
        stored, None when there was nothing (or the batch was dropped)."""
        try:
            item = self.queue.get(timeout=timeout)
        except queue.Empty:
            return None
        producer = self.producers.get(item.source_id)
        if producer is None or item.generation != producer.generation:
            return None  # from a stopped producer, or read after a batch that failed
        queries = self.queries.get(producer.organization_id) or QuerySet(())
        try:
            result = apply_batch(
                self.db,
                item,
                connector=producer.connector,
                queries=queries,
                clock=self.clock,
                triage=self.triage,
            )
        except StaleCursor:
            producer.generation += 1
            return None
        except Exception as exc:
            producer.generation += 1  # the producer re-reads from the stored cursor
            message = _redact(f"{type(exc).__name__}: {exc}", producer.config)
            log.exception("source %s: storing a batch failed", item.source_id)
            self._error(item.source_id, message, None)
            return None
        self.stored += result.stored
        return result

    def housekeeping(self) -> None:
        """Outbox deliveries that are due, and the scheduled jobs."""
        try:
            self.dispatcher.dispatch_pending()
        except Exception:
            log.exception("outbox dispatch failed")
        jobs.run_due(self.db, self.clock)

    def run(self, stop: threading.Event) -> None:
        """Until `stop` is set: keep producers in step with the active sources, store what
        they fetch, and (if configured) run the outbox and the jobs. Stops the producers on
        the way out; a batch being stored finishes first (clean stop)."""
        next_refresh = next_housekeeping = 0.0
        try:
            while not stop.is_set():
                now = time.monotonic()
                if now >= next_refresh:
                    self._safely(self.refresh)
                    next_refresh = now + self.config.refresh_seconds
                if self.config.housekeeping and now >= next_housekeeping:
                    self._safely(self.housekeeping)
                    next_housekeeping = now + self.config.housekeeping_seconds
                self.step()
        finally:
            self.shutdown()

    @staticmethod
    def _safely(fn: Callable[[], None]) -> None:
        try:
            fn()
        except Exception:  # a database hiccup must not end the worker; the next round retries
            log.exception("worker: %s failed", getattr(fn, "__name__", fn))

    def shutdown(self, timeout: float = 2.0) -> None:
        for producer in self.producers.values():
            producer.stop.set()
        for producer in self.producers.values():
            if producer.thread is not None:
                producer.thread.join(timeout)
        self.producers.clear()


def start_in_background(worker: Worker) -> tuple[threading.Event, threading.Thread]:
    """Run `worker` in a daemon thread (for `groundswell serve`); set the event to stop it."""
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), name="listening-worker", daemon=True)
    thread.start()
    return stop, thread


def pull_once(
    db: Database,
    vault: Vault,
    source_id: str,
    *,
    resolve: Resolve | None = None,
    clock: Clock | None = None,
    triage: TriageFn | None = None,
    client: httpx.Client,
    queries: Mapping[str, QuerySet[SavedQuery]] | None = None,
) -> BatchResult | None:
    """One fetch and store of a pull source in this thread (no queue): for tests and for
    running a source by hand. Returns None when the read failed (recorded on the source)."""
    clock = clock or SystemClock()
    with db.reader() as session:
        row = sources.get_source(session, source_id)
        connector = (resolve or _registered)(row.connector)
        config = sources.config_for(row, vault)
        cursor = row.cursor
        org_queries = (queries or {}).get(row.organization_id) or pipeline.load_queries(
            session, row.organization_id
        )
    try:
        batch = connector.fetch(config, cursor, client=client)
    except Exception as exc:
        retry_after = exc.retry_after if isinstance(exc, SourceUnavailable) else None
        record_error(
            db,
            source_id,
            _redact(f"{type(exc).__name__}: {exc}", config),
            clock=clock,
            retry_after=retry_after,
        )
        return None
    return apply_batch(
        db,
        Fetched(source_id, 0, cursor, batch),
        connector=connector,
        queries=org_queries,
        clock=clock,
        triage=triage or default_triage,
    )
