"""`groundswell accounts ...` and `groundswell vault ...` as a person at the terminal runs them."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from groundswell.cli import main
from groundswell.governance.vault import ENV_VAR, Vault, key_file
from groundswell.identity.domain import Role
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from tests.builders import Person, make_org, make_user

SECRET = "cli-secret-correct-horse-battery"


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture
def team(db: Database, settings: Settings) -> tuple[Person, Person, Person]:
    owner = make_org(db)
    return owner, make_user(db, owner, Role.ADMIN), make_user(db, owner, Role.AGENT)


def test_add_list_show_grant_revoke(
    capsys: pytest.CaptureFixture[str], team: tuple[Person, Person, Person]
) -> None:
    owner, admin, agent = team
    code, out, err = run(
        capsys,
        "accounts",
        "add",
        "--network",
        "instagram",
        "--handle",
        "@acme",
        "--url",
        "https://instagram.com/acme",
        "--unit",
        "Brand",
        "--purpose",
        "Launches",
        "--owner",
        owner.email,
        "--admin",
        admin.email,
    )
    assert code == 0, err
    assert "Registered instagram:acme" in out
    assert "Only one active admin" in err
    listed = run_json(capsys, "accounts", "list")
    assert isinstance(listed, list)
    assert [(a["network"], a["handle"]) for a in listed] == [("instagram", "acme")]
    assert listed[0]["business_owner"]["email"] == owner.email
    assert [r["code"] for r in listed[0]["risks"]] == ["single_admin"]

    granted = run_json(capsys, "accounts", "grant", "instagram:acme", agent.email)
    assert isinstance(granted, dict)
    assert sorted(a["email"] for a in granted["admins"]) == sorted([admin.email, agent.email])
    assert granted["risks"] == []
    code, out, _ = run(capsys, "accounts", "show", "instagram:acme")
    assert code == 0
    assert agent.email in out
    revoked = run_json(capsys, "accounts", "revoke", "instagram:acme", agent.email)
    assert isinstance(revoked, dict)
    assert [r["code"] for r in revoked["risks"]] == ["single_admin"]
    code, out, _ = run(capsys, "accounts", "list")
    assert code == 0
    assert "instagram:acme" in out

    # Errors are one line on stderr with the documented exit codes.
    code, _, err = run(capsys, "accounts", "show", "x:missing")
    assert code == 1
    assert "No brand account" in err
    code, _, err = run(capsys, "accounts", "add", "--network", "x y", "--handle", "a")
    assert code == 2


def test_set_credential_from_stdin_and_file_never_prints_it(
    capsys: pytest.CaptureFixture[str],
    team: tuple[Person, Person, Person],
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    owner, _admin, _agent = team
    assert run(capsys, "accounts", "add", "--network", "x", "--handle", "acme")[0] == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
    code, out, err = run(capsys, "accounts", "set-credential", "x:acme", "--name", "password")
    assert code == 0, err
    assert "will not be shown again" in out
    secret_file = tmp_path / "token.txt"
    secret_file.write_text(SECRET + "-api\n")
    data = run_json(
        capsys,
        "accounts",
        "set-credential",
        "x:acme",
        "--name",
        "api-token",
        "--file",
        str(secret_file),
    )
    assert isinstance(data, dict)
    assert data["name"] == "api-token"
    assert data["set_by"] == owner.email
    shown = run_json(capsys, "accounts", "show", "x:acme")
    assert isinstance(shown, dict)
    assert sorted(c["name"] for c in shown["credentials"]) == ["api-token", "password"]
    everything = json.dumps(shown) + out + err + caplog.text
    assert SECRET not in everything
    assert key_file(settings.data_dir).exists()
    # An empty secret is refused.
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, _, err = run(capsys, "accounts", "set-credential", "x:acme")
    assert code == 2
    assert "empty" in err
    # There is no option that takes the secret itself.
    code, _, _ = run(capsys, "accounts", "set-credential", "x:acme", "--secret", SECRET)
    assert code == 2


def test_orphans_and_handover(
    capsys: pytest.CaptureFixture[str], team: tuple[Person, Person, Person], db: Database
) -> None:
    owner, admin, agent = team
    successor = make_user(db, owner, Role.AGENT)
    run(
        capsys,
        "accounts",
        "add",
        "--network",
        "x",
        "--handle",
        "ok",
        "--owner",
        owner.email,
        "--admin",
        admin.email,
        "--admin",
        agent.email,
    )
    run(capsys, "accounts", "add", "--network", "x", "--handle", "lonely", "--admin", agent.email)
    monkey_secret = io.StringIO(SECRET)
    import sys

    old, sys.stdin = sys.stdin, monkey_secret
    try:
        assert run(capsys, "accounts", "set-credential", "x:lonely", "--as", agent.email)[0] == 0
    finally:
        sys.stdin = old

    orphans = run_json(capsys, "accounts", "orphans")
    assert isinstance(orphans, list)
    assert [o["account"] for o in orphans] == ["x:lonely"]
    assert [r["code"] for r in orphans[0]["risks"]] == ["no_business_owner", "single_admin"]
    code, out, _ = run(capsys, "accounts", "orphans")
    assert code == 0
    assert "x:lonely" in out

    # Deactivating the agent is refused while they hold accounts.
    code, _, err = run(capsys, "users", "deactivate", agent.email)
    assert code == 1
    assert "still holds brand accounts" in err

    preview = run_json(
        capsys, "accounts", "handover", "--from", agent.email, "--to", successor.email, "--dry-run"
    )
    assert isinstance(preview, dict)
    assert preview["applied"] is False
    done = run_json(capsys, "accounts", "handover", "--from", agent.email, "--to", successor.email)
    assert isinstance(done, dict)
    assert done["applied"] is True
    assert sorted((i["kind"], i["account"]) for i in done["items"]) == [
        ("admin", "x:lonely"),
        ("admin", "x:ok"),
        ("credential", "x:lonely"),
    ]
    assert done["credentials_flagged"] == ["x:lonely/password"]
    code, out, _ = run(capsys, "users", "deactivate", agent.email)
    assert code == 0
    shown = run_json(capsys, "accounts", "show", "x:lonely")
    assert isinstance(shown, dict)
    assert shown["credentials"][0]["needs_rotation"] is True
    assert shown["credentials"][0]["custodian"]["email"] == successor.email


def test_vault_rotate_key_keeps_secrets_readable(
    capsys: pytest.CaptureFixture[str],
    team: tuple[Person, Person, Person],
    settings: Settings,
    db: Database,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run(capsys, "accounts", "add", "--network", "x", "--handle", "acme")
    monkeypatch.setattr("sys.stdin", io.StringIO(SECRET))
    assert run(capsys, "accounts", "set-credential", "x:acme")[0] == 0
    before = key_file(settings.data_dir).read_text()
    result = run_json(capsys, "vault", "rotate-key")
    assert result == {
        "reencrypted": 1,
        "keys_in_use": 1,
        "key_source": f"the key file {key_file(settings.data_dir)}",
        "new_key_generated": True,
    }
    assert key_file(settings.data_dir).read_text() != before
    from groundswell.governance import accounts

    with db.reader() as session:
        account = accounts.list_accounts(session, team[0].actor)[0]
        assert (
            accounts.reveal_credential(
                session, Vault.open(settings.data_dir), account.id, "password"
            )
            == SECRET
        )
    code, out, _ = run(capsys, "vault", "generate-key")
    assert code == 0
    assert len(out.strip()) == 44
