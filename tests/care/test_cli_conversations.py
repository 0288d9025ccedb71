"""`groundswell care conversations|teams|policies|rules ...` through the real root CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from groundswell.cli import main
from groundswell.identity.domain import Role
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import make_org, make_user
from tests.care.care_helpers import add_mention, take

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: Capture, *argv: str) -> Any:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def test_conversations_commands(db: Database, settings: Settings, capsys: Capture) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    mention = add_mention(db, owner.actor.organization_id, handle="@dora", created_at=NOW)
    message = take(db, settings, mention, NOW)
    assert message is not None
    cid = message.conversation_id

    listed = run_json(capsys, "care", "conversations", "list")
    assert [c["id"] for c in listed["items"]] == [cid]
    code, out, _ = run(capsys, "care", "conversations", "list")
    assert code == 0
    assert "@dora" in out
    shown = run_json(capsys, "care", "conversations", "show", cid)
    assert shown["messages"][0]["text"] == mention.text

    assigned = run_json(capsys, "care", "conversations", "assign", cid, "--to", agent.email)
    assert assigned["assignee"]["email"] == agent.email
    mine = run_json(capsys, "care", "conversations", "list", "--view", "mine", "--as", agent.email)
    assert [c["id"] for c in mine["items"]] == [cid]

    note = run_json(
        capsys, "care", "conversations", "note", cid, "Called her back", "--as", agent.email
    )
    assert note["direction"] == "note"
    pending = run_json(capsys, "care", "conversations", "status", cid, "pending_customer")
    assert pending["status"] == "pending_customer"
    resolved = run_json(capsys, "care", "conversations", "resolve", cid)
    assert resolved["status"] == "resolved"
    assert run_json(capsys, "care", "conversations", "list")["items"] == []
    assert len(run_json(capsys, "care", "conversations", "list", "--status", "any")["items"]) == 1

    # Errors are one line and a non-zero exit.
    code, _, err = run(capsys, "care", "conversations", "status", cid, "later")
    assert code == 2
    assert "Unknown status" in err
    code, _, err = run(capsys, "care", "conversations", "show", "nope")
    assert code == 1
    assert "No conversation" in err
    code, _, err = run(capsys, "care", "conversations", "reply", cid, "--text", "Hi")
    assert code == 1
    assert "No configured source" in err


def test_setup_commands(db: Database, settings: Settings, capsys: Capture) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    team = run_json(
        capsys,
        "care",
        "teams",
        "add",
        "Berlin",
        "--tz",
        "Europe/Berlin",
        "--hours",
        "mon-fri 09:00-17:00",
        "--holiday",
        "2026-12-25",
        "--escalation",
        "reassign",
        "--lead",
        owner.email,
    )
    assert team["holidays"] == ["2026-12-25"]
    member = run_json(
        capsys, "care", "teams", "member", "Berlin", agent.email, "--capacity", "4", "--unavailable"
    )
    assert member["capacity"] == 4
    assert member["available"] is False
    assert [t["name"] for t in run_json(capsys, "care", "teams", "list")] == ["Berlin"]

    policy = run_json(
        capsys,
        "care",
        "policies",
        "set",
        "--first",
        "30",
        "--next",
        "30",
        "--resolution",
        "240",
        "--team",
        "Berlin",
    )
    assert policy["team_id"] == team["id"]
    assert len(run_json(capsys, "care", "policies", "list")) == 1

    rule = run_json(
        capsys,
        "care",
        "rules",
        "add",
        "VIPs first",
        "--when",
        '{"min_followers": 10000}',
        "--then",
        '{"priority": 90, "tags": ["vip"]}',
    )
    assert rule["actions"] == {"priority": 90, "tags": ["vip"]}
    code, _, err = run(capsys, "care", "rules", "add", "Bad", "--when", "[1]")
    assert code == 2
    assert "--when" in err
    code, _, err = run(capsys, "care", "rules", "add", "X", "--as", agent.email)
    assert code == 1
    assert "managers" in err
    code, out, _ = run(capsys, "care", "rules", "remove", rule["id"])
    assert code == 0
    assert "removed" in out
    assert run_json(capsys, "care", "rules", "list") == []
