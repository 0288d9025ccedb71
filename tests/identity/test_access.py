"""Roles gate the admin routes (403), and nobody ever sees another organization's rows (404 or
absent, never 403: a 403 would confirm the row exists)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from groundswell.identity import service as identity_service
from groundswell.identity.domain import Role, Scope
from groundswell.identity.tables import User
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict
from tests.builders import Person, bearer, csrf_from, login, make_org, make_token, make_user

NEW_USER = {"email": "fresh@example.org", "password": "a-fine-long-password-1", "role": "viewer"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/v1/users"), ("GET", "/api/v1/audit"), ("GET", "/api/v1/users")],
)
def test_a_viewer_gets_403_on_admin_api_routes(
    client: TestClient, db: Database, method: str, path: str
) -> None:
    owner = make_org(db)
    viewer = make_user(db, owner, Role.VIEWER)
    secret = make_token(db, viewer, [Scope.READ, Scope.WRITE, Scope.ADMIN])

    response = client.request(
        method, path, headers=bearer(secret), json=NEW_USER if method == "POST" else None
    )

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert "role (viewer)" in response.json()["detail"]


def test_a_viewer_gets_403_on_admin_pages(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    viewer = make_user(db, owner, Role.VIEWER)
    login(client, viewer)
    csrf = csrf_from(client.get("/settings/tokens").text)

    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export").status_code == 403
    assert client.get("/settings/users").status_code == 403
    created = client.post("/settings/users", data={**NEW_USER, "csrf_token": csrf})
    assert created.status_code == 403
    owner_token = make_token(db, owner)
    emails = [u["email"] for u in client.get("/api/v1/users", headers=bearer(owner_token)).json()]
    assert NEW_USER["email"] not in emails


def test_a_manager_reads_but_does_not_manage(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    manager = make_token(db, make_user(db, owner, Role.MANAGER))
    assert client.get("/api/v1/users", headers=bearer(manager)).status_code == 200
    assert client.get("/api/v1/audit", headers=bearer(manager)).status_code == 200
    assert client.post("/api/v1/users", json=NEW_USER, headers=bearer(manager)).status_code == 403


def test_an_admin_cannot_create_an_owner(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    admin = make_token(db, make_user(db, owner, Role.ADMIN))
    response = client.post(
        "/api/v1/users", json={**NEW_USER, "role": "owner"}, headers=bearer(admin)
    )
    assert response.status_code == 403
    assert (
        client.post(
            "/api/v1/users", json={**NEW_USER, "role": "admin"}, headers=bearer(admin)
        ).status_code
        == 201
    )


@pytest.fixture
def two_orgs(db: Database) -> tuple[Person, Person]:
    return make_org(db, "Acme"), make_org(db, "Globex")


def test_users_of_another_organization_are_invisible(
    client: TestClient, db: Database, two_orgs: tuple[Person, Person]
) -> None:
    acme, globex = two_orgs
    globex_agent = make_user(db, globex, Role.AGENT)
    token = make_token(db, acme)

    listed = client.get("/api/v1/users", headers=bearer(token)).json()
    assert [u["email"] for u in listed] == [acme.email]
    for ref in (globex.actor.user_id, globex_agent.actor.user_id, globex.email):
        response = client.get(f"/api/v1/users/{ref}", headers=bearer(token))
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
    deactivate = client.post(
        f"/api/v1/users/{globex_agent.actor.user_id}/deactivate", headers=bearer(token)
    )
    assert deactivate.status_code == 404
    globex_token = make_token(db, globex_agent)
    assert client.get("/api/v1/me", headers=bearer(globex_token)).status_code == 200


def test_audit_rows_of_another_organization_are_invisible(
    client: TestClient, db: Database, two_orgs: tuple[Person, Person]
) -> None:
    acme, globex = two_orgs
    make_user(db, globex, Role.AGENT)
    token = make_token(db, acme)

    rows = client.get("/api/v1/audit", params={"limit": 200}, headers=bearer(token)).json()["items"]

    assert rows, "Acme has audit rows of its own"
    assert all(globex.email not in row["actor"] for row in rows)
    assert {row["object_id"] for row in rows}.isdisjoint(
        {globex.actor.user_id, globex.actor.organization_id}
    )
    login(client, acme)
    page = client.get("/audit")
    assert page.status_code == 200
    assert acme.email in page.text
    assert globex.email not in page.text
    export = client.get("/audit/export", params={"format": "jsonl"})
    assert export.status_code == 200
    assert acme.email in export.text
    assert globex.email not in export.text


def test_a_token_of_another_organization_cannot_be_revoked(
    client: TestClient, db: Database, two_orgs: tuple[Person, Person]
) -> None:
    acme, globex = two_orgs
    acme_token, globex_token = make_token(db, acme), make_token(db, globex)
    globex_id = client.get("/api/v1/tokens", headers=bearer(globex_token)).json()[0]["id"]

    response = client.delete(f"/api/v1/tokens/{globex_id}", headers=bearer(acme_token))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/api/v1/me", headers=bearer(globex_token)).status_code == 200
    login(client, acme)
    csrf = csrf_from(client.get("/settings/tokens").text)
    page = client.post(f"/settings/tokens/{globex_id}/revoke", data={"csrf_token": csrf})
    assert page.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(globex_token)).status_code == 200


def test_a_plain_user_cannot_revoke_a_colleagues_token(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent, colleague = make_user(db, owner, Role.AGENT), make_user(db, owner, Role.AGENT)
    agent_token, colleague_token = make_token(db, agent), make_token(db, colleague)
    colleague_id = client.get("/api/v1/tokens", headers=bearer(colleague_token)).json()[0]["id"]

    response = client.delete(f"/api/v1/tokens/{colleague_id}", headers=bearer(agent_token))

    assert response.status_code == 404
    assert client.get("/api/v1/me", headers=bearer(colleague_token)).status_code == 200


def test_settings_page_lists_only_own_organization(
    client: TestClient, db: Database, two_orgs: tuple[Person, Person]
) -> None:
    acme, globex = two_orgs
    login(client, acme)
    page = client.get("/settings/users")
    assert page.status_code == 200
    assert acme.email in page.text
    assert globex.email not in page.text


def test_a_deactivation_guard_refuses_until_forced_with_a_reason(db: Database) -> None:
    owner = make_org(db, "Guarded")
    agent = make_user(db, owner, Role.AGENT)

    def holds_accounts(session: Session, user: User) -> str | None:
        return "They still hold the brand account @acme." if user.email == agent.email else None

    identity_service.register_deactivation_guard(holds_accounts)
    try:
        with pytest.raises(Conflict, match="still hold"), db.unit_of_work() as session:
            identity_service.deactivate_user(session, owner.actor, agent.email)
        with db.unit_of_work() as session:
            user = identity_service.deactivate_user(
                session, owner.actor, agent.email, force_reason="left suddenly; accounts frozen"
            )
            assert user.is_active is False
    finally:
        identity_service._deactivation_guards.remove(holds_accounts)
