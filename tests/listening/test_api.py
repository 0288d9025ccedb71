"""The listening JSON API: mentions (filters, cursor, search, detail, flags), saved queries,
sources, quarantine, volume; scoping and permissions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from groundswell.connectors.files.connector import FilesConnector
from groundswell.identity.domain import Role, Scope
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.pagination import encode_cursor
from groundswell.listening import ingest
from tests.builders import Person, bearer, make_org, make_token, make_user
from tests.listening.pages_support import ingest_posts

POSTS = [
    {"id": "1", "text": "I love the new menu", "lang": "en", "author": "ana"},
    {"id": "2", "text": "Bad service, I want a refund", "lang": "en", "author": "bob"},
    {"id": "3", "text": "refund please, this is bad", "lang": "fr", "author": "ana"},
]
BASE = "/api/v1/listening"


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


@pytest.fixture
def auth(db: Database, owner: Person) -> dict[str, str]:
    return bearer(make_token(db, owner))


def test_mentions_filters_cursor_and_detail(
    client: TestClient,
    db: Database,
    owner: Person,
    auth: dict[str, str],
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    everything = client.get(f"{BASE}/mentions", headers=auth).json()
    assert [m["external_id"] for m in everything["items"]] == ["3", "2", "1"]
    assert everything["next_cursor"] is None
    first = client.get(f"{BASE}/mentions?limit=2", headers=auth).json()
    rest = client.get(
        f"{BASE}/mentions", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
    ).json()
    assert [m["external_id"] for m in first["items"] + rest["items"]] == ["3", "2", "1"]
    refund = client.get(f"{BASE}/mentions?q=refund&sentiment=negative", headers=auth).json()
    assert {m["external_id"] for m in refund["items"]} == {"2", "3"}
    assert refund["items"][0]["labels"] == ["complaint"]
    bad = client.get(f"{BASE}/mentions?q=refund%20OR", headers=auth)
    assert bad.status_code == 422
    assert bad.json()["code"] == "query_syntax"
    assert "^" in bad.json()["detail"]
    assert client.get(f"{BASE}/mentions?range=1y", headers=auth).status_code == 422
    assert client.get(f"{BASE}/mentions?cursor=zzz", headers=auth).status_code == 422

    mid = refund["items"][0]["id"]
    detail = client.get(f"{BASE}/mentions/{mid}", headers=auth).json()
    assert detail["mention"]["id"] == mid
    assert detail["cluster_size"] >= 1
    flagged = client.post(f"{BASE}/mentions/{mid}/flags", json={"note": "legal"}, headers=auth)
    assert flagged.status_code == 201
    assert flagged.json()["mention_id"] == mid
    again = client.get(f"{BASE}/mentions/{mid}", headers=auth).json()
    assert [f["note"] for f in again["flags"]] == ["legal"]

    found = client.get(f"{BASE}/search?q=refund", headers=auth).json()
    assert {m["external_id"] for m in found} == {"2", "3"}
    volume = client.get(f"{BASE}/volume?range=24h", headers=auth).json()
    assert volume["total"] == 3
    assert volume["bucket_seconds"] == 3600
    assert sum(volume["by_sentiment"]["negative"]) == 2


def test_queries_test_save_and_switch_off(
    client: TestClient,
    db: Database,
    owner: Person,
    auth: dict[str, str],
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    tried = client.post(f"{BASE}/queries/test", json={"query": "refund"}, headers=auth).json()
    assert tried["tried"] == 3
    assert tried["matched"] == 2
    assert client.post(f"{BASE}/queries/test", json={"query": "("}, headers=auth).status_code == 422
    saved = client.post(
        f"{BASE}/queries",
        json={"name": "refunds", "topic": "risk", "query": "refund"},
        headers=auth,
    )
    assert saved.status_code == 201
    query_id = saved.json()["id"]
    assert (
        client.post(
            f"{BASE}/queries", json={"name": "refunds", "query": "x"}, headers=auth
        ).status_code
        == 409
    )
    off = client.post(f"{BASE}/queries/{query_id}/active", json={"active": False}, headers=auth)
    assert off.json()["active"] is False
    listed = client.get(f"{BASE}/queries", headers=auth).json()
    assert [(q["name"], q["topic"], q["active"]) for q in listed] == [("refunds", "risk", False)]
    assert (
        client.post(f"{BASE}/queries/nope/active", json={"active": True}, headers=auth).status_code
        == 404
    )


def test_sources_and_quarantine(
    client: TestClient,
    db: Database,
    owner: Person,
    auth: dict[str, str],
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    assert client.get(f"{BASE}/sources", headers=auth).json() == []
    (tmp_path / "bad.jsonl").write_bytes(b'{"id": 1, "text": \n{"id": "2"}\n')
    result = ingest.import_posts(
        db, owner.actor, FilesConnector(), str(tmp_path / "bad.jsonl"), clock=clock
    )
    assert result.quarantined == 2
    listed = client.get(f"{BASE}/quarantine", headers=auth).json()
    assert listed["total"] == 2
    assert {r["reason"] for r in listed["items"]} == {"invalid_json", "missing_text"}
    ids = [r["id"] for r in listed["items"]]
    retried = client.post(f"{BASE}/quarantine/retry", json={"ids": ids[:1]}, headers=auth).json()
    assert retried["still_quarantined"] == 1
    dropped = client.post(f"{BASE}/quarantine/drop", json={"ids": ids}, headers=auth).json()
    assert dropped == {"dropped": 2}
    assert client.get(f"{BASE}/quarantine", headers=auth).json()["total"] == 0


def test_scoping_and_permissions(
    client: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    other = make_org(db, "Other")
    theirs = bearer(make_token(db, other))
    assert client.get(f"{BASE}/mentions", headers=theirs).json()["items"] == []
    mine = client.get(f"{BASE}/mentions", headers=bearer(make_token(db, owner))).json()
    mid = mine["items"][0]["id"]
    assert client.get(f"{BASE}/mentions/{mid}", headers=theirs).status_code == 404
    reader = bearer(make_token(db, owner, [Scope.READ]))
    assert client.get(f"{BASE}/mentions", headers=reader).status_code == 200
    assert (
        client.post(f"{BASE}/mentions/{mid}/flags", json={"note": "x"}, headers=reader).status_code
        == 403
    )
    viewer = make_user(db, owner, Role.VIEWER)
    as_viewer = bearer(make_token(db, viewer))
    assert (
        client.post(
            f"{BASE}/queries", json={"name": "n", "query": "refund"}, headers=as_viewer
        ).status_code
        == 403
    )
    assert (
        client.post(f"{BASE}/quarantine/drop", json={"ids": [1]}, headers=as_viewer).status_code
        == 403
    )
    assert client.get(f"{BASE}/mentions").status_code == 401


def test_forged_cursors_huge_ids_and_nul_are_client_errors(
    client: TestClient,
    db: Database,
    owner: Person,
    auth: dict[str, str],
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    forged = [
        encode_cursor("not a time", 1),
        encode_cursor(datetime(2026, 1, 1), 1),  # naive
        encode_cursor(datetime(2026, 1, 1, tzinfo=UTC), 2**70),
        base64.urlsafe_b64encode(b'[{"dt": "nope"}, 1]').decode(),
    ]
    for cursor in forged:
        response = client.get(f"{BASE}/mentions", params={"cursor": cursor}, headers=auth)
        assert response.status_code == 422, cursor
    assert client.get(f"{BASE}/mentions/{2**70}", headers=auth).status_code == 404
    assert client.get(f"{BASE}/mentions?source=%00", headers=auth).status_code == 422
    mid = client.get(f"{BASE}/mentions", headers=auth).json()["items"][0]["id"]
    nul = client.post(f"{BASE}/mentions/{mid}/flags", json={"note": "a\u0000b"}, headers=auth)
    assert nul.status_code == 422
    big = client.post(f"{BASE}/quarantine/drop", json={"ids": [2**64]}, headers=auth)
    assert big.status_code == 422
