"""`groundswell governance ...`."""

from __future__ import annotations

import typer

governance_app = typer.Typer(help="Governance.", no_args_is_help=True)
