"""Input no column can hold that a route forgot to refuse answers 422 problem+json, never
500: an integer beyond 64 bits on SQLite, a NUL character in text on PostgreSQL."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from groundswell.kernel.db import Database


def test_storage_errors_from_bad_input_are_422(app: FastAPI, db: Database) -> None:
    sqlite = db.write_engine.dialect.name == "sqlite"
    value: object = 2**70 if sqlite else "nul\x00inside"

    @app.get("/api/v1/_test/unstorable")
    def unstorable() -> dict[str, str]:
        with db.reader() as session:
            stored = session.execute(text("SELECT :v"), {"v": value}).scalar_one()
        return {"v": str(stored)}

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/_test/unstorable")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "NUL characters" in response.json()["detail"]
