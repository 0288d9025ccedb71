"""`groundswell listening import|queries|search|quarantine`: the public contract, round trips
through the real CLI (`groundswell.cli.main`) on the test database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundswell.cli import main
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import Person, make_org

Capture = pytest.CaptureFixture[str]

POSTS = [
    {"id": "1", "text": "I want a refund now", "created_at": "2026-11-01T10:00:00Z"},
    {"id": "2", "text": "where is my parcel", "created_at": "2026-11-02T10:00:00Z"},
    {"id": "3", "text": "refund for my parcel please", "created_at": "2026-11-03T10:00:00Z"},
]


@pytest.fixture
def owner(db: Database, settings: Settings) -> Person:
    return make_org(db)


@pytest.fixture
def posts_file(tmp_path: Path) -> Path:
    path = tmp_path / "posts.jsonl"
    lines = [json.dumps(p) for p in POSTS] + ['{"id": "4", "text": ""}', "{broken"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def cli(capsys: Capture, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_import_json_summary_is_the_only_stdout_line(
    owner: Person, posts_file: Path, capsys: Capture
) -> None:
    code, out, _ = cli(capsys, "listening", "import", "--in", str(posts_file), "--json")
    assert code == 0
    assert out.count("\n") == 1
    assert json.loads(out) == {"read": 5, "stored": 3, "duplicates": 0, "quarantined": 2}
    code, out, _ = cli(capsys, "listening", "import", "--in", str(posts_file), "--json")
    assert json.loads(out) == {"read": 5, "stored": 0, "duplicates": 3, "quarantined": 2}


def test_import_readable_summary_and_source(
    owner: Person, posts_file: Path, capsys: Capture
) -> None:
    code, out, _ = cli(capsys, "listening", "import", "--in", str(posts_file), "--source", "x")
    assert code == 0
    assert out.strip() == "read 5, stored 3, duplicates 0, quarantined 2"
    code, out, _ = cli(capsys, "listening", "search", "parcel", "--json")
    assert {m["source"] for m in json.loads(out)} == {"x"}


def test_import_csv(owner: Person, tmp_path: Path, capsys: Capture) -> None:
    path = tmp_path / "posts.csv"
    path.write_text('id,text,author\n1,"hello, refund",ana\n2,,bob\n', encoding="utf-8")
    code, out, _ = cli(capsys, "listening", "import", "--in", str(path), "--json")
    assert code == 0
    assert json.loads(out) == {"read": 2, "stored": 1, "duplicates": 0, "quarantined": 1}


def test_import_missing_file_exits_2(owner: Person, tmp_path: Path, capsys: Capture) -> None:
    code, out, err = cli(capsys, "listening", "import", "--in", str(tmp_path / "no.jsonl"))
    assert code == 2
    assert out == ""
    assert "Cannot read" in err


def test_queries_add_list_test(owner: Person, posts_file: Path, capsys: Capture) -> None:
    cli(capsys, "listening", "import", "--in", str(posts_file), "--json")
    code, out, _ = cli(
        capsys, "listening", "queries", "add", "--name", "refunds", "--topic", "billing",
        "--query", "refund*",
    )  # fmt: skip
    assert code == 0
    assert "refunds" in out
    code, out, _ = cli(capsys, "listening", "queries", "list", "--json")
    [saved] = json.loads(out)
    assert (saved["name"], saved["topic"], saved["query"], saved["active"]) == (
        "refunds",
        "billing",
        "refund*",
        True,
    )
    code, out, _ = cli(capsys, "listening", "queries", "list")
    assert out.strip() == "refunds\tbilling\trefund*"
    code, out, _ = cli(capsys, "listening", "queries", "test", "--query", "refund AND parcel")
    assert (code, out) == (0, "3\n")
    code, out, _ = cli(capsys, "listening", "queries", "test", "--query", "refund OR parcel")
    assert out.split() == ["1", "2", "3"]


def test_queries_add_refuses_bad_query_and_duplicate_name(owner: Person, capsys: Capture) -> None:
    code, _, err = cli(
        capsys, "listening", "queries", "add", "--name", "q", "--topic", "t", "--query", "a AND",
    )  # fmt: skip
    assert code == 2
    assert err
    assert (
        cli(capsys, "listening", "queries", "add", "--name", "q", "--topic", "t", "--query", "a")[0]
        == 0
    )
    code, _, err = cli(
        capsys, "listening", "queries", "add", "--name", "q", "--topic", "t", "--query", "b",
    )  # fmt: skip
    assert code != 0
    assert "exists already" in err


def test_search(owner: Person, posts_file: Path, capsys: Capture) -> None:
    cli(capsys, "listening", "import", "--in", str(posts_file), "--json")
    code, out, _ = cli(capsys, "listening", "search", "refund", "--json")
    hits = json.loads(out)
    assert [h["external_id"] for h in hits] == ["3", "1"]
    assert set(hits[0]) >= {"id", "source", "external_id", "created_at", "text", "sentiment"}
    code, out, _ = cli(capsys, "listening", "search", "refund", "--limit", "1")
    assert code == 0
    assert out.count("\n") == 1
    assert out.startswith("files\t3\t")


def test_quarantine_list_retry_drop(owner: Person, posts_file: Path, capsys: Capture) -> None:
    cli(capsys, "listening", "import", "--in", str(posts_file), "--json")
    code, out, _ = cli(capsys, "listening", "quarantine", "list", "--json")
    rows = json.loads(out)
    assert [(r["reason"], r["position"], r["payload"]) for r in rows] == [
        ("empty_text", 4, '{"id": "4", "text": ""}'),
        ("invalid_json", 5, "{broken"),
    ]
    code, out, _ = cli(capsys, "listening", "quarantine", "list")
    assert out.splitlines()[0].split("\t")[1] == "empty_text"
    code, out, _ = cli(capsys, "listening", "quarantine", "retry", "--json")
    assert json.loads(out) == {"retried": 2, "stored": 0, "duplicates": 0, "still_quarantined": 2}
    code, out, _ = cli(capsys, "listening", "quarantine", "drop", str(rows[0]["id"]))
    assert (code, out.strip()) == (0, "dropped 1")
    code, _, err = cli(capsys, "listening", "quarantine", "drop", str(rows[0]["id"]))
    assert code != 0
    assert "No quarantined record" in err
    code, _, err = cli(capsys, "listening", "quarantine", "drop")
    assert code == 2
    assert "--all" in err
    code, out, _ = cli(capsys, "listening", "quarantine", "drop", "--all")
    assert out.strip() == "dropped 1"
    code, out, _ = cli(capsys, "listening", "quarantine", "list", "--json")
    assert json.loads(out) == []


def test_import_with_worker_processes(owner: Person, posts_file: Path, capsys: Capture) -> None:
    code, out, _ = cli(
        capsys, "listening", "import", "--in", str(posts_file), "--json", "--workers", "2"
    )
    assert code == 0
    assert json.loads(out) == {"read": 5, "stored": 3, "duplicates": 0, "quarantined": 2}
