"""Running sources: cursor stored with the mentions (kill-and-resume: no gap, no duplicate),
deletions, rate limits and errors on the source's health, streams through a bounded queue
(backpressure), and a clean stop."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from groundswell.connectors import registry
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import SourceUnavailable
from groundswell.governance.vault import KeySource, Vault, generate_key
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import ingest, pipeline, sources, worker
from groundswell.listening.search import search_mentions
from groundswell.listening.tables import ListeningSource, Mention, MentionMatch
from groundswell.listening.worker import Fetched, RunnerConfig, StaleCursor, Worker
from tests.builders import Person, make_org

TOKEN = "tok-1234567890abcdef"


def record(external_id: str, text: str | None = None) -> RawRecord:
    body = {"id": external_id, "text": text or f"post {external_id} about the refund desk"}
    return RawRecord(json.dumps(body).encode(), 0, "json")


def parse(rec: RawRecord) -> ConnectorPost:
    data = json.loads(rec.payload)
    return ConnectorPost(external_id=data["id"], text=data["text"])


class PagedPull:
    """Pages of posts; the cursor is the number of the next page."""

    name = "fakepull"
    capabilities = Capabilities(pulls=True, secrets=("token",))

    def __init__(self, pages: list[Batch]) -> None:
        self.pages = pages
        self.calls: list[str | None] = []
        self.fail: Exception | None = None

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        assert config.secrets["token"] == TOKEN
        self.calls.append(cursor)
        if self.fail is not None:
            raise self.fail
        page = int(cursor or 0)
        if page >= len(self.pages):
            return Batch(cursor=cursor)
        batch = self.pages[page]
        return Batch(batch.records, str(page + 1), batch.deleted, batch.wait_seconds)

    def parse(self, rec: RawRecord) -> ConnectorPost:
        return parse(rec)


class CountingStream:
    name = "fakestream"
    capabilities = Capabilities(streams=True)

    def __init__(self, batches: int, per_batch: int = 2) -> None:
        self.batches = batches
        self.per_batch = per_batch
        self.yielded = 0
        self.opened_at: list[str | None] = []

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        self.opened_at.append(cursor)
        start = int(cursor or 0)
        for i in range(start, self.batches):
            self.yielded += 1
            recs = tuple(record(f"s{i}-{k}") for k in range(self.per_batch))
            yield Batch(recs, str(i + 1))

    def parse(self, rec: RawRecord) -> ConnectorPost:
        return parse(rec)


def pages(n: int, per_page: int = 3) -> list[Batch]:
    return [Batch(tuple(record(f"p{i * per_page + k}") for k in range(per_page))) for i in range(n)]


@pytest.fixture
def vault() -> Vault:
    return Vault(KeySource((generate_key(),), None))


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


@pytest.fixture
def connectors(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    found: dict[str, Any] = {}
    real = registry.get
    monkeypatch.setattr(registry, "get", lambda name: found.get(name) or real(name))
    return found


def add_source(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connector: Any, name: str
) -> str:
    secrets = {"token": TOKEN} if "token" in connector.capabilities.secrets else {}
    with db.unit_of_work() as session:
        row = sources.add_source(
            session,
            owner.actor,
            vault,
            name=name,
            connector=connector.name,
            options={},
            secrets=secrets,
            clock=clock,
        )
        return row.id


def stored_ids(db: Database) -> list[str]:
    with db.reader() as session:
        return list(session.scalars(select(Mention.external_id).order_by(Mention.external_id)))


def source_row(db: Database, source_id: str) -> ListeningSource:
    with db.reader() as session:
        return sources.get_source(session, source_id)


def pull(db: Database, vault: Vault, source_id: str, clock: FrozenClock, **kw: Any) -> Any:
    with httpx.Client() as client:
        return worker.pull_once(
            db, vault, source_id, resolve=registry.get, clock=clock, client=client, **kw
        )


def test_kill_and_resume_has_no_gap_and_no_duplicate(
    db: Database,
    owner: Person,
    vault: Vault,
    clock: FrozenClock,
    connectors: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = connectors["fakepull"] = PagedPull(pages(4))
    source_id = add_source(db, owner, vault, clock, fake, "brand")
    assert pull(db, vault, source_id, clock).stored == 3
    assert source_row(db, source_id).cursor == "1"

    real_store = pipeline.store_stage

    def killed(*args: Any, **kwargs: Any) -> None:
        real_store(*args, **kwargs)  # the mentions are written, then the process dies
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "store_stage", killed)
    with pytest.raises(KeyboardInterrupt):
        pull(db, vault, source_id, clock)
    monkeypatch.setattr(pipeline, "store_stage", real_store)
    # Nothing of the killed batch is stored, and the cursor did not move.
    assert len(stored_ids(db)) == 3
    assert source_row(db, source_id).cursor == "1"

    while pull(db, vault, source_id, clock).read:
        pass
    assert stored_ids(db) == sorted(f"p{i}" for i in range(12))
    assert fake.calls == [None, "1", "1", "2", "3", "4"]
    row = source_row(db, source_id)
    assert (row.cursor, row.stored_count, row.error_count) == ("4", 12, 0)


def test_a_batch_read_twice_is_stored_once(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connectors: dict[str, Any]
) -> None:
    fake = connectors["fakepull"] = PagedPull(pages(2))
    source_id = add_source(db, owner, vault, clock, fake, "brand")
    item = Fetched(
        source_id,
        0,
        None,
        fake.fetch(SourceConfig({}, {"token": TOKEN}), None, client=httpx.Client()),
    )
    kw: dict[str, Any] = {
        "connector": fake,
        "queries": pipeline.QuerySet(()),
        "clock": clock,
        "triage": pipeline.default_triage,
    }
    worker.apply_batch(db, item, **kw)
    with pytest.raises(StaleCursor):  # the stored cursor moved on: the copy is dropped
        worker.apply_batch(db, item, **kw)
    assert len(stored_ids(db)) == 3


def test_deleted_posts_leave_mentions_matches_and_search(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connectors: dict[str, Any]
) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="refunds", topic="t", query="refund", clock=clock
        )
    first = Batch((record("p0"), record("p1", "the refund desk helped me")))
    fake = connectors["fakepull"] = PagedPull([first, Batch(deleted=("p1", "never-seen"))])
    source_id = add_source(db, owner, vault, clock, fake, "brand")
    pull(db, vault, source_id, clock)
    with db.reader() as session:
        assert len(search_mentions(session, owner.actor.organization_id, "helped")) == 1
        assert session.scalar(select(func.count()).select_from(MentionMatch)) == 2
    pull(db, vault, source_id, clock)
    assert stored_ids(db) == ["p0"]
    with db.reader() as session:
        assert search_mentions(session, owner.actor.organization_id, "helped") == []
        assert session.scalar(select(func.count()).select_from(MentionMatch)) == 1


def test_rate_limit_wait_and_errors_go_to_the_source_health(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connectors: dict[str, Any]
) -> None:
    waiting = Batch((record("p0"),), wait_seconds=120)
    fake = connectors["fakepull"] = PagedPull([waiting, Batch((record("p1"),))])
    source_id = add_source(db, owner, vault, clock, fake, "brand")
    pull(db, vault, source_id, clock)
    assert source_row(db, source_id).wait_until == clock.now() + timedelta(seconds=120)

    fake.fail = SourceUnavailable(
        "api.example did not answer (last: HTTP 429)", status=429, retry_after=30
    )
    assert pull(db, vault, source_id, clock) is None
    row = source_row(db, source_id)
    assert (row.error_count, row.cursor) == (1, "1")
    assert row.last_error
    assert "HTTP 429" in row.last_error
    assert row.wait_until == clock.now() + timedelta(seconds=30)

    fake.fail = ValueError(f"the server rejected token {TOKEN}")
    pull(db, vault, source_id, clock)
    row = source_row(db, source_id)
    assert row.error_count == 2
    assert row.last_error
    assert TOKEN not in row.last_error
    assert row.wait_until == clock.now() + timedelta(seconds=4)  # backoff 2**errors

    fake.fail = None
    pull(db, vault, source_id, clock)
    row = source_row(db, source_id)
    assert (row.error_count, row.last_error, row.wait_until, row.cursor) == (0, None, None, "2")


def wait_for(condition: Callable[[], bool], step: Callable[[], Any], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        step()


def test_stream_backpressure_blocks_the_producer_when_the_queue_is_full(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connectors: dict[str, Any]
) -> None:
    stream = connectors["fakestream"] = CountingStream(batches=40)
    add_source(db, owner, vault, clock, stream, "firehose")
    runner = Worker(db, vault, clock=clock, config=RunnerConfig(queue_size=3, housekeeping=False))
    runner.refresh()
    try:
        time.sleep(1.0)  # nobody stores: the producer fills the queue, then blocks
        assert runner.queue.qsize() == 3
        assert stream.yielded == 4  # 3 queued + 1 waiting in put()
        wait_for(lambda: runner.stored == 80, runner.step)
    finally:
        runner.shutdown()
    assert len(stored_ids(db)) == 80
    assert stream.yielded == 40
    assert stream.opened_at[0] is None


def test_worker_runs_pull_and_stream_sources_and_stops_cleanly(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, connectors: dict[str, Any]
) -> None:
    connectors["fakepull"] = PagedPull(pages(3))
    stream = connectors["fakestream"] = CountingStream(batches=5)
    add_source(db, owner, vault, clock, connectors["fakepull"], "brand")
    add_source(db, owner, vault, clock, stream, "firehose")
    paused = add_source(db, owner, vault, clock, PagedPull(pages(1)), "paused-one")
    with db.unit_of_work() as session:
        sources.pause(session, owner.actor, paused, clock=clock)
    runner = Worker(db, vault, clock=clock, config=RunnerConfig(poll_seconds=0.05))
    stop = threading.Event()
    thread = threading.Thread(target=runner.run, args=(stop,))
    thread.start()
    try:
        wait_for(lambda: len(stored_ids(db)) >= 19, lambda: time.sleep(0.1))
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert runner.producers == {}
    assert len(stored_ids(db)) == 19  # 9 pulled + 10 streamed; the paused source read nothing


def test_a_failed_store_restarts_the_stream_from_the_stored_cursor(
    db: Database,
    owner: Person,
    vault: Vault,
    clock: FrozenClock,
    connectors: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = connectors["fakestream"] = CountingStream(batches=6)
    source_id = add_source(db, owner, vault, clock, stream, "firehose")
    real_store = pipeline.store_stage
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        real_store(*args, **kwargs)

    monkeypatch.setattr(pipeline, "store_stage", flaky)
    runner = Worker(db, vault, clock=clock, config=RunnerConfig(queue_size=2, housekeeping=False))
    runner.wait = lambda event, seconds: event.wait(0.01)  # no real backoff in the test
    runner.refresh()
    try:
        wait_for(lambda: len(stored_ids(db)) == 12, runner.step)
    finally:
        runner.shutdown()
    assert stored_ids(db) == sorted(f"s{i}-{k}" for i in range(6) for k in range(2))
    assert stream.opened_at[:2] == [None, "2"]  # reopened after the two stored batches
    assert source_row(db, source_id).cursor == "6"
