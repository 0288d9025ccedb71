"""`groundswell governance model|units|approvals ...` as a person at the terminal runs them."""

from __future__ import annotations

import json

import pytest

from groundswell.cli import main
from groundswell.governance import service
from groundswell.governance.domain import CoordinationModel
from groundswell.identity.domain import Role
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import make_org, make_user
from tests.governance.gov_helpers import ask, trained_user


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_model_show_and_set(
    capsys: pytest.CaptureFixture[str], db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    code, out, _ = run(capsys, "governance", "model", "show")
    assert code == 0
    assert "Empowered Units" in out
    assert "Crisis mode: off" in out
    code, out, _ = run(capsys, "governance", "model", "set", "decentralized")
    assert code == 0
    assert "is now Decentralized" in out
    code, out, _ = run(capsys, "governance", "model", "show", "--json")
    assert json.loads(out)["model"] == "decentralized"
    code, out, _ = run(
        capsys, "governance", "model", "set", "command_and_control", "--as", admin.email
    )
    assert code == 0
    assert "Sent to an owner for approval" in out
    with db.reader() as session:
        model = service.current_model(session, owner.actor.organization_id)
    assert model is CoordinationModel.DECENTRALIZED
    code, _, _err = run(capsys, "governance", "model", "set", "anarchy")
    assert code == 2


def test_units_commands(
    capsys: pytest.CaptureFixture[str], db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    assert run(capsys, "governance", "units", "add", "Social team", "--kind", "hub")[0] == 0
    assert run(capsys, "governance", "units", "add", "Retail Banking")[0] == 0
    code, out, _ = run(capsys, "governance", "units", "add-member", "retail-banking", agent.email)
    assert code == 0
    assert "is agent in retail-banking" in out
    code, out, _ = run(capsys, "governance", "units", "list", "--json")
    listed = json.loads(out)
    assert [u["key"] for u in listed] == ["hub", "retail-banking"]
    assert listed[1]["members"][0]["email"] == agent.email
    code, _, err = run(
        capsys, "governance", "units", "add-member", "hub", agent.email, "--role", "manager"
    )
    assert code == 2
    assert "never exceeds" in err
    code, _, err = run(capsys, "governance", "units", "add", "X", "--as", agent.email)
    assert code == 1
    assert (
        run(capsys, "governance", "units", "remove-member", "retail-banking", agent.email)[0] == 0
    )
    assert run(capsys, "governance", "units", "delete", "retail-banking")[0] == 0
    code, out, _ = run(capsys, "governance", "units", "list")
    assert "Social team" in out
    assert "Retail" not in out


def test_approvals_commands(
    capsys: pytest.CaptureFixture[str], db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    now = SystemClock().now()  # the commands read the real clock; requests must not expire
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    with db.unit_of_work() as session:
        service.set_model(session, owner.actor, CoordinationModel.COMMAND_AND_CONTROL, now=now)
    first = ask(db, contributor, now, subject_id="1")
    second = ask(db, contributor, now, subject_id="2")
    code, out, _ = run(capsys, "governance", "approvals", "list", "--json")
    assert code == 0
    assert {i["id"] for i in json.loads(out)} == {first, second}
    code, _, err = run(
        capsys, "governance", "approvals", "approve", first, "--as", contributor.email
    )
    assert code == 1
    assert "own request" in err
    code, out, _ = run(capsys, "governance", "approvals", "approve", first, "--comment", "ok")
    assert code == 0
    assert "approved" in out
    code, _, _ = run(capsys, "governance", "approvals", "reject", second, "--comment", " ")
    assert code == 2
    code, out, _ = run(capsys, "governance", "approvals", "reject", second, "--comment", "No")
    assert code == 0
    code, out, _ = run(
        capsys, "governance", "approvals", "list", "--box", "mine", "--as", contributor.email
    )
    assert code == 0
    assert "Reply: Thanks" in out  # the human table
    code, out, _ = run(
        capsys,
        "governance", "approvals", "list", "--box", "mine", "--as", contributor.email, "--json",
    )  # fmt: skip
    assert {(i["id"], i["status"]) for i in json.loads(out)} == {
        (first, "approved"),
        (second, "rejected"),
    }
