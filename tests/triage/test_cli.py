"""`groundswell triage`: round trips, bad lines, exit codes, CSV, order, ids, worker processes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from groundswell.triage import cli as triage_cli
from groundswell.triage.cli import Job, process, register, run_jsonl_batch
from groundswell.triage.service import configured_weights

OUTPUT_KEYS = [
    "id",
    "language",
    "sentiment",
    "intents",
    "labels",
    "emotion",
    "offensive",
    "hate",
    "irony",
    "personal_data",
    "priority",
    "why",
]
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def root() -> None:
        """Root callback so that `triage` stays a sub-command, as in the real app."""

    return app


def invoke(app: typer.Typer, args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["triage", *args], input=stdin)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def lines_of(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def jsonl(*objs: object) -> str:
    return "".join(json.dumps(o) + "\n" for o in objs)


def test_all_good_lines_exit_0_with_ids_and_order(app: typer.Typer, tmp_path: Path) -> None:
    posts = [{"id": f"p{i}", "text": f"post number {i} is great", "extra": i} for i in range(7)]
    posts.append({"text": "no id here"})
    src = tmp_path / "in.jsonl"
    src.write_text(jsonl(*posts))
    code, out, _ = invoke(app, ["--in", str(src)])
    assert code == 0
    rows = lines_of(out)
    assert [r["id"] for r in rows] == [*(f"p{i}" for i in range(7)), None]
    for row in rows:
        assert list(row) == OUTPUT_KEYS
        sentiment = row["sentiment"]
        assert isinstance(sentiment, dict)
        assert sentiment["label"] in ("negative", "neutral", "positive")
        assert set(sentiment["scores"]) == {"negative", "neutral", "positive"}
        assert isinstance(row["priority"], int)
        assert 0 <= row["priority"] <= 100


def test_bad_lines_are_reported_in_place_and_exit_3(app: typer.Typer) -> None:
    stdin = (
        jsonl({"id": 1, "text": "fine"})
        + "not json\n"
        + jsonl({"id": 3})
        + jsonl({"id": 4, "text": 12})
        + jsonl(["a", "list"])
        + jsonl({"id": 6, "text": "also fine"})
    )
    code, out, err = invoke(app, [], stdin=stdin)
    assert code == 3
    rows = lines_of(out)
    assert len(rows) == 6
    assert rows[0]["id"] == 1
    assert "priority" in rows[0]
    assert set(rows[1]) == {"line", "error"}
    assert rows[1]["line"] == 2
    assert rows[2] == {"id": 3, "line": 3, "error": "no 'text' field"}
    assert rows[3] == {"id": 4, "line": 4, "error": "'text' is not a string"}
    assert rows[4] == {"line": 5, "error": "not a JSON object"}
    assert rows[5]["id"] == 6
    assert "line 2: not JSON (Expecting value at column 1)" in err
    assert "line 4: 'text' is not a string" in err


def test_invalid_utf8_is_a_bad_line(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["triage"], input=b'{"text": "caf\xe9"}\n')
    assert result.exit_code == 3
    assert lines_of(result.stdout) == [{"line": 1, "error": "not JSON (not valid UTF-8 text)"}]


def test_blank_lines_are_skipped_but_counted(app: typer.Typer) -> None:
    code, out, _ = invoke(app, [], stdin=jsonl({"id": 1, "text": "a"}) + "\n   \n" + "oops\n")
    assert code == 3
    rows = lines_of(out)
    assert rows[0]["id"] == 1
    assert rows[1]["line"] == 4


def test_custom_fields_and_output_file(app: typer.Typer, tmp_path: Path) -> None:
    out_file = tmp_path / "out.jsonl"
    stdin = jsonl({"key": 7, "body": "thanks!"}, {"key": 8, "body": "worst ever"})
    args = ["--text-field", "body", "--id-field", "key", "--out", str(out_file)]
    code, out, _ = invoke(app, args, stdin=stdin)
    assert code == 0
    assert out == ""
    assert [r["id"] for r in lines_of(out_file.read_text())] == [7, 8]


def test_csv_input(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "posts.csv"
    src.write_text(
        'id,text,author\n1,"hello, world",a\n2,"multi\nline post",b\n3\n4,call +44 20 7946 0958,c\n'
    )
    code, out, err = invoke(app, ["--in", str(src)])
    assert code == 3
    rows = lines_of(out)
    assert [r["id"] for r in rows] == ["1", "2", "3", "4"]
    assert rows[2] == {"id": "3", "line": 5, "error": "no 'text' field"}
    assert rows[3]["personal_data"] == [{"type": "phone", "start": 5, "end": 21}]
    assert "line 5" in err


def test_csv_format_option_on_stdin(app: typer.Typer) -> None:
    code, out, _ = invoke(app, ["--format", "csv"], stdin="text\nhi there\n")
    assert code == 0
    assert lines_of(out)[0]["id"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format must be one of jsonl, csv"),
        (["--model", "huge"], "--model must be one of default, embeddings"),
        (["--batch-size", "0"], "--batch-size must be at least 1"),
        (["--batch-size", "ten"], "--batch-size must be a whole number"),
        (["--in", "/no/such/file.jsonl"], "no such file"),
    ],
)
def test_usage_errors_exit_2_with_one_line(app: typer.Typer, args: list[str], message: str) -> None:
    code, out, err = invoke(app, args, stdin="")
    assert code == 2
    assert out == ""
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


def test_csv_without_text_column_is_a_usage_error(app: typer.Typer) -> None:
    code, _, err = invoke(app, ["--format", "csv"], stdin="id,body\n1,hi\n")
    assert code == 2
    assert "no 'text' column" in err


def test_bad_priority_weights_setting_is_a_usage_error(
    app: typer.Typer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from groundswell.kernel.settings import get_settings

    monkeypatch.setenv("GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS", '{"reech": 2}')
    get_settings.cache_clear()
    try:
        code, _, err = invoke(app, [], stdin=jsonl({"text": "x"}))
    finally:
        monkeypatch.delenv("GROUNDSWELL_TRIAGE_PRIORITY_WEIGHTS")
        get_settings.cache_clear()
    assert code == 2
    assert "unknown triage priority weight(s): reech" in err


def test_worker_processes_keep_input_order() -> None:
    # Tiny batches so that the third batch onwards goes to two worker processes.
    job = Job("text", "id", "default", configured_weights())
    lines = [json.dumps({"id": i, "text": f"post {i}" if i % 5 else 7}).encode() for i in range(40)]
    batches = triage_cli._jsonl_batches(io.BytesIO(b"\n".join(lines) + b"\n"), 3)
    out = io.StringIO()
    totals = process(batches, job, out, Console(file=io.StringIO()), workers=2)
    rows = lines_of(out.getvalue())
    assert [r["id"] for r in rows] == list(range(40))
    assert totals.bad == 8
    assert totals.good == 32
    # Same bytes as running everything in this process.
    here = run_jsonl_batch(lines, 1, job).output
    assert out.getvalue() == here


def test_error_messages_are_capped(app: typer.Typer) -> None:
    code, out, err = invoke(app, [], stdin="x\n" * (triage_cli.MAX_ERROR_MESSAGES + 5))
    assert code == 3
    assert len(out.splitlines()) == triage_cli.MAX_ERROR_MESSAGES + 5
    assert "5 more bad lines not shown" in err


def test_python_m_groundswell_triage_round_trip(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(jsonl({"id": "a", "text": "my card 4111 1111 1111 1111 got charged twice"}))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "groundswell", "triage", "--in", str(src)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (row,) = lines_of(done.stdout)
    assert row["id"] == "a"
    assert row["personal_data"] == [{"type": "payment_card", "start": 8, "end": 27}]


def test_big_file_goes_to_workers_with_progress(
    app: typer.Typer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Lower the size threshold so that a small file takes the eager worker-pool path.
    monkeypatch.setattr(triage_cli, "EAGER_POOL_BYTES", 1)
    monkeypatch.setattr(triage_cli, "worker_count", lambda: 2)
    src = tmp_path / "in.jsonl"
    src.write_text(jsonl(*({"id": i, "text": f"number {i}, worst"} for i in range(50))))
    code, out, _ = invoke(app, ["--in", str(src), "--batch-size", "4"])
    assert code == 0
    assert [r["id"] for r in lines_of(out)] == list(range(50))


def test_batches_in_flight_stay_bounded() -> None:
    # Flat memory: the reader may run ahead of the writer by the in-flight limit only.
    job = Job("text", "id", "default", configured_weights())
    workers = 2
    limit = workers * triage_cli.IN_FLIGHT_PER_WORKER
    written = io.StringIO()
    ahead: list[int] = []
    lines = [json.dumps({"id": i, "text": "hello"}).encode() for i in range(60)]

    def batches() -> Iterator[triage_cli.Batch]:
        for n, batch in enumerate(triage_cli._jsonl_batches(io.BytesIO(b"\n".join(lines)), 2)):
            done = len(written.getvalue().splitlines()) // 2
            ahead.append(n - done)
            yield batch

    process(batches(), job, written, Console(file=io.StringIO()), workers=workers)
    assert len(written.getvalue().splitlines()) == 60
    assert max(ahead) <= limit + 1


def test_models_load_in_a_process_without_sockets(tmp_path: Path) -> None:
    script = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise OSError('network used')\n"
        "class NoSocket(socket.socket):\n"  # a class, so that ssl can still subclass it
        "    def __init__(self, *a, **k):\n"
        "        refuse()\n"
        "socket.socket = NoSocket\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "from groundswell.triage import triage\n"
        "print(triage(['the app keeps crashing, fix it'])[0].sentiment.label)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in ("negative", "neutral", "positive")


def test_embeddings_model_runs_or_is_a_usage_error(app: typer.Typer) -> None:
    from groundswell.triage import models

    try:
        models.load_model_set("embeddings")
    except models.ModelUnavailable:
        available = False
    else:
        available = True
    code, out, err = invoke(app, ["--model", "embeddings"], stdin=jsonl({"id": 1, "text": "hi"}))
    if available:
        assert code == 0
        assert lines_of(out)[0]["id"] == 1
    else:
        assert code == 2
        assert out == ""
        assert len(err.strip().splitlines()) == 1


def test_a_worker_keeps_its_blas_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # The pool is the parallelism; BLAS threads in each worker would spin against the others.
    import threadpoolctl

    calls: list[object] = []
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda limits: calls.append(limits))
    monkeypatch.setattr(triage_cli, "_worker_job", None)
    triage_cli._init_worker(Job("text", "id", "default", configured_weights()))
    assert calls == [1]
    assert triage_cli._worker_job is not None
