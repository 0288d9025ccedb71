"""`groundswell listening ...`.

``listening match --query Q --in FILE.jsonl`` (public contract, see ``docs/queries.md``):
prints the ``id`` of each post the query matches, one a line, in input order. ``--in -``
reads standard input. Exit status: 0 when every line was a post; 2 on a bad query (the error,
with column and caret, on stderr) or an unreadable file; 3 when some lines were not posts
(each named on stderr, the good lines still matched).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, BinaryIO, NoReturn

import typer

from groundswell.connectors.fake import ScenarioError, generate, load_scenario
from groundswell.listening.domain import Document, QuerySyntaxError
from groundswell.listening.query import compile_query
from groundswell.listening.schemas import BadPost, post_from_json

listening_app = typer.Typer(help="Listening.", no_args_is_help=True)

EXIT_USAGE = 2
EXIT_BAD_LINES = 3
# Bad-line messages printed before the rest are only counted, so a wrong file cannot flood
# the terminal.
MAX_LINE_MESSAGES = 100


@listening_app.command("match")
def match(
    query: Annotated[str, typer.Option("--query", "-q", help="The listening query.")],
    source: Annotated[
        str,
        typer.Option("--in", help="JSONL file of posts (id, text, ...); - for standard input."),
    ],
) -> None:
    """Print the id of each post in a JSONL file that the query matches, in input order."""
    try:
        compiled = compile_query(query)
    except QuerySyntaxError as exc:
        _fail(f"error: {exc.message}", EXIT_USAGE)
    bad = 0
    out = sys.stdout
    try:
        with ExitStack() as stack:
            stream = _open(source, stack)
            for line_no, raw in _lines(stream):
                try:
                    post = post_from_json(raw)
                except BadPost as exc:
                    bad += 1
                    if bad <= MAX_LINE_MESSAGES:
                        sys.stderr.write(f"line {line_no}: {exc}\n")
                    continue
                if compiled.matches(Document.from_post(post)):
                    out.write(f"{post.id}\n")
        out.flush()
    except BrokenPipeError:  # the reader (head, grep -m 1) has all it wants
        _quiet_broken_pipe()
    if bad:
        more = f" ({bad - MAX_LINE_MESSAGES} not shown)" if bad > MAX_LINE_MESSAGES else ""
        _fail(f"{bad} bad line{'s' if bad != 1 else ''} skipped{more}", EXIT_BAD_LINES)


@listening_app.command("fake")
def fake(
    start: Annotated[str, typer.Option("--start", help="First instant, ISO 8601 with offset.")],
    hours: Annotated[float, typer.Option("--hours", min=0, help="Length of the window.")],
    scenario: Annotated[
        str, typer.Option("--scenario", help="Scenario file (.toml/.json) or bundled name.")
    ] = "demo",
    seed: Annotated[
        int | None, typer.Option("--seed", help="Seed (default: the scenario's).")
    ] = None,
) -> None:
    """Print the posts a fake-connector scenario generates in a window, as files-format JSONL."""
    try:
        begin = datetime.fromisoformat(start)
    except ValueError:
        _fail(f"error: --start is not ISO 8601: {start!r}", EXIT_USAGE)
    if begin.tzinfo is None:
        _fail("error: --start needs a UTC offset (e.g. 2026-11-02T09:00:00Z)", EXIT_USAGE)
    try:
        loaded = load_scenario(scenario)
    except (ScenarioError, OSError) as exc:
        _fail(f"error: scenario {scenario}: {exc}", EXIT_USAGE)
    out = sys.stdout
    try:
        for post in generate(loaded, begin, begin + timedelta(hours=hours), seed=seed):
            out.write(json.dumps(post, ensure_ascii=False) + "\n")
        out.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()


def _open(source: str, stack: ExitStack) -> BinaryIO:
    if source == "-":
        return sys.stdin.buffer
    path = Path(source)
    try:
        return stack.enter_context(path.open("rb"))
    except OSError as exc:
        _fail(f"error: cannot read {source}: {exc.strerror or exc}", EXIT_USAGE)


def _lines(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Numbered non-blank lines (1-based); a UTF-8 byte order mark on the first is dropped."""
    for line_no, raw in enumerate(stream, start=1):
        if line_no == 1 and raw.startswith(b"\xef\xbb\xbf"):
            raw = raw[3:]
        if raw.strip():
            yield line_no, raw


def _fail(message: str, code: int) -> NoReturn:
    # Written directly: the message holds the query, which Rich would read as markup and wrap.
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    raise typer.Exit(code)


def _quiet_broken_pipe() -> NoReturn:
    # Point stdout at devnull so the interpreter's final flush does not raise again.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    raise typer.Exit(0)


from groundswell.listening.ingest_cli import register as _register_ingest  # noqa: E402

_register_ingest(listening_app)
