"""Sources health and quarantine pages through the TestClient."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groundswell.connectors.files.connector import FilesConnector
from groundswell.governance.vault import KeySource, Vault, generate_key
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import ingest, sources
from groundswell.listening.tables import ListeningSource, QuarantinedRecord
from tests.builders import Person, csrf_from, login, make_org, make_user
from tests.listening.pages_support import fake_triage, ingest_posts


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


def add_source(db: Database, owner: Person, clock: FrozenClock, name: str = "acme-blog") -> None:
    vault = Vault(KeySource((generate_key(),), None))
    with db.unit_of_work() as session:
        row = sources.add_source(
            session,
            owner.actor,
            vault,
            name=name,
            connector="rss",
            options={"url": "https://blog.example/feed"},
            secrets={},
            clock=clock,
        )
        row.last_fetch_at = clock.now() - timedelta(minutes=2)
        row.error_count = 3
        row.last_error = "HTTP 429 from blog.example"
        row.wait_until = clock.now() + timedelta(minutes=10)
        row.lag_seconds = 42.5
        row.stored_count = 17


def test_sources_health_and_pause_resume(
    client: TestClient, db: Database, owner: Person, clock: FrozenClock
) -> None:
    login(client, owner)
    empty = client.get("/listening/sources")
    assert "No sources configured" in empty.text
    add_source(db, owner, clock)
    page = client.get("/listening/sources")
    row = re.search(r'<tr data-source="acme-blog">.*?</tr>', page.text, re.S).group(0)  # type: ignore[union-attr]
    for shown in ("rss", "active", "3 in a row", "HTTP 429", "waiting until", "42.5 s", "17"):
        assert shown in row, shown
    token = csrf_from(page.text)
    paused = client.post("/listening/sources/acme-blog/pause", data={"csrf_token": token})
    assert "acme-blog is paused" in paused.text
    assert ">Resume</button>" in paused.text
    resumed = client.post("/listening/sources/acme-blog/resume", data={"csrf_token": token})
    assert "fetching again" in resumed.text
    with db.reader() as session:
        source = session.scalar(select(ListeningSource))
        assert source is not None
        assert source.status == "active"
        assert source.wait_until is None


def test_agent_sees_sources_but_cannot_pause(
    client: TestClient, db: Database, owner: Person, clock: FrozenClock
) -> None:
    add_source(db, owner, clock)
    agent = make_user(db, owner, Role.AGENT)
    login(client, agent)
    page = client.get("/listening/sources")
    assert 'data-source="acme-blog"' in page.text
    assert ">Pause</button>" not in page.text
    refused = client.post(
        "/listening/sources/acme-blog/pause", data={"csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 403


def quarantine_some(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock, n: int
) -> None:
    path = tmp_path / "bad.jsonl"
    lines = [b'{"id": "ok", "text": "fine"}']
    lines += [b'{"id": "b%d", "text": ' % i + b"<script>alert(1)</script>" for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    ingest.import_posts(
        db, owner.actor, FilesConnector(), str(path), clock=clock, triage=fake_triage
    )


def count(db: Database) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(QuarantinedRecord)) or 0)


def test_quarantine_lists_escapes_paginates_retries_and_drops(
    client: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    login(client, owner)
    assert "The quarantine is empty" in client.get("/listening/quarantine").text
    quarantine_some(db, owner, tmp_path, clock, 55)
    page = client.get("/listening/quarantine")
    assert "55 records held" in page.text
    assert len(re.findall(r"<tr data-record=", page.text)) == 50
    assert "invalid_json" in page.text
    assert "bad.jsonl" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    older = re.search(r'rel="next" href="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    second = client.get(older.replace("&amp;", "&"))
    assert len(re.findall(r"<tr data-record=", second.text)) == 5

    ids = re.findall(r'<tr data-record="(\d+)"', page.text)
    token = csrf_from(page.text)
    retried = client.post("/listening/quarantine/retry", data={"ids": ids[:2], "csrf_token": token})
    assert "Retried 2: 0 stored, 0 already stored, 2 still bad." in retried.text
    dropped = client.post("/listening/quarantine/drop", data={"ids": ids[:3], "csrf_token": token})
    assert "Dropped 3 records for good." in dropped.text
    assert count(db) == 52
    one = client.post("/listening/quarantine/drop", data={"ids": [ids[3]], "csrf_token": token})
    assert "Dropped 1 record for good." in one.text
    nothing = client.post("/listening/quarantine/drop", data={"csrf_token": token})
    assert nothing.status_code == 422
    assert "Select at least one record" in nothing.text
    assert count(db) == 51


def test_viewer_cannot_act_on_the_quarantine(
    client: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    quarantine_some(db, owner, tmp_path, clock, 1)
    ingest_posts(db, owner, tmp_path, [{"id": "x", "text": "y"}], clock=clock, name="ok.jsonl")
    viewer = make_user(db, owner, Role.VIEWER)
    login(client, viewer)
    page = client.get("/listening/quarantine")
    assert "1 record held" in page.text
    assert "Retry selected" not in page.text
    ids = re.findall(r'<tr data-record="(\d+)"', page.text)
    refused = client.post(
        "/listening/quarantine/drop", data={"ids": ids, "csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 403
    assert count(db) == 1
