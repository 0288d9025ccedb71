"""Alembic environment. The URL comes from the Config (set by groundswell.kernel.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from groundswell.kernel.db import Base
from groundswell.kernel.migrate import include_object
from groundswell.kernel.tables_index import import_all_tables

import_all_tables()
config = context.config
url = config.get_main_option("sqlalchemy.url") or ""
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is None:
        engine = create_engine(url, poolclass=pool.NullPool)
        with engine.connect() as connection:
            _run(connection)
        engine.dispose()
    else:
        _run(connectable)


def _run(connection) -> None:  # type: ignore[no-untyped-def]  # alembic's Connection is untyped here
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
