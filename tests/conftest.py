"""Shared fixtures. Tests run against the database named by GROUNDSWELL_TEST_DATABASE_URL
(PostgreSQL in CI), or a fresh SQLite file per test. The schema is always built by running
the migrations."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, make_url, text

from groundswell.app import create_app
from groundswell.kernel import migrate
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Base, Database
from groundswell.kernel.settings import Settings, get_settings
from groundswell.kernel.tables_index import import_all_tables

pytest_plugins = ["tests.browser", "tests.smtp"]


def _worker_url(url: str) -> str:
    """Under pytest-xdist each worker gets its own PostgreSQL database, `<name>_<worker>`
    (created on first use, on the same server), since every test resets the schema."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).scalar()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_url(os.environ.get("GROUNDSWELL_TEST_DATABASE_URL", ""))


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _empty_postgres(url: str) -> None:
    """Empty the tables the previous test wrote to, and rewind the sequences it advanced.
    Truncating only those (found with one probe) instead of all ~50 tables makes the reset
    take milliseconds instead of most of a second."""
    import_all_tables()
    tables = [t.name for t in Base.metadata.sorted_tables]
    probe = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM \"{name}\")" for name in tables
    )
    engine = create_engine(url)
    with engine.begin() as conn:
        used = [row[0] for row in conn.execute(text(probe))]
        if used:
            # The audit log refuses TRUNCATE by trigger; tests reset it as the database owner.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            names = ", ".join(f'"{name}"' for name in used)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        advanced = conn.execute(
            text(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        ).scalars()
        for sequence in advanced:
            conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
    engine.dispose()


@pytest.fixture(scope="session")
def template_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite template file, or the PostgreSQL test database."""
    if PG_URL:
        _reset_postgres(PG_URL)
        migrate.upgrade(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    return url


@pytest.fixture
def database_url(template_url: str, tmp_path: Path) -> str:
    if PG_URL:
        _empty_postgres(PG_URL)
        return PG_URL
    source = Path(template_url.removeprefix("sqlite:///"))
    target = tmp_path / "groundswell.db"
    shutil.copyfile(source, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GROUNDSWELL_DATABASE_URL", database_url)
    get_settings.cache_clear()
    return Settings(data_dir=tmp_path, database_url=database_url)


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> FastAPI:
    return create_app(settings, clock=clock, db=db)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://testserver") as c:
        yield c


@pytest.fixture(autouse=True)
def _clear_settings_cache() -> Iterator[None]:
    yield
    get_settings.cache_clear()


def pytest_report_header() -> str:
    return f"groundswell test database: {'PostgreSQL ' + PG_URL if PG_URL else 'SQLite (a file per test)'}"
