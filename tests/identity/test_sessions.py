"""Web sessions: cookie flags, server-side expiry and logout, no open redirect after sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import PASSWORD, csrf_from, login, make_org


def test_the_session_cookie_is_httponly_and_samesite(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    cookie = next(
        v
        for k, v in response.headers.multi_items()
        if k == "set-cookie" and v.startswith("gs_session=")
    )
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags
    assert "samesite=lax" in flags
    assert "path=/" in flags


def test_a_session_ends_when_it_expires(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    login(client, make_org(db))
    clock.advance(timedelta(hours=settings.session_hours) - timedelta(seconds=1))
    assert client.get("/settings/tokens", follow_redirects=False).status_code == 200
    clock.advance(timedelta(seconds=1))
    response = client.get("/settings/tokens", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_a_cookie_replayed_after_logout_is_dead(client: TestClient, db: Database) -> None:
    login(client, make_org(db))
    cookie = client.cookies["gs_session"]
    csrf = csrf_from(client.get("/settings/tokens").text)
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )

    client.cookies.set("gs_session", cookie)
    response = client.get("/settings/tokens", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_to_another_site(
    client: TestClient, db: Database, target: str
) -> None:
    owner = make_org(db)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": owner.email, "password": PASSWORD, "csrf_token": token, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


def test_sign_in_returns_to_a_local_page(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "email": owner.email,
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/audit?action=x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/audit?action=x"


@pytest.mark.parametrize("path", ["/login", "/api/v1/openapi.json", "/healthz"])
def test_security_headers_are_sent(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_only_the_api_docs_page_may_run_inline_scripts(client: TestClient) -> None:
    login_csp = client.get("/login").headers["content-security-policy"]
    docs_csp = client.get("/api/v1/docs").headers["content-security-policy"]
    assert "script-src 'self';" in login_csp
    assert "'unsafe-inline'" not in login_csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "script-src 'self' 'unsafe-inline'" in docs_csp
