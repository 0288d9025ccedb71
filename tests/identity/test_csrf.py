"""Every form post is refused without the CSRF token of its session (or, before sign-in, of
its double-submit cookie), and accepted with it."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groundswell.identity.domain import Role
from groundswell.identity.tables import ApiToken, User, WebSession
from groundswell.kernel.db import Base, Database
from tests.builders import PASSWORD, csrf_from, login, make_org

CSRF_REFUSED = "CSRF check"


def _count(db: Database, table: type[Base]) -> int:
    with db.reader() as session:
        return session.execute(select(func.count()).select_from(table)).scalar_one()


def _login_data(email: str, csrf: str | None) -> dict[str, str]:
    data = {"email": email, "password": PASSWORD}
    if csrf is not None:
        data["csrf_token"] = csrf
    return data


@pytest.mark.parametrize("csrf", [None, "", "forged-token"], ids=["missing", "empty", "wrong"])
def test_login_without_the_right_csrf_token_is_refused(
    client: TestClient, db: Database, csrf: str | None
) -> None:
    owner = make_org(db)
    client.get("/login")  # sets the double-submit cookie

    response = client.post("/login", data=_login_data(owner.email, csrf), follow_redirects=False)

    assert response.status_code == 403
    assert CSRF_REFUSED in response.text
    assert "gs_session" not in response.cookies
    assert _count(db, WebSession) == 0


def test_login_with_a_token_but_no_cookie_is_refused(app: FastAPI, db: Database) -> None:
    """A cross-site form can copy a token it once saw, but not the victim's cookie."""
    owner = make_org(db)
    with TestClient(app) as attacker:
        token = csrf_from(attacker.get("/login").text)
    with TestClient(app) as victim:
        response = victim.post(
            "/login", data=_login_data(owner.email, token), follow_redirects=False
        )
    assert response.status_code == 403
    assert _count(db, WebSession) == 0


def test_login_with_the_right_csrf_token_signs_in(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    token = csrf_from(client.get("/login").text)

    response = client.post("/login", data=_login_data(owner.email, token), follow_redirects=False)

    assert response.status_code == 303
    assert response.cookies.get("gs_session")
    assert _count(db, WebSession) == 1


FORMS = {
    "token create": ("/settings/tokens", {"name": "ci", "scopes": "read"}, ApiToken),
    "user create": (
        "/settings/users",
        {
            "email": "new.person@example.org",
            "password": "another-long-password-7",
            "role": Role.VIEWER.value,
        },
        User,
    ),
    "logout": ("/logout", {}, WebSession),
}


@pytest.mark.parametrize("form", FORMS.keys())
@pytest.mark.parametrize("csrf", [None, "forged-token"], ids=["missing", "wrong"])
def test_signed_in_form_without_the_right_csrf_token_is_refused(
    client: TestClient, db: Database, form: str, csrf: str | None
) -> None:
    path, data, table = FORMS[form]
    owner = make_org(db)
    login(client, owner)
    before = _count(db, table)

    payload = dict(data) if csrf is None else {**data, "csrf_token": csrf}
    response = client.post(path, data=payload, follow_redirects=False)

    assert response.status_code == 403
    assert CSRF_REFUSED in response.text
    assert _count(db, table) == before
    assert (
        client.get("/settings/tokens", follow_redirects=False).status_code == 200
    )  # still signed in


@pytest.mark.parametrize("form", FORMS.keys())
def test_signed_in_form_with_the_right_csrf_token_works(
    client: TestClient, db: Database, form: str
) -> None:
    path, data, table = FORMS[form]
    owner = make_org(db)
    login(client, owner)
    before = _count(db, table)
    token = csrf_from(client.get("/settings/tokens").text)

    response = client.post(path, data={**data, "csrf_token": token}, follow_redirects=False)

    assert response.status_code in (201, 303), response.text
    expected = before - 1 if table is WebSession else before + 1
    assert _count(db, table) == expected


def test_htmx_header_carries_the_csrf_token(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    login(client, owner)
    token = csrf_from(client.get("/settings/tokens").text)

    response = client.post(
        "/settings/tokens",
        data={"name": "htmx"},
        headers={"X-CSRF-Token": token, "HX-Request": "true"},
    )

    assert response.status_code == 201
    assert _count(db, ApiToken) == 1


def test_csrf_token_of_one_session_does_not_work_for_another(app: FastAPI, db: Database) -> None:
    owner = make_org(db)
    with TestClient(app) as first, TestClient(app) as second:
        login(first, owner)
        login(second, owner)
        first_token = csrf_from(first.get("/settings/tokens").text)
        response = second.post("/settings/tokens", data={"name": "x", "csrf_token": first_token})
    assert response.status_code == 403
    assert _count(db, ApiToken) == 0
