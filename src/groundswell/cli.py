"""The root `groundswell` command. Each room adds its sub-app here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from groundswell import __version__
from groundswell.care.cli import care_app
from groundswell.crisis.cli import crisis_app
from groundswell.demo import seed
from groundswell.governance.accounts_cli import accounts_app, vault_app
from groundswell.governance.cli import governance_app, policy_app
from groundswell.governance.vault import ensure_key as ensure_vault_key
from groundswell.identity import service as identity_service
from groundswell.identity.cli import audit_app, read_password, tokens_app, users_app
from groundswell.kernel import migrate as migrations
from groundswell.kernel.cli_runner import run_app
from groundswell.kernel.console import open_database, out
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.handlers_index import import_all_handlers
from groundswell.kernel.settings import get_settings
from groundswell.listening.cli import listening_app
from groundswell.listening.sources_cli import run_worker
from groundswell.serve import run
from groundswell.triage.cli import register as register_triage

app = typer.Typer(
    name="groundswell",
    help="Groundswell: listen, answer, govern, co-create — as a social organization.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(audit_app, name="audit")
app.add_typer(governance_app, name="governance")
app.add_typer(policy_app, name="policy")  # the contract: `groundswell policy check`
app.add_typer(accounts_app, name="accounts")
app.add_typer(vault_app, name="vault")
app.add_typer(listening_app, name="listening")
app.add_typer(care_app, name="care")
app.add_typer(crisis_app, name="crisis")
register_triage(app)


def _version(value: bool) -> None:
    if value:
        out.print(f"groundswell {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir", envvar="GROUNDSWELL_DATA_DIR", help="Data folder (default ./data)."
        ),
    ] = None,
) -> None:
    if data_dir is not None:
        os.environ["GROUNDSWELL_DATA_DIR"] = str(data_dir)
    get_settings.cache_clear()
    import_all_handlers()


@app.command()
def init(
    email: Annotated[str | None, typer.Option(help="Email of the first owner.")] = None,
    password_file: Annotated[
        Path | None, typer.Option(help="File holding the owner's password (- for stdin).")
    ] = None,
    organization: Annotated[
        str, typer.Option("--organization", help="Name of the organization.")
    ] = "My organization",
) -> None:
    """Create the data folder, migrate the database and create the first owner."""
    settings = get_settings()
    db = open_database(settings, must_exist=False)
    migrations.upgrade(settings.database_url)
    ensure_vault_key(
        settings.data_dir
    )  # the credential vault's key lives beside the data, never in it
    with db.reader() as session:
        existing = identity_service.first_owner(session)
    if existing is not None:
        out.print(f"Already initialized: owner {existing.email}. Database at head.")
        return
    if email is None:
        if not sys.stdin.isatty():
            raise InvalidInput("No owner email given: pass --email and --password-file.")
        email = str(typer.prompt("Owner email"))
    password = read_password(password_file, "Owner password")
    with db.unit_of_work() as session:
        org, owner = identity_service.create_organization(
            session, organization, owner_email=email, owner_password=password
        )
    out.print(f"Initialized {org.name!r} with owner {owner.email}. Data in {settings.data_dir}.")
    out.print("Next: groundswell serve")


@app.command()
def migrate(
    revision: Annotated[str, typer.Option(help="Target revision (default: head).")] = "head",
    down: Annotated[bool, typer.Option("--down", help="Downgrade to --revision instead.")] = False,
) -> None:
    """Apply (or roll back) database migrations."""
    settings = get_settings()
    open_database(settings, must_exist=False)
    if down:
        migrations.downgrade(settings.database_url, revision)
    else:
        migrations.upgrade(settings.database_url, revision)
    out.print(f"Database at {'revision ' + revision if down else revision}.")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
) -> None:
    """Run the web app and API."""
    run(host, port)


@app.command()
def worker() -> None:
    """Run the listening sources, event deliveries and scheduled jobs until Ctrl+C."""
    run_worker()


@app.command()
def demo(
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Where to put the throwaway demo data.")
    ] = None,
    seed_only: Annotated[
        bool, typer.Option("--seed-only", help="Seed and stop; do not serve.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8000,
) -> None:
    """A throwaway organization with demo data from every room that exists, then serve it."""
    # --data-dir of the command, else the global one (or GROUNDSWELL_DATA_DIR), else ./demo-data.
    global_dir = os.environ.get("GROUNDSWELL_DATA_DIR")
    target = data_dir or (Path(global_dir) if global_dir else Path("./demo-data"))
    os.environ["GROUNDSWELL_DATA_DIR"] = str(target)
    os.environ.pop("GROUNDSWELL_DATABASE_URL", None)
    get_settings.cache_clear()
    login = seed(get_settings())
    out.print(f"Demo data in {target}.")
    out.print(f"Sign in at http://{host}:{port}/login as {login.email} / {login.password}")
    if not seed_only:
        run(host, port)


def main(argv: list[str] | None = None) -> int:
    """Entry point: user errors become one line on stderr and a non-zero exit, never a traceback."""
    return run_app(app, argv)


def run_main() -> None:
    sys.exit(main())
