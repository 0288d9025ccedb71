"""Shared pieces of the command line: stderr console, JSON output, the database of the
current settings."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from groundswell.kernel.db import Database
from groundswell.kernel.errors import NotReady
from groundswell.kernel.migrate import current_revision
from groundswell.kernel.settings import Settings, get_settings

# soft_wrap: never break a line that a script reads (links, tokens, error messages) at the
# terminal width; Rich would otherwise wrap at 80 columns when output is not a terminal.
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def safe_url(url: str) -> str:
    """The database URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparseable URL is shown as nothing rather than risk a secret
        return "(the configured database)"


def open_database(settings: Settings | None = None, *, must_exist: bool = True) -> Database:
    """The database of the current settings. Commands that need an initialized database
    (all but init, migrate, demo and serve) get a one-line NotReady instead of a traceback
    when there is none yet, or when it cannot be reached."""
    settings = settings or get_settings()
    if settings.is_sqlite:
        path = Path(make_url(settings.database_url).database or "")
        if must_exist and not path.exists():
            raise NotReady(
                f"No Groundswell database in {settings.data_dir}. "
                "Run `groundswell init`, or pass --data-dir (or GROUNDSWELL_DATA_DIR)."
            )
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.database_url)
    if must_exist:
        try:
            revision = current_revision(db.read_engine)
        except DBAPIError as exc:
            db.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise NotReady(f"Cannot reach {safe_url(settings.database_url)}: {reason}") from exc
        if revision is None:
            db.dispose()
            raise NotReady(
                f"{safe_url(settings.database_url)} has no Groundswell tables yet. "
                "Run `groundswell init` (or `groundswell migrate`)."
            )
    return db
