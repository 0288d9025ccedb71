"""Migrations upgrade and downgrade cleanly, and the models match the migrated schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from groundswell.kernel import migrate
from groundswell.kernel.db import Base
from groundswell.kernel.tables_index import import_all_tables


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    engine = create_engine(database_url)
    assert migrate.is_at_head(engine)
    migrate.downgrade(database_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(database_url)
    assert migrate.is_at_head(engine)
    assert {"audit_log", "user_account", "api_token", "outbox_event"} <= set(
        inspect(engine).get_table_names()
    )
    engine.dispose()


def test_models_match_migrations(database_url: str) -> None:
    import_all_tables()
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(
                conn, opts={"compare_type": False, "include_object": migrate.include_object}
            ),
            Base.metadata,
        )
    engine.dispose()
    assert diff == [], f"models and migrations differ; write a migration: {diff}"
