"""`groundswell crisis ...`.

``backtest`` (public contract, docs/crisis.md): replays a JSONL file of posts through the spike
detector as if live. Exit status: 0 when every line was read, 3 when some lines (or all) could
not be read (each is listed on stderr; the rest are processed and their alerts printed), 2 on
usage errors (bad option, unreadable file).
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated, Any, Final

import typer
from pydantic import ValidationError
from rich.table import Table

from groundswell.crisis import incidents_cli
from groundswell.crisis.backtest import BadLine, parse_bucket, replay
from groundswell.crisis.domain import DetectorConfig
from groundswell.kernel.console import err, out
from groundswell.kernel.errors import InvalidInput

crisis_app = typer.Typer(
    help="Crisis: spike detection, backtests, incidents, crisis mode, drills.",
    no_args_is_help=True,
)
crisis_app.command("detect")(incidents_cli.detect)
crisis_app.add_typer(incidents_cli.incidents_app, name="incidents")
crisis_app.add_typer(incidents_cli.mode_app, name="mode")
crisis_app.add_typer(incidents_cli.drill_app, name="drill")

EXIT_BAD_LINES: Final = 3
# Bad lines named one by one on stderr before the rest are only counted.
MAX_BAD_LINES_SHOWN: Final = 50

_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _report_bad(bad: list[BadLine], lines: int) -> None:
    for item in bad[:MAX_BAD_LINES_SHOWN]:
        err.print(f"line {item.line}: {item.reason}", highlight=False, markup=False, soft_wrap=True)
    if len(bad) > MAX_BAD_LINES_SHOWN:
        err.print(f"… and {len(bad) - MAX_BAD_LINES_SHOWN} more bad lines", highlight=False)
    err.print(
        f"[bold red]error:[/] {len(bad)} of {lines} lines could not be read (listed above); "
        f"the other {lines - len(bad)} were processed.",
        highlight=False,
        soft_wrap=True,
    )


def _table(rows: list[dict[str, Any]]) -> Table:
    table = Table(title=f"{len(rows)} alert(s)")
    for name in ("at", "topic", "metric", "observed", "expected", "score", "why"):
        table.add_column(name, overflow="fold")
    for r in rows:
        terms = ", ".join(t["term"] for t in r["why"]["terms"])
        why = r["why"]["summary"] + (f"; terms: {terms}" if terms else "")
        table.add_row(
            r["at"],
            "(all)" if r["topic"] is None else str(r["topic"]),
            r["metric"],
            str(r["observed"]),
            str(r["expected"]),
            str(r["score"]),
            why,
        )
    return table


def _open_input(path: Path, stack: ExitStack) -> IO[bytes]:
    if str(path) == "-":
        # The replay reads its input twice; standard input is spooled to a temporary file.
        spool = stack.enter_context(tempfile.TemporaryFile())  # noqa: SIM115 (the stack closes it)
        shutil.copyfileobj(sys.stdin.buffer, spool)
        spool.seek(0)
        return spool
    try:
        return stack.enter_context(path.open("rb"))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None


@crisis_app.command()
def backtest(
    input_path: Annotated[
        Path, typer.Option("--in", help="JSONL file of posts, in any order (- for stdin).")
    ],
    bucket: Annotated[
        str, typer.Option("--bucket", help="Bucket length: 1m, 5m, 15m, 1h… (divides 1 h).")
    ] = "5m",
    sensitivity: Annotated[
        float,
        typer.Option(
            "--sensitivity",
            help="Multiplies the tolerated false-alarm rate: 2 = more alerts, 0.5 = fewer.",
        ),
    ] = 1.0,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help="JSON lines even on a terminal (pipes and files always get them)."
        ),
    ] = False,
) -> None:
    """Replay posts through the spike detector as if live; one JSON object per alert."""
    try:
        config = DetectorConfig(bucket_seconds=parse_bucket(bucket), sensitivity=sensitivity)
    except ValueError as exc:
        reason = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise InvalidInput(f"bad option: {reason}") from None
    table = not as_json and sys.stdout.isatty()
    rows: list[dict[str, Any]] = []

    def emit(record: dict[str, Any]) -> None:
        if table:
            rows.append(record)
        else:
            sys.stdout.write(_encode(record) + "\n")
            sys.stdout.flush()

    with ExitStack() as stack:
        summary = replay(_open_input(input_path, stack), config, emit)
    if table:
        out.print(_table(rows))
    if summary.bad:
        _report_bad(summary.bad, summary.lines)
        raise typer.Exit(EXIT_BAD_LINES)
