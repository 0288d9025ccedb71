"""`groundswell triage`: triage a JSONL or CSV file of posts into JSON lines (public contract).

Streaming: input is read in batches of ``--batch-size`` lines and each batch's output is
written before more input is read than the bounded number of batches in flight, so memory
stays flat whatever the file size. Small inputs run in this process (fast start); a file of
`EAGER_POOL_BYTES` or more, or stdin past two batches, goes to worker processes (one per CPU,
at most `MAX_WORKERS`) that each hold the model set; results are written in input order.

Exit status: 0 when every line was good, 3 when some were bad (each bad line yields
``{"id"?, "line": n, "error": ...}`` in its place and a message on stderr), 2 on usage errors.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Annotated, BinaryIO, NamedTuple, TextIO

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from groundswell.kernel.errors import GroundswellError
from groundswell.triage.domain import PriorityWeights

FORMATS = ("jsonl", "csv")
MODELS = ("default", "embeddings")
DEFAULT_BATCH_SIZE = 1024
MAX_WORKERS = 8
# Files at least this big start worker processes up front (about 8 batches of tweets).
EAGER_POOL_BYTES = 1 << 20
# Batches read ahead per worker: enough to keep workers busy while the parent writes, few
# enough that memory does not grow with the file.
IN_FLIGHT_PER_WORKER = 2
# Bad-line messages printed on stderr before the rest are only counted.
MAX_ERROR_MESSAGES = 50
EXIT_OK = 0
EXIT_USAGE = 2
EXIT_BAD_LINES = 3


# One encoder for all lines: json.dumps with options builds a new encoder on every call.
_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode
_decode_json = json.JSONDecoder().decode


class UsageError(Exception):
    """A bad option value or unreadable input: one line on stderr, exit 2."""


# --- the work of one batch (runs in a worker or in this process) ---------------------------


@dataclass(frozen=True)
class Job:
    """Options every batch needs; sent to workers once."""

    text_field: str
    id_field: str
    model: str
    weights: PriorityWeights


class Item(NamedTuple):
    """One input record: its line number and either a text or the reason it is bad."""

    line: int
    has_id: bool
    id: object
    text: str | None
    error: str | None


@dataclass(frozen=True)
class BatchResult:
    output: str  # JSON lines, each ending in "\n"
    errors: list[str]  # "line n: reason" messages
    good: int
    bad: int


def _parse_jsonl_line(raw: bytes, line: int, job: Job) -> Item | None:
    """None for blank lines (not records); an `Item` otherwise."""
    if not raw.strip():
        return None
    try:
        # What json.loads does with bytes, minus its encoding sniffing for the usual line:
        # one that starts with "{" and no 0 byte after it is UTF-8 by that sniffing too.
        if raw[:1] == b"{" and raw[1:2] != b"\0":
            obj = _decode_json(raw.decode("utf-8", "surrogatepass"))
        else:
            obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return Item(line, False, None, None, f"not JSON ({exc.msg} at column {exc.colno})")
    except ValueError:  # UnicodeDecodeError and other undecodable bytes
        return Item(line, False, None, None, "not JSON (not valid UTF-8 text)")
    if not isinstance(obj, dict):
        return Item(line, False, None, None, "not a JSON object")
    has_id = job.id_field in obj
    id_ = obj.get(job.id_field)
    if job.text_field not in obj:
        return Item(line, has_id, id_, None, f"no {job.text_field!r} field")
    text = obj[job.text_field]
    if not isinstance(text, str):
        return Item(line, has_id, id_, None, f"{job.text_field!r} is not a string")
    return Item(line, has_id, id_, text, None)


def _run_items(items: list[Item], job: Job) -> BatchResult:
    from groundswell.triage.models import load_model_set
    from groundswell.triage.service import analyse_batch, json_lines

    good_items = [it for it in items if it.text is not None]
    texts = [it.text for it in good_items if it.text is not None]
    good_lines: dict[int, str] = {}
    if texts:
        columns = analyse_batch(load_model_set(job.model), texts, weights=job.weights)
        dumped = json_lines(columns, [it.id for it in good_items])
        good_lines = {it.line: line for it, line in zip(good_items, dumped, strict=True)}
    out: list[str] = []
    errors: list[str] = []
    for it in items:
        if it.error is None:
            out.append(good_lines[it.line])
            continue
        bad: dict[str, object] = {"id": it.id} if it.has_id else {}
        bad["line"] = it.line
        bad["error"] = it.error
        out.append(_encode(bad))
        errors.append(f"line {it.line}: {it.error}")
    out.append("")
    return BatchResult("\n".join(out), errors, len(good_items), len(items) - len(good_items))


def run_jsonl_batch(lines: list[bytes], first_line: int, job: Job) -> BatchResult:
    """Parse and triage raw JSONL lines numbered from ``first_line``."""
    items = []
    for offset, raw in enumerate(lines):
        item = _parse_jsonl_line(raw, first_line + offset, job)
        if item is not None:
            items.append(item)
    return _run_items(items, job)


def run_item_batch(items: list[Item], job: Job) -> BatchResult:
    """Triage already-parsed records (CSV rows)."""
    return _run_items(items, job)


# --- worker processes ------------------------------------------------------------------------

_worker_job: Job | None = None


def _init_worker(job: Job) -> None:
    from threadpoolctl import threadpool_limits

    from groundswell.triage.models import load_model_set

    global _worker_job
    _worker_job = job
    # The pool is the parallelism: a worker's BLAS threads would only spin against the other
    # workers for the cores (measured: a third more CPU time on 2 cores).
    threadpool_limits(1)
    load_model_set(job.model)  # a no-op when inherited through fork


def _worker_jsonl(lines: list[bytes], first_line: int) -> BatchResult:
    assert _worker_job is not None
    return run_jsonl_batch(lines, first_line, _worker_job)


def _worker_items(items: list[Item]) -> BatchResult:
    assert _worker_job is not None
    return run_item_batch(items, _worker_job)


def worker_count() -> int:
    """One worker per usable CPU, at most `MAX_WORKERS`."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(MAX_WORKERS, cpus))


# --- reading input ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Batch:
    jsonl: tuple[list[bytes], int] | None
    items: list[Item] | None
    size_bytes: int


def _jsonl_batches(stream: BinaryIO, batch_size: int) -> Iterator[Batch]:
    line = 1
    while True:
        lines = list(islice(stream, batch_size))
        if not lines:
            return
        yield Batch((lines, line), None, sum(len(x) for x in lines))
        line += len(lines)


def _csv_batches(stream: BinaryIO, batch_size: int, job: Job) -> Iterator[Batch]:
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text)
    header = next(reader, None)
    if header is None:
        return
    if job.text_field not in header:
        raise UsageError(f"CSV header has no {job.text_field!r} column (header: {header})")
    text_col = header.index(job.text_field)
    id_col = header.index(job.id_field) if job.id_field in header else None
    batch: list[Item] = []
    start = reader.line_num + 1
    consumed = _position(stream)
    for row in reader:
        line, start = start, reader.line_num + 1
        if not row:
            continue
        has_id = id_col is not None and id_col < len(row)
        id_ = row[id_col] if has_id and id_col is not None else None
        if text_col >= len(row):
            batch.append(Item(line, has_id, id_, None, f"no {job.text_field!r} field"))
        else:
            batch.append(Item(line, has_id, id_, row[text_col], None))
        if len(batch) >= batch_size:
            now = _position(stream)
            yield Batch(None, batch, now - consumed)
            batch, consumed = [], now
    if batch:
        yield Batch(None, batch, _position(stream) - consumed)


def _position(stream: BinaryIO) -> int:
    """Bytes consumed so far (read-ahead included), 0 where the stream cannot tell."""
    try:
        return stream.tell()
    except OSError:
        return 0


# --- the run ---------------------------------------------------------------------------------


@dataclass
class Totals:
    good: int = 0
    bad: int = 0
    messages: int = 0


def _report(result: BatchResult, out: TextIO, err: Console, totals: Totals) -> None:
    out.write(result.output)
    totals.good += result.good
    totals.bad += result.bad
    for message in result.errors:
        if totals.messages < MAX_ERROR_MESSAGES:
            err.print(f"warning: {message}", highlight=False, markup=False, soft_wrap=True)
        totals.messages += 1


def _submit(pool: ProcessPoolExecutor, batch: Batch) -> Future[BatchResult]:
    if batch.jsonl is not None:
        return pool.submit(_worker_jsonl, *batch.jsonl)
    assert batch.items is not None
    return pool.submit(_worker_items, batch.items)


def _run_here(batch: Batch, job: Job) -> BatchResult:
    if batch.jsonl is not None:
        return run_jsonl_batch(*batch.jsonl, job)
    assert batch.items is not None
    return run_item_batch(batch.items, job)


def pool_for(job: Job, workers: int) -> ProcessPoolExecutor:
    """A started pool of ``workers`` processes holding the model set of ``job``."""
    # fork shares the already loaded model set with workers (copy-on-write) and starts them in
    # milliseconds; elsewhere workers load it themselves.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_init_worker, initargs=(job,)
    )
    # The first submit starts the workers; do it now, before any progress-bar thread runs.
    pool.submit(os.getpid).result()
    return pool


def process(
    batches: Iterable[Batch],
    job: Job,
    out: TextIO,
    err: Console,
    *,
    on_batch: Callable[[Batch], None] | None = None,
    pool: ProcessPoolExecutor | None = None,
    workers: int | None = None,
    lazy_pool: bool = True,
) -> Totals:
    """Triage every batch, writing output in input order; returns the line counts.

    With ``pool`` given (of ``workers`` processes), every batch goes to it and the caller shuts
    it down. Otherwise, with ``lazy_pool``, the first two batches run here and a pool of
    ``workers`` (default `worker_count`) takes over from the third, so small inputs never pay
    for starting processes; without, everything runs here.
    """
    totals = Totals()
    workers = worker_count() if workers is None else workers
    pending: deque[Future[BatchResult]] = deque()
    own_pool: ProcessPoolExecutor | None = None
    try:
        for index, batch in enumerate(batches):
            if lazy_pool and pool is None and own_pool is None and index >= 2 and workers > 1:
                own_pool = pool_for(job, workers)
            target = pool or own_pool
            if target is None:
                _report(_run_here(batch, job), out, err, totals)
            else:
                while len(pending) >= workers * IN_FLIGHT_PER_WORKER:
                    _report(pending.popleft().result(), out, err, totals)
                pending.append(_submit(target, batch))
            if on_batch is not None:
                on_batch(batch)
        while pending:
            _report(pending.popleft().result(), out, err, totals)
    finally:
        if own_pool is not None:
            own_pool.shutdown(wait=True, cancel_futures=True)
    if totals.messages > MAX_ERROR_MESSAGES:
        err.print(
            f"warning: {totals.messages - MAX_ERROR_MESSAGES} more bad lines not shown",
            highlight=False,
        )
    return totals


def _validate(fmt: str, model: str, batch_size: int) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if model not in MODELS:
        raise UsageError(f"--model must be one of {', '.join(MODELS)}, not {model!r}")
    if batch_size < 1:
        raise UsageError(f"--batch-size must be at least 1, not {batch_size}")


def triage_command(
    in_: Annotated[
        str, typer.Option("--in", help="Input file, or - for stdin.", metavar="FILE|-")
    ] = "-",
    out_: Annotated[
        str, typer.Option("--out", help="Output file, or - for stdout.", metavar="FILE|-")
    ] = "-",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="Input format: jsonl or csv (default: csv for a .csv file, else jsonl).",
            metavar="jsonl|csv",
        ),
    ] = None,
    text_field: Annotated[str, typer.Option("--text-field", help="Field holding the text.")] = (
        "text"
    ),
    id_field: Annotated[
        str, typer.Option("--id-field", help="Field passed through as the output id.")
    ] = "id",
    model: Annotated[
        str, typer.Option("--model", help="Model set: default or embeddings.", metavar="NAME")
    ] = "default",
    # A string, parsed here, so that a bad value gets the same one-line error as the others.
    batch_size: Annotated[
        str, typer.Option("--batch-size", help="Posts per batch.", metavar="N")
    ] = str(DEFAULT_BATCH_SIZE),
) -> None:
    """Triage posts: one JSON object per input line, in input order.

    Reads JSONL (one object a line, "text" required, "id" optional) or CSV with a header.
    Bad lines become {"id"?, "line", "error"} and a stderr message; exit 3 if any, else 0.
    """
    # The models (numpy, scipy) load only when the command runs, not when the root CLI starts.
    from groundswell.triage.models import ModelUnavailable

    err = Console(stderr=True)
    try:
        code = _triage(in_, out_, fmt, text_field, id_field, model, batch_size, err)
    except (UsageError, ModelUnavailable, GroundswellError) as exc:
        message = getattr(exc, "message", None) or str(exc)
        err.print(f"error: {message}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(EXIT_USAGE) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(EXIT_OK) from None
    raise typer.Exit(code)


def _triage(
    in_: str,
    out_: str,
    fmt: str | None,
    text_field: str,
    id_field: str,
    model: str,
    batch_size_text: str,
    err: Console,
) -> int:
    from groundswell.triage.models import load_model_set
    from groundswell.triage.service import configured_weights

    try:
        batch_size = int(batch_size_text)
    except ValueError:
        raise UsageError(f"--batch-size must be a whole number, not {batch_size_text!r}") from None
    if fmt is None:
        fmt = "csv" if in_ != "-" and in_.lower().endswith(".csv") else "jsonl"
    _validate(fmt, model, batch_size)
    with ExitStack() as stack:
        source: BinaryIO = sys.stdin.buffer
        size = 0
        if in_ != "-":
            path = Path(in_)
            if not path.is_file():
                raise UsageError(f"--in {in_}: no such file")
            try:
                source = stack.enter_context(path.open("rb"))
            except OSError as exc:
                raise UsageError(f"--in {in_}: {exc.strerror}") from exc
            size = path.stat().st_size
        job = Job(text_field, id_field, model, configured_weights())
        # Load before reading input: a missing extra is a usage error before any output, and
        # forked workers inherit the loaded set.
        load_model_set(model)
        sink: TextIO = sys.stdout
        if out_ != "-":
            try:
                sink = stack.enter_context(Path(out_).open("w", encoding="utf-8", newline="\n"))
            except OSError as exc:
                raise UsageError(f"--out {out_}: {exc.strerror}") from exc
        batches = (
            _jsonl_batches(source, batch_size)
            if fmt == "jsonl"
            else _csv_batches(source, batch_size, job)
        )
        totals = _run_with_progress(batches, job, sink, err, size, show=in_ != "-")
        sink.flush()
    return EXIT_BAD_LINES if totals.bad else EXIT_OK


def _run_with_progress(
    batches: Iterable[Batch], job: Job, sink: TextIO, err: Console, size: int, *, show: bool
) -> Totals:
    if not show:
        return process(batches, job, sink, err)
    workers = worker_count()
    # A file big enough for workers gets them before the progress bar starts its thread.
    pool = pool_for(job, workers) if size >= EAGER_POOL_BYTES and workers > 1 else None
    progress = Progress(
        TextColumn("triage"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    )
    task = progress.add_task("triage", total=size or None)
    position = 0

    def advance(batch: Batch) -> None:
        nonlocal position
        position += batch.size_bytes
        progress.update(task, completed=position)

    try:
        with progress:
            return process(
                batches,
                job,
                sink,
                progress.console,
                on_batch=advance,
                pool=pool,
                workers=workers,
                lazy_pool=False,  # no fork once the progress thread runs
            )
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def register(app: typer.Typer) -> None:
    """Add the ``triage`` command to the root ``groundswell`` app."""
    app.command("triage")(triage_command)


def standalone_app() -> typer.Typer:
    """An app holding only ``triage``, for the launcher's fast start (same command, same
    contract). The empty callback keeps the ``triage`` word as a subcommand name."""
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)

    @app.callback()
    def _root() -> None:
        pass

    register(app)
    return app
