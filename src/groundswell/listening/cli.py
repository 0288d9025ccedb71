"""`groundswell listening ...`."""

from __future__ import annotations

import typer

listening_app = typer.Typer(help="Listening.", no_args_is_help=True)
