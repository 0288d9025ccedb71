"""The root command line: version, init, migrate, demo seeding, user/token administration,
and errors as one line with a non-zero exit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from groundswell import __version__
from groundswell.cli import main
from groundswell.kernel.settings import Settings

Capture = pytest.CaptureFixture[str]


def _init(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("owner-password-123\n")
    assert main(["init", "--email", "owner@example.org", "--password-file", str(pw)]) == 0


def test_version_and_module_entry_point() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "groundswell", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == f"groundswell {__version__}"


def test_init_is_idempotent(settings: Settings, capsys: Capture) -> None:
    _init(settings.data_dir)
    assert "owner owner@example.org" in capsys.readouterr().out
    assert main(["init"]) == 0
    assert "Already initialized" in capsys.readouterr().out


def test_init_without_owner_when_not_interactive_is_a_usage_error(
    settings: Settings, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["init"]) == 2
    err = capsys.readouterr().err
    assert "--email" in err
    assert "Traceback" not in err


def test_users_and_tokens(settings: Settings, capsys: Capture) -> None:
    _init(settings.data_dir)
    pw = settings.data_dir / "agent-pw"
    pw.write_text("agent-password-123")
    assert (
        main(
            [
                "users",
                "create",
                "--email",
                "Agent@Example.org",
                "--role",
                "agent",
                "--password-file",
                str(pw),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["users", "list", "--json"]) == 0
    users = json.loads(capsys.readouterr().out)
    assert {(u["email"], u["role"]) for u in users} == {
        ("owner@example.org", "owner"),
        ("agent@example.org", "agent"),
    }

    assert main(["tokens", "create", "--name", "ci", "--scope", "read", "--json"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["token"].startswith("gsk_")
    assert main(["tokens", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in listed] == ["ci"]
    assert created["token"] not in json.dumps(listed)  # the secret is never shown again
    assert main(["tokens", "revoke", created["id"]]) == 0
    capsys.readouterr()
    assert main(["tokens", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["revoked"] is True

    assert main(["users", "deactivate", "agent@example.org"]) == 0
    assert main(["users", "deactivate", "nobody@example.org"]) == 1
    assert "No user" in capsys.readouterr().err


def test_duplicate_user_is_a_one_line_error(settings: Settings, capsys: Capture) -> None:
    _init(settings.data_dir)
    pw = settings.data_dir / "pw"
    assert (
        main(["users", "create", "--email", "owner@example.org", "--password-file", str(pw)]) == 1
    )
    err = capsys.readouterr().err
    assert "already taken" in err
    assert len(err.strip().splitlines()) == 1


def test_bad_option_is_exit_2(settings: Settings, capsys: Capture) -> None:
    assert main(["users", "create", "--email", "x@example.org", "--role", "emperor"]) == 2
    assert "emperor" in capsys.readouterr().err


def test_commands_before_init_explain_what_to_do(settings: Settings, capsys: Capture) -> None:
    assert main(["users", "list"]) == 1
    assert "groundswell init" in capsys.readouterr().err


def test_demo_seed_only(tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROUNDSWELL_DATABASE_URL", raising=False)
    target = tmp_path / "demo"
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(target))  # restored after the test
    assert main(["demo", "--data-dir", str(target), "--seed-only"]) == 0
    out = capsys.readouterr().out
    assert "Sign in at http://127.0.0.1:8000/login" in out
    assert (target / "groundswell.db").exists()
    assert main(["demo", "--data-dir", str(target), "--seed-only"]) == 0  # re-run: no duplicates
    capsys.readouterr()
    assert main(["users", "list", "--json"]) == 0
    roles = sorted(u["role"] for u in json.loads(capsys.readouterr().out))
    assert roles == ["agent", "contributor", "manager", "owner", "viewer"]


def test_migrate_down_and_up(settings: Settings, capsys: Capture) -> None:
    assert main(["migrate", "--down", "--revision", "base"]) == 0
    assert main(["migrate"]) == 0
    assert "head" in capsys.readouterr().out


def test_error_messages_quoting_markup_are_printed_verbatim(
    settings: Settings, capsys: Capture
) -> None:
    _init(settings.data_dir)
    capsys.readouterr()
    assert main(["users", "deactivate", "[/bold]@example.org"]) == 1
    assert "[/bold]@example.org" in capsys.readouterr().err


def test_commands_in_an_uninitialized_folder_say_what_to_do(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROUNDSWELL_DATABASE_URL", raising=False)
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(tmp_path / "nothing-here"))
    for command in (["users", "list"], ["tokens", "create", "--name", "x"], ["audit", "verify"]):
        assert main(command) == 1
        err = capsys.readouterr().err
        assert "groundswell init" in err
        assert "Traceback" not in err
    assert not (tmp_path / "nothing-here" / "groundswell.db").exists()  # nothing created


def test_an_unreachable_database_is_one_line_without_the_password(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(
        "GROUNDSWELL_DATABASE_URL", "postgresql+psycopg://gs:s3cret-pw@127.0.0.1:1/nope"
    )
    assert main(["users", "list"]) == 1
    err = capsys.readouterr().err
    assert "Cannot reach" in err
    assert "s3cret-pw" not in err
    assert len(err.strip().splitlines()) == 1
