"""Running the Alembic migrations shipped inside the package."""

from __future__ import annotations

import re

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# Full-text objects are written by hand per dialect (SQLite FTS5 virtual tables and their
# shadow tables; PostgreSQL expression GIN indexes named *_search): no model describes them.
_FULL_TEXT = re.compile(r"(_fts(_[a-z]+)?|_search)$")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    """Autogenerate (and the models-match-migrations test) ignore the full-text objects."""
    return not (type_ in ("table", "index") and name is not None and _FULL_TEXT.search(name))


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "groundswell:migrations")
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def is_at_head(engine: Engine) -> bool:
    return current_revision(engine) == head_revision(str(engine.url))
