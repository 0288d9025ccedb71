"""Wrong passwords lock the account for a while, with a lock that doubles; the messages never
reveal whether an email has an account."""

from __future__ import annotations

import contextlib
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from httpx2 import Response

from groundswell.identity import service
from groundswell.identity.tables import User
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import NotAuthenticated
from groundswell.kernel.settings import Settings
from tests.builders import PASSWORD, csrf_from, make_org

WRONG = "definitely-not-the-password"
WRONG_MESSAGE = (
    "Email or password is wrong. After several failed attempts in a row an account is locked "
    "for a while; a reset link unlocks it."
)
# Locked or not, known email or not: one answer, so the lock reveals nothing.
LOCKED_MESSAGE = WRONG_MESSAGE


def _attempt(client: TestClient, email: str, password: str) -> Response:
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def _error_text(response: Response) -> str:
    match = re.search(r'id="login-error">([^<]*)<', response.text)
    assert match, response.text
    return match.group(1)


def _lock(client: TestClient, email: str, settings: Settings) -> None:
    for _ in range(settings.login_max_failures - 1):
        assert _attempt(client, email, WRONG).status_code == 401
    response = _attempt(client, email, WRONG)
    assert response.status_code == 401
    assert LOCKED_MESSAGE in _error_text(response)


def test_n_wrong_passwords_lock_the_account_until_the_lock_expires(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    owner = make_org(db)
    first_lock = timedelta(minutes=settings.login_lock_minutes)

    _lock(client, owner.email, settings)

    locked = _attempt(client, owner.email, PASSWORD)
    assert locked.status_code == 401
    assert LOCKED_MESSAGE in _error_text(locked)
    clock.advance(first_lock - timedelta(seconds=1))
    assert _attempt(client, owner.email, PASSWORD).status_code == 401
    clock.advance(timedelta(seconds=1))
    signed_in = _attempt(client, owner.email, PASSWORD)
    assert signed_in.status_code == 303
    assert signed_in.cookies.get("gs_session")


def test_the_lock_doubles_with_each_further_failure(
    client: TestClient, db: Database, settings: Settings, clock: FrozenClock
) -> None:
    owner = make_org(db)
    first_lock = timedelta(minutes=settings.login_lock_minutes)
    _lock(client, owner.email, settings)
    clock.advance(first_lock)

    # One more wrong password after the first lock: locked again, for twice as long.
    assert _attempt(client, owner.email, WRONG).status_code == 401
    clock.advance(2 * first_lock - timedelta(seconds=1))
    assert _attempt(client, owner.email, PASSWORD).status_code == 401
    clock.advance(timedelta(seconds=1))
    assert _attempt(client, owner.email, PASSWORD).status_code == 303


def test_a_successful_sign_in_resets_the_count(
    client: TestClient, db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    for _ in range(settings.login_max_failures - 1):
        assert _attempt(client, owner.email, WRONG).status_code == 401
    assert _attempt(client, owner.email, PASSWORD).status_code == 303
    client.cookies.clear()
    for _ in range(settings.login_max_failures - 1):
        assert _attempt(client, owner.email, WRONG).status_code == 401


def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)

    wrong_password = _attempt(client, owner.email, WRONG)
    unknown_email = _attempt(client, "nobody@nowhere.example", WRONG)

    assert wrong_password.status_code == unknown_email.status_code == 401
    assert _error_text(wrong_password) == _error_text(unknown_email) == WRONG_MESSAGE


def test_a_locked_account_does_not_confirm_the_password(
    client: TestClient, db: Database, settings: Settings
) -> None:
    """While locked, the right and a wrong password get the same answer: guessing on is useless."""
    owner = make_org(db)
    _lock(client, owner.email, settings)

    right = _attempt(client, owner.email, PASSWORD)
    wrong = _attempt(client, owner.email, WRONG)

    assert right.status_code == wrong.status_code == 401
    assert _error_text(right) == _error_text(wrong)


def test_the_lock_does_not_reveal_which_emails_have_accounts(
    client: TestClient, db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    attempts = settings.login_max_failures + 1
    real = [_attempt(client, owner.email, WRONG) for _ in range(attempts)]
    unknown = [_attempt(client, "nobody@nowhere.example", WRONG) for _ in range(attempts)]
    assert [r.status_code for r in real] == [r.status_code for r in unknown] == [401] * attempts
    assert {_error_text(r) for r in real + unknown} == {WRONG_MESSAGE}


def test_parallel_wrong_passwords_all_count(db: Database, settings: Settings) -> None:
    """A burst of guesses in parallel must not count as one (row lock on PostgreSQL, the single
    writer on SQLite)."""
    owner = make_org(db)
    with db.reader() as session:
        check = service.check_password(session, owner.email, WRONG)

    def guess(_: int) -> None:
        # NotAuthenticated is expected; the failure count still commits.
        with db.unit_of_work() as session, contextlib.suppress(NotAuthenticated):
            service.record_login(session, check, settings=settings)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(guess, range(6)))
    with db.reader() as session:
        user = session.get(User, owner.actor.user_id)
        assert user is not None
        assert user.failed_logins == 6


def test_a_hash_with_outdated_parameters_is_upgraded_at_sign_in(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with db.unit_of_work() as session:
        user = session.get(User, owner.actor.user_id)
        assert user is not None
        user.password_hash = weak
    assert _attempt(client, owner.email, PASSWORD).status_code == 303
    with db.reader() as session:
        user = session.get(User, owner.actor.user_id)
        assert user is not None
        assert user.password_hash != weak
        assert PasswordHasher().verify(user.password_hash, PASSWORD)
        assert not PasswordHasher().check_needs_rehash(user.password_hash)
