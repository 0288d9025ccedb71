"""`groundswell accounts ...` and `groundswell vault ...`: the brand-account registry."""

from __future__ import annotations

import typer

accounts_app = typer.Typer(help="Brand accounts the organization owns.", no_args_is_help=True)
vault_app = typer.Typer(help="The encrypted credential vault.", no_args_is_help=True)
