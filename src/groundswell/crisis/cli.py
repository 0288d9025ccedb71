"""`groundswell crisis ...`."""

from __future__ import annotations

import typer

crisis_app = typer.Typer(help="Crisis.", no_args_is_help=True)
