"""Shared pieces of the command line: stderr console, JSON output, the database of the
current settings."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console

from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings, get_settings

# soft_wrap: never break a line that a script reads (links, tokens, error messages) at the
# terminal width; Rich would otherwise wrap at 80 columns when output is not a terminal.
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")


def open_database(settings: Settings | None = None) -> Database:
    settings = settings or get_settings()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Database(settings.database_url)
