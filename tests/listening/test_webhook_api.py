"""``POST /api/v1/listening/webhooks/{source_id}``: signed deliveries are ingested through the
pipeline (bad posts quarantined, the good ones stored, a repeat stored once); a bad or missing
signature and a stale timestamp are refused with 401, a body that is not posts with 422, an
unknown source with 404, a paused one with 503. Nothing is stored from a refused delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groundswell.governance.vault import Vault
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.kernel.tables import AuditEntry
from groundswell.kernel.webhooks import post_signed, sign
from groundswell.listening import sources
from groundswell.listening.tables import ListeningSource, Mention, QuarantinedRecord
from tests.builders import Person, make_org

SECRET = "whsec-test-5b1d0e6f"


@pytest.fixture
def owner(db: Database, clock: FrozenClock) -> Person:
    return make_org(db, clock=clock)


def _add_source(
    db: Database,
    settings: Settings,
    owner: Person,
    clock: FrozenClock,
    *,
    name: str = "zapier",
    connector: str = "webhook",
    secret: str | None = SECRET,
    status: str = sources.ACTIVE,
) -> str:
    # Stored as `sources.add_source` stores it (one vault ciphertext of a JSON object); written
    # directly because `add_source` only accepts connectors that pull or stream (see the report).
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        row = ListeningSource(
            organization_id=owner.actor.organization_id,
            name=name,
            connector=connector,
            options={},
            secrets=vault.encrypt(json.dumps({"signing_secret": secret})) if secret else None,
            status=status,
            created_at=clock.now(),
            error_count=0,
            stored_count=0,
        )
        session.add(row)
        session.flush()
        return row.id


def _post(
    client: TestClient,
    source_id: str,
    body: bytes,
    clock: FrozenClock,
    *,
    secret: str = SECRET,
    signed_at: int | None = None,
    signature: str | None = None,
) -> Any:
    ts = int(clock.now().timestamp()) if signed_at is None else signed_at
    headers = {
        "Content-Type": "application/json",
        "X-Groundswell-Timestamp": str(ts),
        "X-Groundswell-Signature": signature or sign(secret, body, ts),
    }
    return client.post(f"/api/v1/listening/webhooks/{source_id}", content=body, headers=headers)


def _count(db: Database, table: Any) -> int:
    with db.reader() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


POSTS: list[dict[str, Any]] = [
    {
        "id": "z-1",
        "text": "My Aurora Air refund still hasn't arrived",
        "created_at": "2026-01-05T08:55:00Z",
        "author": {"handle": "ana_k", "followers": 120},
        "lang": "en",
        "url": "https://forum.example/t/1?utm_source=zap",
    },
    {"id": "z-2", "text": "Where is my bag?", "author": "carl", "created_at": "2026-01-05T08:58Z"},
    {"id": "z-3"},  # no text: quarantined, the others kept
]


def test_a_signed_delivery_is_ingested_and_bad_posts_quarantined(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    response = _post(client, source_id, json.dumps(POSTS).encode(), clock)
    assert response.status_code == 200, response.text
    assert response.json() == {"read": 3, "stored": 2, "duplicates": 0, "quarantined": 1}
    with db.reader() as session:
        mentions = list(session.scalars(select(Mention).order_by(Mention.external_id)))
        assert [(m.source, m.external_id) for m in mentions] == [
            ("zapier", "z-1"),
            ("zapier", "z-2"),
        ]
        assert mentions[0].url == "https://forum.example/t/1"  # normalized by the pipeline
        assert mentions[0].author_followers == 120
        assert mentions[0].sentiment  # triaged
        bad = session.scalars(select(QuarantinedRecord)).one()
        assert (bad.reason, bad.position, bad.location) == ("missing_text", 3, "webhook:zapier")
        row = session.get(ListeningSource, source_id)
        assert row is not None
        assert row.last_fetch_at == clock.now()
        assert row.stored_count == 2
        assert row.lag_seconds == 2 * 60  # the newest post was 2 minutes old
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "listening.webhook")
        ).one()
        assert entry.actor_label == "webhook:zapier"


def test_the_same_posts_sent_again_are_stored_once(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    body = json.dumps(POSTS[:2]).encode()
    assert _post(client, source_id, body, clock).json()["stored"] == 2
    clock.advance(timedelta(seconds=30))
    again = _post(client, source_id, json.dumps(POSTS[0]).encode(), clock)
    assert again.json() == {"read": 1, "stored": 0, "duplicates": 1, "quarantined": 0}
    assert _count(db, Mention) == 2


def test_the_documented_python_sender_works(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    url = f"/api/v1/listening/webhooks/{source_id}"
    response = post_signed(client, url, POSTS[1], SECRET, now=clock.now())
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"secret": "not-the-secret"}, "does not match the body"),
        ({"signature": "sha256=" + "0" * 64}, "does not match the body"),
        ({"signature": "garbage"}, "does not match the body"),
        ({"signed_at": -400}, "more than 300 s away"),  # a captured delivery replayed later
        ({"signed_at": 400}, "more than 300 s away"),
    ],
)
def test_a_bad_signature_is_refused_and_nothing_stored(
    client: TestClient,
    db: Database,
    settings: Settings,
    owner: Person,
    clock: FrozenClock,
    change: dict[str, Any],
    message: str,
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    if "signed_at" in change:
        change = {"signed_at": int(clock.now().timestamp()) + change["signed_at"]}
    response = _post(client, source_id, json.dumps(POSTS).encode(), clock, **change)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "bad_signature"
    assert message in problem["detail"]
    assert _count(db, Mention) == 0
    assert _count(db, QuarantinedRecord) == 0


def test_a_body_changed_after_signing_is_refused(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    ts = int(clock.now().timestamp())
    signature = sign(SECRET, json.dumps(POSTS[1]).encode(), ts)
    tampered = json.dumps({**POSTS[1], "text": "Aurora Air is great, buy now"}).encode()
    response = _post(client, source_id, tampered, clock, signature=signature)
    assert response.status_code == 401
    assert _count(db, Mention) == 0


def test_unsigned_deliveries_are_refused(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    response = client.post(f"/api/v1/listening/webhooks/{source_id}", json=POSTS[0])
    assert response.status_code == 401
    assert "X-Groundswell-Timestamp" in response.json()["detail"]


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "the body is not JSON (Expecting property name"),
        (b"42", "expected a post (a JSON object) or a list of posts"),
        (b"[]", "the list of posts is empty"),
        (b"\xff\xfe", "the body is not UTF-8"),
        (json.dumps([{"id": str(i), "text": "x"} for i in range(1001)]).encode(), "at most 1000"),
    ],
)
def test_a_body_that_is_not_posts_is_a_clear_422(
    client: TestClient,
    db: Database,
    settings: Settings,
    owner: Person,
    clock: FrozenClock,
    body: bytes,
    detail: str,
) -> None:
    source_id = _add_source(db, settings, owner, clock)
    response = _post(client, source_id, body, clock)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "invalid_input"
    assert detail in problem["detail"]
    assert problem["detail"].startswith("Cannot read the delivery: ")
    assert _count(db, Mention) == 0


def test_unknown_and_non_webhook_sources_are_404(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    other = _add_source(db, settings, owner, clock, name="feed", connector="rss", secret=None)
    body = json.dumps(POSTS[0]).encode()
    for source_id in ("no-such-source", other):
        response = _post(client, source_id, body, clock)
        assert response.status_code == 404
        assert response.json()["detail"] == f"No webhook source {source_id}."


def test_a_source_without_a_secret_refuses_everything(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock, secret=None)
    response = _post(client, source_id, json.dumps(POSTS[0]).encode(), clock, secret="")
    assert response.status_code == 401
    assert "no signing secret" in response.json()["detail"]


def test_a_paused_source_asks_to_send_again_later(
    client: TestClient, db: Database, settings: Settings, owner: Person, clock: FrozenClock
) -> None:
    source_id = _add_source(db, settings, owner, clock, status=sources.PAUSED)
    response = _post(client, source_id, json.dumps(POSTS[0]).encode(), clock)
    assert response.status_code == 503
    assert response.json()["code"] == "source_paused"
    # The signature is checked first: a paused source does not reveal itself to strangers.
    response = _post(client, source_id, json.dumps(POSTS[0]).encode(), clock, secret="x")
    assert response.status_code == 401
