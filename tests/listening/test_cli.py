"""`groundswell listening match`: the public contract, round trips through the real CLI."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from groundswell.cli import main
from groundswell.listening.cli import MAX_LINE_MESSAGES

Capture = pytest.CaptureFixture[str]

POSTS: list[dict[str, Any]] = [
    {"id": "1", "text": "I want a REFUND from Café Delta", "lang": "en"},
    {"id": 2, "text": "nothing to see"},
    {"id": "3", "text": "refunds please", "author": {"handle": "Bob", "followers": 5000}},
    {"id": "4", "text": "Rückerstattung bitte #refund", "lang": "de", "source": "mastodon"},
    {"id": "5", "text": "link https://t.co/x refund", "author": "alice", "followers": 3},
]


def _write(path: Path, lines: list[str | bytes]) -> Path:
    with path.open("wb") as f:
        for line in lines:
            f.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    return _write(tmp_path / "posts.jsonl", [json.dumps(p) for p in POSTS])


@pytest.mark.parametrize(
    ("query", "ids"),
    [
        ("refund", ["1", "4", "5"]),
        ("refund*", ["1", "3", "4", "5"]),
        ("cafe delta", ["1"]),
        ("#refund OR author:bob", ["3", "4"]),
        ("refund* NOT has:link", ["1", "3", "4"]),
        ("followers:>=5000", ["3"]),
        ("lang:de source:mastodon", ["4"]),
        ("NOT refund*", ["2"]),
        ("zebra", []),
    ],
)
def test_match_prints_ids_in_input_order(
    posts_file: Path, capsys: Capture, query: str, ids: list[str]
) -> None:
    assert main(["listening", "match", "--query", query, "--in", str(posts_file)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ids
    assert captured.err == ""


def test_bad_query_exits_2_with_column_and_caret(posts_file: Path, capsys: Capture) -> None:
    code = main(["listening", "match", "--query", "refund AND", "--in", str(posts_file)])
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: bad query at column 11: the query ends after AND: it needs a term after it\n"
        "  refund AND\n"
        "            ^\n"
    )


def test_query_text_is_not_read_as_markup(posts_file: Path, capsys: Capture) -> None:
    assert main(["listening", "match", "-q", "[/bold] (", "--in", str(posts_file)]) == 2
    assert "[/bold] (" in capsys.readouterr().err


def test_bad_lines_are_named_skipped_and_exit_3(tmp_path: Path, capsys: Capture) -> None:
    lines: list[str | bytes] = [
        json.dumps(POSTS[0]),
        "{broken",
        "",
        b'{"id": "x", "text": "refund \xff"}',
        '{"id": "y"}',
        json.dumps({"id": "6", "text": "refund again"}),
    ]
    path = _write(tmp_path / "mixed.jsonl", lines)
    assert main(["listening", "match", "--query", "refund", "--in", str(path)]) == 3
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["1", "6"]
    err = captured.err.splitlines()
    assert err[0].startswith("line 2: not valid JSON")
    assert err[1].startswith("line 4: not valid UTF-8")
    assert err[2] == "line 5: text: Field required"
    assert err[3] == "3 bad lines skipped"


def test_a_flood_of_bad_lines_is_counted_not_listed(tmp_path: Path, capsys: Capture) -> None:
    path = _write(tmp_path / "bad.jsonl", ["nope"] * (MAX_LINE_MESSAGES + 5))
    assert main(["listening", "match", "--query", "x", "--in", str(path)]) == 3
    err = capsys.readouterr().err.splitlines()
    assert len(err) == MAX_LINE_MESSAGES + 1
    assert err[-1] == f"{MAX_LINE_MESSAGES + 5} bad lines skipped (5 not shown)"


def test_byte_order_mark_and_blank_lines(tmp_path: Path, capsys: Capture) -> None:
    path = tmp_path / "bom.jsonl"
    path.write_bytes(
        b'\xef\xbb\xbf{"id": "a", "text": "cafe"}\n\n  \n{"id": "b", "text": "Caf\xc3\xa9"}'
    )
    assert main(["listening", "match", "--query", "café", "--in", str(path)]) == 0
    assert capsys.readouterr().out == "a\nb\n"


def test_stdin_with_dash(
    posts_file: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(posts_file.read_bytes())))
    assert main(["listening", "match", "--query", "refund*", "--in", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == ["1", "3", "4", "5"]


def test_missing_file_and_missing_options_exit_2(tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "none.jsonl"
    assert main(["listening", "match", "--query", "x", "--in", str(missing)]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err
    assert main(["listening", "match", "--query", "x"]) == 2
    assert main(["listening", "match", "--in", str(missing)]) == 2


def test_round_trip_through_a_real_process(posts_file: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "groundswell", "listening", "match", "-q", "refund", "--in", "-"],
        input=posts_file.read_bytes(),
        capture_output=True,
        check=False,
    )
    assert (run.returncode, run.stdout, run.stderr) == (0, b"1\n4\n5\n", b"")
    run = subprocess.run(
        [sys.executable, "-m", "groundswell", "listening", "match", "-q", "(", "--in", "-"],
        input=b"",
        capture_output=True,
        check=False,
    )
    assert run.returncode == 2
    assert run.stderr.decode().splitlines()[-1] == "   ^"


def test_a_reader_that_stops_early_is_not_an_error(tmp_path: Path) -> None:
    many = _write(
        tmp_path / "many.jsonl", [json.dumps({"id": i, "text": "x"}) for i in range(200_000)]
    )
    with subprocess.Popen(
        [sys.executable, "-m", "groundswell", "listening", "match", "-q", "x", "--in", str(many)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert proc.stdout.readline() == b"0\n"
        proc.stdout.close()
        err = proc.stderr.read()
        assert proc.wait() == 0
    assert b"Traceback" not in err
