"""`groundswell listening sources add|list|pause|resume|remove` and the `groundswell worker`
loop (public contract, see docs/listening.md). Commands act for the first owner's
organization (`cli_actor`).

Secret values never come from the command line (shell history, process list): ``--secret
KEY`` names one, and its value is read from ``--secrets-file`` (``KEY=VALUE`` lines; ``-``
for standard input), else prompted without echo, else read a line each from standard input.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from groundswell.governance.vault import Vault
from groundswell.identity.cli import cli_actor
from groundswell.kernel import migrate as migrations
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import err, open_database
from groundswell.kernel.errors import InvalidInput, NotReady
from groundswell.kernel.jobs_index import import_all_jobs
from groundswell.kernel.settings import get_settings
from groundswell.listening import sources
from groundswell.listening.worker import RunnerConfig, Worker

sources_app = typer.Typer(help="Configured sources (connector instances).", no_args_is_help=True)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _pairs(values: list[str], what: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"{what} must look like KEY=VALUE, not {value!r}.")
        found[key.strip()] = rest
    return found


def _read_secrets(keys: list[str], secrets_file: Path | None) -> dict[str, str]:
    if not keys:
        if secrets_file is not None:
            raise InvalidInput("--secrets-file given without --secret KEY.")
        return {}
    if secrets_file is not None:
        try:
            text = sys.stdin.read() if str(secrets_file) == "-" else secrets_file.read_text()
        except OSError as exc:
            raise InvalidInput(f"Cannot read {secrets_file}: {exc.strerror or exc}.") from exc
        # Never echo the line: it may hold a secret.
        lines = [line for line in text.splitlines() if line.strip()]
        given: dict[str, str] = {}
        for number, line in enumerate(lines, start=1):
            key, sep, value = line.partition("=")
            if not sep:
                raise InvalidInput(f"Line {number} of the secrets file is not KEY=VALUE.")
            given[key.strip()] = value
        missing = [k for k in keys if k not in given]
        if missing:
            raise InvalidInput(f"The secrets file has no {', '.join(missing)}.")
        return {k: given[k] for k in keys}
    if sys.stdin.isatty():
        return {k: str(typer.prompt(k, hide_input=True)) for k in keys}
    values = {k: sys.stdin.readline().rstrip("\n") for k in keys}
    empty = [k for k, v in values.items() if not v]
    if empty:
        raise InvalidInput(f"No value for {', '.join(empty)} on standard input.")
    return values


@sources_app.command("add")
def add_command(
    name: Annotated[str, typer.Argument(help="Source name, stored on its mentions.")],
    connector: Annotated[str, typer.Option("--connector", help="Connector name.")],
    option: Annotated[
        list[str] | None, typer.Option("--option", help="KEY=VALUE setting (repeatable).")
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", help="Name of a credential to read (repeatable; never a value)."),
    ] = None,
    secrets_file: Annotated[
        Path | None,
        typer.Option("--secrets-file", help="KEY=VALUE lines holding the secrets (- for stdin)."),
    ] = None,
) -> None:
    """Configure a source; the worker starts reading it at once (it is active)."""
    options = _pairs(option or [], "--option")
    secrets = _read_secrets(secret or [], secrets_file)
    settings = get_settings()
    db = open_database(settings)
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        actor = cli_actor(session, None)
        row = sources.add_source(
            session,
            actor,
            vault,
            name=name,
            connector=connector,
            options=options,
            secrets=secrets,
            clock=SystemClock(),
        )
        source_id = row.id
    db.dispose()
    _say(f"added source {name} ({source_id})")


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


@sources_app.command("list")
def list_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Sources by name with their health: status, last fetch, errors in a row, waits, lag."""
    db = open_database()
    with db.reader() as session:
        views = [sources.view(r) for r in sources.list_sources(session, cli_actor(session, None))]
    db.dispose()
    if as_json:
        _say(json.dumps([v.as_dict() for v in views], ensure_ascii=False))
        return
    if not views:
        _say("No sources yet. Add one: groundswell listening sources add NAME --connector C")
        return
    for v in views:
        lag = f"{v.lag_seconds:.0f}s" if v.lag_seconds is not None else "-"
        error = " ".join((v.last_error or "-").split())[:80]
        _say(
            f"{v.name}\t{v.connector}\t{v.status}\tlast fetch {_when(v.last_fetch_at)}\t"
            f"stored {v.stored_count}\tlag {lag}\terrors {v.error_count}\t"
            f"wait until {_when(v.wait_until)}\t{error}"
        )


def _change(name: str, verb: str) -> None:
    db = open_database()
    clock = SystemClock()
    with db.unit_of_work() as session:
        actor = cli_actor(session, None)
        if verb == "paused":
            sources.pause(session, actor, name, clock=clock)
        elif verb == "resumed":
            sources.resume(session, actor, name, clock=clock)
        else:
            sources.remove(session, actor, name, clock=clock)
    db.dispose()
    _say(f"{verb} source {name}")


@sources_app.command("pause")
def pause_command(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Stop reading the source; its cursor is kept."""
    _change(name, "paused")


@sources_app.command("resume")
def resume_command(name: Annotated[str, typer.Argument(help="Source name or id.")]) -> None:
    """Read the source again from its cursor, now."""
    _change(name, "resumed")


@sources_app.command("remove")
def remove_command(
    name: Annotated[str, typer.Argument(help="Source name or id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete the source and its credentials (its mentions stay)."""
    if not yes and sys.stdin.isatty() and not typer.confirm(f"Remove source {name}?"):
        raise typer.Abort()
    _change(name, "removed")


def run_worker() -> None:
    """`groundswell worker`: the active sources, outbox deliveries and scheduled jobs until
    Ctrl+C or SIGTERM; the batch being stored finishes first."""
    settings = get_settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(name)s %(message)s")
    db = open_database(settings)
    if not migrations.is_at_head(db.write_engine):
        raise NotReady("The database is not at the latest migration. Run `groundswell migrate`.")
    import_all_jobs()
    runner = Worker(
        db,
        Vault.open(settings.data_dir),
        config=RunnerConfig(
            queue_size=settings.listening_queue_batches,
            poll_seconds=settings.listening_poll_seconds,
        ),
    )
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        err.print("Stopping after the batch in progress...")
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    err.print("Groundswell worker: listening sources, event deliveries, jobs (Ctrl+C to stop)")
    try:
        runner.run(stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        db.dispose()
    err.print("Worker stopped.")
