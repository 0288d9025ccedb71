"""Typed builders for test data. Each returns what a test needs to act as that person."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from fastapi.testclient import TestClient

from groundswell.identity import service
from groundswell.identity.domain import Role, Scope
from groundswell.identity.service import Actor
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database

PASSWORD = "a-long-test-password-42"
_counter = itertools.count(1)


@dataclass(frozen=True)
class Person:
    actor: Actor
    email: str
    password: str = PASSWORD


def make_org(db: Database, name: str = "Acme", clock: Clock | None = None) -> Person:
    n = next(_counter)
    with db.unit_of_work() as session:
        _org, owner = service.create_organization(
            session,
            name,
            owner_email=f"owner{n}@{name.lower()}.example",
            owner_password=PASSWORD,
            clock=clock,
        )
        return Person(service.actor_for_user(owner), owner.email)


def make_user(db: Database, owner: Person, role: Role, clock: Clock | None = None) -> Person:
    n = next(_counter)
    email = f"{role.value}{n}@example.org"
    with db.unit_of_work() as session:
        user = service.create_user(
            session,
            owner.actor,
            email=email,
            name=f"{role.value} {n}",
            role=role,
            password=PASSWORD,
            clock=clock,
        )
        return Person(service.actor_for_user(user), user.email)


def make_token(db: Database, person: Person, scopes: list[Scope] | None = None) -> str:
    with db.unit_of_work() as session:
        _token, secret = service.create_token(
            session,
            person.actor,
            name="test",
            scopes=scopes or [Scope.READ, Scope.WRITE, Scope.ADMIN],
        )
        return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def csrf_from(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def login(client: TestClient, person: Person) -> None:
    page = client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": person.email,
            "password": person.password,
            "csrf_token": csrf_from(page.text),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
