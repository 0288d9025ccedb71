from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

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
from groundswell.governance.vault import Vault
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.listening import sources
from groundswell.listening.tables import Mention
from groundswell.serve import RedactSecrets, start_sources
from tests.builders import make_org


def test_access_log_redacts_reset_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/reset/abcDEF123-secret?x=1", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "abcDEF123-secret" not in record.getMessage()
    assert "/reset/***" in record.getMessage()


class _Stream:
    name = "servestream"
    capabilities = Capabilities(streams=True)

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        for i in range(int(cursor or 0), 2):
            payload = json.dumps({"id": f"s{i}", "text": f"heard while serving {i}"}).encode()
            yield Batch((RawRecord(payload, i, "json"),), str(i + 1))

    def parse(self, record: RawRecord) -> ConnectorPost:
        data = json.loads(record.payload)
        return ConnectorPost(external_id=data["id"], text=data["text"])


def test_serve_runs_listening_sources_unless_turned_off(
    db: Database, settings: Settings, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = registry.get
    monkeypatch.setattr(registry, "get", lambda n: _Stream() if n == "servestream" else real(n))
    owner = make_org(db)
    with db.unit_of_work() as session:
        sources.add_source(
            session,
            owner.actor,
            Vault.open(settings.data_dir),
            name="live",
            connector="servestream",
            options={},
            secrets={},
            clock=clock,
        )
    assert (
        start_sources(db, settings.model_copy(update={"listening_sources_in_serve": False})) is None
    )
    stop = start_sources(db, settings)
    assert stop is not None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with db.reader() as session:
                if session.scalar(select(func.count()).select_from(Mention)) == 2:
                    break
            time.sleep(0.1)
        else:
            raise AssertionError("the sources did not run inside serve")
    finally:
        stop.set()
