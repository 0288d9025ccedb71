"""The ``fake`` connector as a configured source run by the worker: every post of the window is
stored once, and a crash in the middle of a batch followed by a restart from the stored cursor
loses nothing and doubles nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from groundswell.connectors.fake import generate
from groundswell.connectors.fake.connector import FakeConnector
from groundswell.governance.vault import KeySource, Vault, generate_key
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import pipeline, sources, worker
from groundswell.listening.tables import ListeningSource, Mention
from tests.builders import make_org

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
UNTIL = T0 + timedelta(minutes=3)


@pytest.fixture
def vault() -> Vault:
    return Vault(KeySource((generate_key(),), None))


def _client() -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(500)))


def _source(db: Database, vault: Vault, clock: FrozenClock) -> str:
    owner = make_org(db, clock=clock)
    options = {
        "scenario": "demo",
        "seed": "5",
        "start": T0.isoformat(),
        "until": UNTIL.isoformat(),
        "batch": "25",
    }
    with db.unit_of_work() as session:
        row = sources.add_source(
            session,
            owner.actor,
            vault,
            name="fake-demo",
            connector="fake",
            options=options,
            secrets={},
            clock=clock,
        )
        return row.id


def _run(db: Database, vault: Vault, source_id: str, clock: FrozenClock) -> int:
    """Fetch and store until the source has caught up; how many batches it took."""
    batches = 0
    with _client() as client:
        while True:
            result = worker.pull_once(
                db,
                vault,
                source_id,
                resolve=lambda name: FakeConnector(clock),
                clock=clock,
                client=client,
            )
            assert result is not None
            batches += 1
            if result.read == 0:
                return batches


def _stored(db: Database) -> list[str]:
    with db.reader() as session:
        return list(session.scalars(select(Mention.external_id).order_by(Mention.id)))


def test_every_post_of_the_window_is_stored_once(
    db: Database, vault: Vault, clock: FrozenClock
) -> None:
    source_id = _source(db, vault, clock)
    assert _run(db, vault, source_id, clock) > 3  # the window takes several batches of 25
    expected = [p["id"] for p in generate("demo", T0, UNTIL, seed=5)]
    assert _stored(db) == expected
    with db.reader() as session:
        row = session.get(ListeningSource, source_id)
        assert row is not None
        assert row.stored_count == len(expected)


def test_a_crash_mid_batch_then_a_restart_loses_and_doubles_nothing(
    db: Database, vault: Vault, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    source_id = _source(db, vault, clock)
    real_store = pipeline.store_stage
    calls = {"n": 0}

    def crash_on_the_third_batch(*args: Any, **kwargs: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("killed")
        real_store(*args, **kwargs)

    monkeypatch.setattr(pipeline, "store_stage", crash_on_the_third_batch)
    with pytest.raises(RuntimeError, match="killed"):
        _run(db, vault, source_id, clock)
    assert len(_stored(db)) == 50  # two batches stored, the third rolled back with its cursor
    monkeypatch.setattr(pipeline, "store_stage", real_store)
    _run(db, vault, source_id, clock)  # the restart: a new connector, the stored cursor
    assert _stored(db) == [p["id"] for p in generate("demo", T0, UNTIL, seed=5)]
