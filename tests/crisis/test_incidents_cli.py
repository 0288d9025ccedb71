"""`groundswell crisis detect|incidents|mode|drill` as a person at the terminal runs them."""

from __future__ import annotations

import json

import pytest

from groundswell.cli import main
from groundswell.identity.domain import Role
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import make_org, make_user


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_incidents_mode_and_drill_from_the_cli(
    capsys: pytest.CaptureFixture[str], db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    viewer = make_user(db, owner, Role.VIEWER)
    code, out, err = run(
        capsys,
        "crisis",
        "incidents",
        "open",
        "--title",
        "App down",
        "--type",
        "outage",
        "--severity",
        "sev2",
        "--json",
    )
    assert code == 0, err
    incident = json.loads(out)
    assert incident["status"] == "open"
    assert incident["severity"] == "sev2"
    code, out, err = run(capsys, "crisis", "incidents", "open", "--title", "x", "--type", "nope")
    assert code != 0
    assert "Unknown incident type" in err
    code, out, _ = run(capsys, "crisis", "incidents", "list", "--status", "active", "--json")
    assert [i["id"] for i in json.loads(out)] == [incident["id"]]

    code, out, err = run(capsys, "crisis", "mode", "on", "--reason", "Outage")
    assert code == 0
    assert "ON" in out
    code, out, err = run(capsys, "crisis", "mode", "off", "--as", viewer.email)
    assert code != 0
    assert "managers" in err
    code, out, _ = run(capsys, "crisis", "mode", "status", "--json")
    assert json.loads(out) == {"on": True, "reason": "Outage"}

    code, out, err = run(
        capsys, "crisis", "incidents", "close", incident["id"], "--summary", "Fixed"
    )
    assert code == 0, err
    code, out, err = run(capsys, "crisis", "drill", "start", "--name", "Practice")
    assert code == 0, err
    assert "Drill" in out
    code, out, err = run(capsys, "crisis", "detect")
    assert code == 0
    assert "new alert" in out
