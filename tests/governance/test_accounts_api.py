"""JSON API and pages of the brand-account registry, mounted on a test app the way the lead
mounts them in `create_app`."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from groundswell.app import create_app
from groundswell.governance import accounts_api, accounts_pages
from groundswell.governance.vault import ENV_VAR
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import bearer, csrf_from, login, make_org, make_token, make_user

SECRET = "hunter2-but-much-longer-0xC0FFEE"


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


@pytest.fixture
def gapp(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    app = create_app(settings, clock=clock, db=db)
    mounted = {getattr(r, "path", "") for r in app.routes}
    if "/api/v1/accounts" not in mounted:  # once the lead mounts them, do not mount twice
        app.include_router(accounts_api.router)
        app.include_router(accounts_pages.router)
    return app


@pytest.fixture
def gclient(gapp: FastAPI) -> Iterator[TestClient]:
    with TestClient(gapp, base_url="http://testserver") as c:
        yield c


def test_api_registry_round_trip_never_returns_a_secret(
    gclient: TestClient, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner = make_org(db)
    a1, a2 = make_user(db, owner, Role.ADMIN), make_user(db, owner, Role.AGENT)
    auth = bearer(make_token(db, owner))
    created = gclient.post(
        "/api/v1/accounts",
        json={
            "network": "instagram",
            "handle": "@acme",
            "url": "https://instagram.com/acme",
            "unit": "Brand",
            "purpose": "Launches",
            "admins": [a1.email],
        },
        headers=auth,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    codes = [r["code"] for r in body["risks"]]
    assert codes == ["no_business_owner", "single_admin"]
    aid = body["id"]

    r = gclient.post(
        f"/api/v1/accounts/{aid}/roles", json={"user": a2.email, "role": "admin"}, headers=auth
    )
    assert r.status_code == 200, r.text
    r = gclient.post(
        f"/api/v1/accounts/{aid}/roles", json={"user": owner.email, "role": "owner"}, headers=auth
    )
    assert r.json()["risks"] == []
    put = gclient.put(
        f"/api/v1/accounts/{aid}/credentials/password", json={"secret": SECRET}, headers=auth
    )
    assert put.status_code == 200, put.text
    assert put.json()["set_by"] == owner.email
    responses = [
        put,
        gclient.get("/api/v1/accounts", headers=auth),
        gclient.get(f"/api/v1/accounts/{aid}", headers=auth),
        gclient.get("/api/v1/accounts/instagram:acme", headers=auth),
        gclient.get("/api/v1/audit", headers=auth),
    ]
    for response in responses:
        assert response.status_code == 200, response.text
        assert SECRET not in response.text
    detail = responses[2].json()
    assert detail["credentials"][0]["name"] == "password"
    assert "secret" not in detail["credentials"][0]
    assert responses[3].json()["id"] == aid
    r = gclient.post(f"/api/v1/accounts/{aid}/roles/revoke", json={"user": a2.email}, headers=auth)
    assert [x["code"] for x in r.json()["risks"]] == ["single_admin"]
    orphans = gclient.get("/api/v1/accounts/orphans", headers=auth).json()
    assert [o["id"] for o in orphans] == [aid]
    assert SECRET not in caplog.text


def test_api_refuses_bad_input_with_problem_json(gclient: TestClient, db: Database) -> None:
    owner = make_org(db)
    auth = bearer(make_token(db, owner))
    for payload in (
        {"network": "x", "handle": "a", "surprise": 1},
        {"network": "", "handle": "a"},
        {"network": "x y", "handle": "a"},
        {"network": "x", "handle": "has space"},
        {"network": "x", "handle": "a", "url": "javascript:alert(1)"},
    ):
        r = gclient.post("/api/v1/accounts", json=payload, headers=auth)
        assert r.status_code == 422, (payload, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = gclient.post(
        "/api/v1/accounts",
        content=b"{not json",
        headers={**auth, "content-type": "application/json"},
    )
    assert 400 <= r.status_code < 500
    assert gclient.get("/api/v1/accounts/nope", headers=auth).status_code == 404


def test_api_permissions_and_org_isolation(gclient: TestClient, db: Database) -> None:
    acme, globex = make_org(db, "Acme"), make_org(db, "Globex")
    viewer = make_user(db, acme, Role.VIEWER)
    acme_auth, globex_auth = bearer(make_token(db, acme)), bearer(make_token(db, globex))
    viewer_auth = bearer(make_token(db, viewer))
    aid = gclient.post(
        "/api/v1/accounts", json={"network": "x", "handle": "acme"}, headers=acme_auth
    ).json()["id"]
    assert gclient.get("/api/v1/accounts", headers=viewer_auth).status_code == 200
    assert (
        gclient.post(
            "/api/v1/accounts", json={"network": "x", "handle": "v"}, headers=viewer_auth
        ).status_code
        == 403
    )
    assert (
        gclient.post(
            "/api/v1/accounts/handover",
            json={"from_user": "a", "to_user": "b"},
            headers=viewer_auth,
        ).status_code
        == 403
    )
    assert gclient.get("/api/v1/accounts", headers=globex_auth).json() == []
    assert gclient.get(f"/api/v1/accounts/{aid}", headers=globex_auth).status_code == 404
    assert (
        gclient.put(
            f"/api/v1/accounts/{aid}/credentials/password",
            json={"secret": SECRET},
            headers=globex_auth,
        ).status_code
        == 404
    )
    assert gclient.get("/api/v1/accounts").status_code == 401


def test_api_handover_preview_then_apply(gclient: TestClient, db: Database) -> None:
    owner = make_org(db)
    leaver, successor = make_user(db, owner, Role.AGENT), make_user(db, owner, Role.AGENT)
    auth = bearer(make_token(db, owner))
    gclient.post(
        "/api/v1/accounts",
        json={"network": "x", "handle": "acme", "admins": [leaver.email, owner.email]},
        headers=auth,
    )
    body = {"from_user": leaver.email, "to_user": successor.email, "dry_run": True}
    preview = gclient.post("/api/v1/accounts/handover", json=body, headers=auth).json()
    assert preview["applied"] is False
    assert [i["kind"] for i in preview["items"]] == ["admin"]
    done = gclient.post(
        "/api/v1/accounts/handover", json={**body, "dry_run": False}, headers=auth
    ).json()
    assert done["applied"] is True
    admins = gclient.get("/api/v1/accounts/x:acme", headers=auth).json()["admins"]
    assert sorted(a["email"] for a in admins) == sorted([owner.email, successor.email])


def test_pages_list_detail_credential_and_csrf(gclient: TestClient, db: Database) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    login(gclient, owner)
    page = gclient.get("/governance/accounts")
    assert page.status_code == 200
    assert "No brand accounts registered yet" in page.text
    token = csrf_from(page.text)
    # Without the CSRF token the form post is refused.
    refused = gclient.post(
        "/governance/accounts", data={"network": "x", "handle": "acme"}, follow_redirects=False
    )
    assert refused.status_code == 403
    created = gclient.post(
        "/governance/accounts",
        data={"network": "x", "handle": "acme", "admins": [admin.email], "csrf_token": token},
        follow_redirects=False,
    )
    assert created.status_code == 303, created.text
    detail = gclient.get(created.headers["location"])
    assert "Account registered" in detail.text
    assert "Only one active admin" in detail.text
    assert "No business owner" in detail.text
    aid = created.headers["location"].split("/")[-1].split("?")[0]
    saved = gclient.post(
        f"/governance/accounts/{aid}/credentials",
        data={"name": "password", "secret": SECRET, "csrf_token": token},
    )
    assert saved.status_code == 200
    assert "will not be shown again" in saved.text
    assert "set on " in saved.text
    assert SECRET not in saved.text
    listing = gclient.get("/governance/accounts")
    assert "at risk of being orphaned" in listing.text
    assert SECRET not in listing.text
    orphans = gclient.get("/governance/accounts/orphans")
    assert "x:acme" in orphans.text
    # An error is shown on the page, not as a crash.
    bad = gclient.post(
        f"/governance/accounts/{aid}/roles",
        data={"user": "nobody@example.org", "role": "admin", "csrf_token": token},
    )
    assert bad.status_code == 404
    assert "No user" in bad.text


def test_handover_wizard_preview_and_confirm(gclient: TestClient, db: Database) -> None:
    owner = make_org(db)
    leaver, successor = make_user(db, owner, Role.AGENT), make_user(db, owner, Role.AGENT)
    auth = bearer(make_token(db, owner))
    gclient.post(
        "/api/v1/accounts",
        json={"network": "x", "handle": "acme", "business_owner": leaver.email},
        headers=auth,
    )
    login(gclient, owner)
    step1 = gclient.get("/governance/accounts/handover")
    assert step1.status_code == 200
    assert leaver.email in step1.text
    preview = gclient.get(
        "/governance/accounts/handover",
        params={"from_user": leaver.email, "to_user": successor.email},
    )
    assert "business owner: x:acme" in preview.text
    done = gclient.post(
        "/governance/accounts/handover",
        data={
            "from_user": leaver.email,
            "to_user": successor.email,
            "csrf_token": csrf_from(preview.text),
        },
    )
    assert done.status_code == 200
    assert f"Handed over from {leaver.email} to {successor.email}" in done.text
    owner_now = gclient.get("/api/v1/accounts/x:acme", headers=auth).json()["business_owner"]
    assert owner_now["email"] == successor.email


def test_a_viewer_cannot_use_the_handover_wizard(gclient: TestClient, db: Database) -> None:
    owner = make_org(db)
    viewer = make_user(db, owner, Role.VIEWER)
    login(gclient, viewer)
    assert gclient.get("/governance/accounts").status_code == 200
    assert gclient.get("/governance/accounts/handover").status_code == 403
