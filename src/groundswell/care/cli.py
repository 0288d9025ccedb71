"""`groundswell care ...`."""

from __future__ import annotations

import typer

care_app = typer.Typer(help="Care.", no_args_is_help=True)
