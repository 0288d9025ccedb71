"""`groundswell users reset-password EMAIL` prints a one-time link (and emails it when SMTP is
set); the link works once and expires."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response

from groundswell.cli import main
from groundswell.identity import service
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import PASSWORD, Person, csrf_from, login, make_org
from tests.smtp import SmtpInbox

NEW_PASSWORD = "a-brand-new-password-99"
INVALID_LINK = "not valid any more"


def _reset_link(capsys: pytest.CaptureFixture[str], email: str) -> str:
    capsys.readouterr()
    assert main(["users", "reset-password", email]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if "/reset/" in line]
    assert len(lines) == 1, lines
    return lines[0].strip()


def _choose(client: TestClient, path: str, password: str = NEW_PASSWORD) -> Response:
    form = client.get(path)
    assert form.status_code == 200
    return client.post(
        path,
        data={"password": password, "confirm": password, "csrf_token": csrf_from(form.text)},
        follow_redirects=False,
    )


def _signs_in(client: TestClient, person: Person, password: str) -> bool:
    client.cookies.clear()
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": person.email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    return response.status_code == 303


def test_the_printed_link_resets_the_password_once(
    client: TestClient, db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)
    link = _reset_link(capsys, owner.email)
    assert link.startswith(settings.base_url.rstrip("/") + "/reset/")
    path = urlsplit(link).path

    done = _choose(client, path)

    assert done.status_code == 303
    assert done.headers["location"] == "/login?reset=1"
    assert _signs_in(client, owner, NEW_PASSWORD)
    assert not _signs_in(client, owner, PASSWORD)
    again = _choose(client, path, "yet-another-password-5")
    assert again.status_code == 422
    assert INVALID_LINK in again.text
    assert _signs_in(client, owner, NEW_PASSWORD)


def test_a_reset_signs_out_every_session(
    app: Any, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)
    with TestClient(app) as elsewhere, TestClient(app) as browser:
        login(elsewhere, owner)
        assert elsewhere.get("/settings/tokens", follow_redirects=False).status_code == 200
        path = urlsplit(_reset_link(capsys, owner.email)).path
        assert _choose(browser, path).status_code == 303
        assert elsewhere.get("/settings/tokens", follow_redirects=False).status_code == 303


def test_the_link_expires(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    owner = make_org(db)
    with db.unit_of_work() as session:
        _user, secret = service.request_password_reset(
            session, owner.email, settings=settings, clock=clock
        )
    clock.advance(timedelta(minutes=settings.reset_token_minutes))

    response = _choose(client, f"/reset/{secret}")

    assert response.status_code == 422
    assert INVALID_LINK in response.text
    assert _signs_in(client, owner, PASSWORD)


def test_the_link_works_until_it_expires(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    owner = make_org(db)
    with db.unit_of_work() as session:
        _user, secret = service.request_password_reset(
            session, owner.email, settings=settings, clock=clock
        )
    clock.advance(timedelta(minutes=settings.reset_token_minutes) - timedelta(seconds=1))

    assert _choose(client, f"/reset/{secret}").status_code == 303
    assert _signs_in(client, owner, NEW_PASSWORD)


def test_a_reset_unlocks_a_locked_account(
    client: TestClient, db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)
    for _ in range(settings.login_max_failures):
        _signs_in(client, owner, "wrong-wrong-wrong")
    assert not _signs_in(client, owner, PASSWORD)

    assert _choose(client, urlsplit(_reset_link(capsys, owner.email)).path).status_code == 303

    assert _signs_in(client, owner, NEW_PASSWORD)


def test_a_forged_link_is_refused(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    response = _choose(client, "/reset/forged-secret-value")
    assert response.status_code == 422
    assert INVALID_LINK in response.text
    assert _signs_in(client, owner, PASSWORD)


def test_mismatched_passwords_are_refused_and_the_link_stays_usable(
    client: TestClient, db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)
    path = urlsplit(_reset_link(capsys, owner.email)).path
    form = client.get(path)
    refused = client.post(
        path,
        data={
            "password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD + "x",
            "csrf_token": csrf_from(form.text),
        },
    )
    assert refused.status_code == 422
    assert "differ" in refused.text
    assert _choose(client, path).status_code == 303


def test_an_unknown_email_fails_with_one_line(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    make_org(db)
    capsys.readouterr()
    assert main(["users", "reset-password", "nobody@nowhere.example"]) != 0
    captured = capsys.readouterr()
    assert "/reset/" not in captured.out
    assert "Traceback" not in captured.err
    assert "nobody@nowhere.example" in captured.err


def test_the_link_is_emailed_when_smtp_is_set(
    client: TestClient, db: Database, smtp_inbox: SmtpInbox, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)

    link = _reset_link(capsys, owner.email)

    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert mail["To"] == owner.email
    assert mail["From"] == "noreply@groundswell.example"
    assert "password" in mail["Subject"].lower()
    body = mail.get_payload(decode=True)
    assert isinstance(body, bytes)
    assert link in body.decode()
    assert _choose(client, urlsplit(link).path).status_code == 303
