"""API tokens: revoked, expired and orphaned tokens get 401; scopes limit what a token does."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select

from groundswell.identity import service
from groundswell.identity.domain import Role, Scope
from groundswell.identity.tables import ApiToken
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import bearer, make_org, make_token, make_user

NEW_USER = {"email": "someone@example.org", "password": "a-fine-long-password-1", "role": "viewer"}


def _assert_401(response: Response, detail_part: str) -> None:
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "not_authenticated"
    assert detail_part in body["detail"]


def _token_id(client: TestClient, secret: str) -> str:
    tokens = client.get("/api/v1/tokens", headers=bearer(secret)).json()
    (match,) = [t for t in tokens if secret.startswith(t["prefix"])]
    return str(match["id"])


def test_a_revoked_token_gets_401(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    doomed, other = make_token(db, owner), make_token(db, owner)
    assert client.get("/api/v1/me", headers=bearer(doomed)).status_code == 200

    revoked = client.delete(f"/api/v1/tokens/{_token_id(client, doomed)}", headers=bearer(other))

    assert revoked.status_code == 204
    _assert_401(client.get("/api/v1/me", headers=bearer(doomed)), "revoked")
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_an_expired_token_gets_401(client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    with db.unit_of_work() as session:
        _row, secret = service.create_token(
            session, owner.actor, name="short", scopes=[Scope.READ], expires_in_days=1, clock=clock
        )
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200

    clock.advance(timedelta(seconds=1))

    _assert_401(client.get("/api/v1/me", headers=bearer(secret)), "expired")


def test_a_deactivated_users_token_gets_401(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    agent_token, owner_token = make_token(db, agent), make_token(db, owner)
    assert client.get("/api/v1/me", headers=bearer(agent_token)).status_code == 200

    gone = client.post(
        f"/api/v1/users/{agent.actor.user_id}/deactivate", headers=bearer(owner_token)
    )

    assert gone.status_code == 200
    assert gone.json()["is_active"] is False
    _assert_401(client.get("/api/v1/me", headers=bearer(agent_token)), "API token")


def test_a_token_of_a_user_deactivated_behind_its_back_gets_401(
    client: TestClient, db: Database
) -> None:
    """Even if the token row was left unrevoked, the user's state decides."""
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    secret = make_token(db, agent)
    with db.unit_of_work() as session:
        user = service.access_user(session, owner.actor, agent.actor.user_id)
        user.is_active = False

    _assert_401(client.get("/api/v1/me", headers=bearer(secret)), "deactivated")


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gsk_not-a-real-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"Authorization": "Bearer "},
    ],
    ids=["none", "unknown", "basic", "empty"],
)
def test_requests_without_a_valid_token_get_401(
    client: TestClient, db: Database, headers: dict[str, str]
) -> None:
    make_org(db)
    response = client.get("/api/v1/users", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_read_only_token_can_read_but_not_write(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    reader = make_token(db, owner, [Scope.READ])

    assert client.get("/api/v1/users", headers=bearer(reader)).status_code == 200
    refused = client.post("/api/v1/users", json=NEW_USER, headers=bearer(reader))

    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert "scopes (read)" in refused.json()["detail"]
    names = [u["email"] for u in client.get("/api/v1/users", headers=bearer(reader)).json()]
    assert NEW_USER["email"] not in names


@pytest.mark.parametrize(
    ("scopes", "asked", "status"),
    [
        ([Scope.READ], ["read"], 403),  # minting tokens needs the write scope
        ([Scope.READ, Scope.WRITE], ["read", "admin"], 403),  # never more than its own
        ([Scope.READ, Scope.WRITE], ["read", "write"], 201),
    ],
    ids=["read-only", "escalation", "same-scopes"],
)
def test_a_token_cannot_mint_a_stronger_token(
    client: TestClient, db: Database, scopes: list[Scope], asked: list[str], status: int
) -> None:
    owner = make_org(db)
    secret = make_token(db, owner, scopes)
    response = client.post(
        "/api/v1/tokens", json={"name": "child", "scopes": asked}, headers=bearer(secret)
    )
    assert response.status_code == status, response.text


def test_the_audit_log_needs_the_admin_scope(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    without_admin = make_token(db, owner, [Scope.READ, Scope.WRITE])
    with_admin = make_token(db, owner, [Scope.READ, Scope.ADMIN])
    assert client.get("/api/v1/audit", headers=bearer(without_admin)).status_code == 403
    assert client.get("/api/v1/audit", headers=bearer(with_admin)).status_code == 200


def test_the_secret_is_shown_once_and_never_listed(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    admin = make_token(db, owner)

    created = client.post("/api/v1/tokens", json={"name": "once"}, headers=bearer(admin))

    assert created.status_code == 201
    secret = created.json()["token"]
    assert secret.startswith("gsk_")
    listing = client.get("/api/v1/tokens", headers=bearer(admin))
    assert secret not in listing.text
    assert all("token" not in t for t in listing.json())
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200


def test_last_used_time_is_recorded_at_most_once_a_minute(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    secret = make_token(db, owner)

    def last_used() -> datetime | None:
        with db.reader() as session:
            token = session.execute(select(ApiToken)).scalar_one()
            return token.last_used_at

    assert last_used() is None
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    first = last_used()
    assert first == clock.now()
    clock.advance(timedelta(seconds=30))
    client.get("/api/v1/me", headers=bearer(secret))
    assert last_used() == first
    clock.advance(timedelta(seconds=61))
    client.get("/api/v1/me", headers=bearer(secret))
    assert last_used() == clock.now()
