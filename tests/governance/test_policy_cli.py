"""`groundswell policy ...` with a data dir: `check` uses the organization's current policy
when the database is initialized and the starter policy otherwise (no server, no database
needed), keeping its contract (exit 1 blocked, 0 otherwise, 2 usage); `versions`, `diff`,
`import` read and write the stored versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from groundswell.cli import main
from groundswell.governance.policy import dump_policy, starter_policy
from groundswell.governance.policy_tables import PolicyVersion
from groundswell.identity.domain import Role
from groundswell.kernel import migrate
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import make_org, make_user

Capture = pytest.CaptureFixture[str]


def run(args: list[str], capsys: Capture) -> tuple[int, str, str]:
    code = main(["policy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def policy_file(tmp_path: Path, term: str) -> Path:
    data = json.loads(dump_policy(starter_policy()))
    data["rules"].append(
        {
            "id": "confidentiality.codename",
            "kind": "terms",
            "guideline": "confidentiality",
            "severity": "block",
            "message": "“{match}” is a code name.",
            "terms": [term],
        }
    )
    path = tmp_path / f"policy-{term}.json"
    path.write_text(json.dumps(data))
    return path


def test_without_a_data_dir_the_starter_policy_applies_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    empty = tmp_path / "nowhere"
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(empty))
    monkeypatch.delenv("GROUNDSWELL_DATABASE_URL", raising=False)
    code, out, err = run(["check", "--text", "Shit happens", "--json"], capsys)
    assert code == 1
    assert json.loads(out)["findings"][0]["rule"] == "respect.profanity"
    assert err == ""
    code, out, _ = run(["check", "--text", "zorblax launches", "--json"], capsys)
    assert (code, json.loads(out)) == (0, {"findings": [], "blocked": False})
    assert not empty.exists()  # checking never creates a data dir or a database
    code, _, err = run(["check"], capsys)
    assert code == 2
    assert "exactly one of --text" in err


def test_an_initialized_data_dir_uses_the_organizations_current_policy(
    settings: Settings, db: Database, tmp_path: Path, capsys: Capture
) -> None:
    # initialized but without an organization yet: the starter policy
    code, out, _ = run(["check", "--text", "zorblax launches", "--json"], capsys)
    assert (code, json.loads(out)["blocked"]) == (0, False)
    owner = make_org(db)
    code, out, err = run(["check", "--text", "zorblax launches"], capsys)
    assert code == 0
    assert "the starter policy (unchanged)" in err

    imported = policy_file(tmp_path, "zorblax")
    code, out, _ = run(["import", str(imported), "--note", "Zorblax is secret"], capsys)
    assert code == 0
    assert out.strip() == "Saved policy version 1.1."

    code, out, err = run(["check", "--text", "zorblax launches", "--json"], capsys)
    assert code == 1
    assert json.loads(out) == {
        "findings": [
            {
                "rule": "confidentiality.codename",
                "severity": "block",
                "start": 0,
                "end": 7,
                "message": "“zorblax” is a code name.",
            }
        ],
        "blocked": True,
    }
    assert err == ""
    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        json.dumps({"id": "a", "text": "all good"}) + "\n" + json.dumps({"text": "ZORBLAX"}) + "\n"
    )
    code, out, _ = run(["check", "--in", str(jsonl), "--json"], capsys)
    assert code == 1
    assert [json.loads(line)["blocked"] for line in out.splitlines()] == [False, True]
    # --policy still wins over the organization's policy
    starter = tmp_path / "starter.json"
    starter.write_text(dump_policy(starter_policy()))
    code, out, _ = run(["check", "--text", "zorblax", "--policy", str(starter), "--json"], capsys)
    assert (code, json.loads(out)["blocked"]) == (0, False)
    code, out, err = run(["check", "--text", "zorblax"], capsys)
    assert code == 1
    assert "the organization's policy, version 1.1" in err
    assert out.startswith("#1: BLOCKED")
    code, out, _ = run(["show"], capsys)
    assert json.loads(out)["version"] == "1.1.0"
    # usage errors stay 2, never 1
    code, _, err = run(["check", "--text", "x", "--as", "nobody@example.org"], capsys)
    assert code == 2
    assert "No active user" in err
    assert owner.email


def test_versions_diff_and_import_permissions(
    settings: Settings, db: Database, tmp_path: Path, capsys: Capture
) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    code, out, _ = run(["versions"], capsys)
    assert (code, out.strip()) == (0, "No saved versions: the starter policy applies.")
    run(["import", str(policy_file(tmp_path, "zorblax")), "--note", "first"], capsys)
    code, out, _ = run(
        ["import", str(policy_file(tmp_path, "quuxly")), "--note", "second", "--major", "--json"],
        capsys,
    )
    assert (code, json.loads(out)) == (0, {"version": "2.0", "major": True})
    code, out, _ = run(["versions", "--json"], capsys)
    rows = json.loads(out)
    assert [(r["version"], r["author"], r["note"], r["current"]) for r in rows] == [
        ("2.0", owner.email, "second", True),
        ("1.1", owner.email, "first", False),
    ]
    code, out, _ = run(["diff", "1.1", "2.0"], capsys)
    assert code == 0
    assert out.splitlines() == ["1.1 -> 2.0", "~ rule confidentiality.codename: terms"]
    code, out, _ = run(["diff", "starter", "1.1", "--json"], capsys)
    assert json.loads(out)["changes"][0]["op"] == "added"
    code, _, err = run(["diff", "1.1", "9.9"], capsys)
    assert code != 0
    assert "No policy version '9.9'" in err
    code, _, err = run(
        ["import", str(policy_file(tmp_path, "frob")), "--note", "mine", "--as", agent.email],
        capsys,
    )
    assert code != 0
    assert "policy" in err
    code, _, err = run(["import", str(policy_file(tmp_path, "frob"))], capsys)
    assert code == 2  # --note is required
    with db.reader() as session:
        assert len(session.scalars(select(PolicyVersion)).all()) == 2


def test_a_database_behind_the_migrations_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture
) -> None:
    url = f"sqlite:///{tmp_path / 'groundswell.db'}"
    migrate.upgrade(url, "810c1c56689f")  # the first migration only
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GROUNDSWELL_DATABASE_URL", url)
    code, _, err = run(["check", "--text", "hello"], capsys)
    assert code == 2
    assert "groundswell migrate" in err
