"""The API surface: schemathesis finds no 5xx and every 4xx is problem+json; malformed JSON,
unknown fields and oversized bodies get a clear 4xx; health checks tell the truth."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

from groundswell.app import create_app
from groundswell.kernel import migrate
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import bearer, make_org, make_token

PROBLEM_JSON = "application/problem+json"
EXAMPLES_PER_OPERATION = 15


def _assert_problem(response: Any, status: int | None = None) -> dict[str, Any]:
    if status is not None:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == response.status_code
    assert body["title"]
    assert body["detail"]
    return body


def _operations(app: FastAPI) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # a broken operation in our own schema
        operations.append(result.ok())
    return operations


def test_the_openapi_document_lists_the_api(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    paths = doc.json()["paths"]
    assert {
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/tokens",
        "/api/v1/audit",
        "/healthz",
        "/readyz",
    } <= set(paths)
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_schemathesis_finds_no_server_error(
    app: FastAPI, db: Database, mode: GenerationMode
) -> None:
    """Every operation, valid and invalid inputs, signed in as an owner with every scope."""
    headers = bearer(make_token(db, make_org(db)))
    operations = _operations(app)
    assert len(operations) >= 8
    seen: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES_PER_OPERATION * len(operations),
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        operation = data.draw(st.sampled_from(operations))
        case = data.draw(operation.as_strategy(generation_mode=mode))
        response = case.call(headers=headers)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        where = f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}"
        assert response.status_code < 500, where
        if 400 <= response.status_code < 500:
            # schemathesis responses hold lower-cased header names and lists of values
            assert response.headers.get("content-type") == [PROBLEM_JSON], where
            assert response.json()["detail"], where

    check()
    print(f"schemathesis {mode}: responses by status {dict(sorted(seen.items()))}")
    assert sum(seen.values()) >= EXAMPLES_PER_OPERATION, seen


@pytest.fixture
def token(db: Database) -> str:
    return make_token(db, make_org(db))


def test_malformed_json_is_a_400_with_a_clear_message(client: TestClient, token: str) -> None:
    response = client.post(
        "/api/v1/tokens",
        content=b'{"name": "x",',
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    body = _assert_problem(response, 400)
    assert body["code"] == "malformed_json"
    assert "malformed JSON" in body["detail"]


def test_an_unknown_field_is_a_422_naming_it(client: TestClient, token: str) -> None:
    response = client.post(
        "/api/v1/tokens", json={"name": "x", "colour": "blue"}, headers=bearer(token)
    )
    body = _assert_problem(response, 422)
    assert "colour" in body["detail"]
    assert "unknown field" in body["detail"]
    assert {"field": "colour", "message": "unknown field"} in body["errors"]


def test_a_wrong_type_is_a_422_naming_the_field(client: TestClient, token: str) -> None:
    response = client.post(
        "/api/v1/tokens", json={"name": "x", "expires_in_days": "soon"}, headers=bearer(token)
    )
    body = _assert_problem(response, 422)
    assert "expires_in_days" in body["detail"]


def test_an_unknown_route_is_a_404_problem(client: TestClient) -> None:
    _assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_a_wrong_method_is_a_405_problem(client: TestClient, token: str) -> None:
    _assert_problem(client.put("/api/v1/me", headers=bearer(token)), 405)


@pytest.fixture
def small_limit_client(
    settings: Settings, db: Database, clock: FrozenClock
) -> Iterator[TestClient]:
    small = settings.model_copy(update={"max_body_bytes": 2048})
    with TestClient(create_app(small, clock=clock, db=db)) as client:
        yield client


def test_a_body_over_the_limit_is_a_413_problem(
    small_limit_client: TestClient, db: Database
) -> None:
    token = make_token(db, make_org(db))
    response = small_limit_client.post(
        "/api/v1/tokens", json={"name": "x" * 4096}, headers=bearer(token)
    )
    body = _assert_problem(response, 413)
    assert "2048 bytes" in body["detail"]
    names = [
        t["name"] for t in small_limit_client.get("/api/v1/tokens", headers=bearer(token)).json()
    ]
    assert names == ["test"]  # only the builder's token: nothing was created


@pytest.mark.parametrize(
    ("path", "content_type", "start", "end"),
    [
        ("/api/v1/tokens", "application/json", b'{"name": "', b'"}'),
        ("/login", "application/x-www-form-urlencoded", b"email=a%40b.example&password=", b""),
    ],
    ids=["api", "form"],
)
def test_a_chunked_body_over_the_limit_is_a_413_problem(
    small_limit_client: TestClient,
    db: Database,
    path: str,
    content_type: str,
    start: bytes,
    end: bytes,
) -> None:
    token = make_token(db, make_org(db))

    def chunks() -> Iterator[bytes]:
        yield start
        for _ in range(8):
            yield b"x" * 512
        yield end

    response = small_limit_client.post(
        path,
        content=chunks(),
        headers={**bearer(token), "Content-Type": content_type},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    body = _assert_problem(response, 413)
    assert "2048 bytes" in body["detail"]


def test_a_body_under_the_limit_is_served(small_limit_client: TestClient, db: Database) -> None:
    token = make_token(db, make_org(db))
    response = small_limit_client.post(
        "/api/v1/tokens", json={"name": "fits"}, headers=bearer(token)
    )
    assert response.status_code == 201


def test_a_form_over_the_limit_is_refused(small_limit_client: TestClient) -> None:
    response = small_limit_client.post(
        "/login", data={"email": "a@b.example", "password": "p" * 4096}
    )
    assert response.status_code == 413


def test_healthz_answers(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_503_when_migrations_are_pending(
    settings: Settings, tmp_path: Path, clock: FrozenClock
) -> None:
    """On a private SQLite database (also in PostgreSQL runs: the shared test database must
    stay at head), one migration behind."""
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    migrate.upgrade(url)
    migrate.downgrade(url, "-1")
    behind = Database(url)
    try:
        with TestClient(create_app(settings, clock=clock, db=behind)) as client:
            response = client.get("/readyz")
            assert response.status_code == 503
            assert "migrate" in response.json()["reason"]
            assert client.get("/healthz").status_code == 200
        migrate.upgrade(url)
        with TestClient(create_app(settings, clock=clock, db=behind)) as client:
            assert client.get("/readyz").status_code == 200
    finally:
        behind.dispose()


def test_readyz_is_503_when_the_database_is_unreachable(
    settings: Settings, clock: FrozenClock
) -> None:
    gone = Database("postgresql+psycopg://nobody@127.0.0.1:1/nothing?connect_timeout=1")
    try:
        with TestClient(create_app(settings, clock=clock, db=gone)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
    finally:
        gone.dispose()
