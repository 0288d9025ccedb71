"""`groundswell listening sources ...` and `groundswell worker` through the real CLI."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from groundswell.cli import main
from groundswell.connectors import registry
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.listening.tables import ListeningSource, Mention
from tests.builders import Person, make_org

Capture = pytest.CaptureFixture[str]
SECRET = "very-secret-value-42"


class FakeStream:
    name = "fakestream"
    capabilities = Capabilities(
        streams=True, options=("room",), secrets=("key",), required=("room", "key")
    )

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        assert config.secrets == {"key": SECRET}
        for i in range(int(cursor or 0), 3):
            payload = json.dumps({"id": f"w{i}", "text": f"stream post {i}"}).encode()
            yield Batch((RawRecord(payload, i, "json"),), str(i + 1))

    def parse(self, record: RawRecord) -> ConnectorPost:
        data = json.loads(record.payload)
        return ConnectorPost(external_id=data["id"], text=data["text"])


@pytest.fixture
def owner(db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Person:
    real = registry.get
    monkeypatch.setattr(
        registry, "get", lambda name: FakeStream() if name == "fakestream" else real(name)
    )
    return make_org(db)


def cli(capsys: Capture, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def add(capsys: Capture, tmp_path: Path) -> tuple[int, str, str]:
    secrets = tmp_path / "secrets.env"
    secrets.write_text(f"key={SECRET}\n")
    return cli(
        capsys,
        *("listening", "sources", "add", "live", "--connector", "fakestream"),
        *("--option", "room=lobby", "--secret", "key", "--secrets-file", str(secrets)),
    )


def test_add_list_pause_resume_remove(
    owner: Person, db: Database, capsys: Capture, tmp_path: Path
) -> None:
    code, out, _ = add(capsys, tmp_path)
    assert code == 0
    assert out.startswith("added source live (")
    code, out, _ = cli(capsys, "listening", "sources", "list", "--json")
    [shown] = json.loads(out)
    assert (shown["name"], shown["status"], shown["options"]) == (
        "live",
        "active",
        {"room": "lobby"},
    )
    assert shown["has_secrets"] is True
    assert SECRET not in out
    with db.reader() as session:
        stored = session.scalar(select(ListeningSource.secrets))
    assert stored
    assert SECRET not in stored
    assert cli(capsys, "listening", "sources", "pause", "live")[1] == "paused source live\n"
    _, out, _ = cli(capsys, "listening", "sources", "list")
    assert out.startswith("live\tfakestream\tpaused\tlast fetch -")
    assert cli(capsys, "listening", "sources", "resume", "live")[1] == "resumed source live\n"
    assert cli(capsys, "listening", "sources", "remove", "live", "--yes")[0] == 0
    _, out, _ = cli(capsys, "listening", "sources", "list")
    assert out.startswith("No sources yet.")


def test_secret_from_stdin_and_errors_are_one_line(
    owner: Person, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{SECRET}\n"))
    code, _out, _ = cli(
        capsys,
        *("listening", "sources", "add", "live", "--connector", "fakestream"),
        *("--option", "room=lobby", "--secret", "key"),
    )
    assert code == 0
    code, _, err = cli(capsys, "listening", "sources", "add", "x", "--connector", "fakestream")
    assert code == 2
    assert "needs room, key" in err
    assert SECRET not in err
    code, _, err = cli(
        capsys, "listening", "sources", "add", "y", "--connector", "c", "--option", "novalue"
    )
    assert code == 2
    assert "KEY=VALUE" in err
    assert cli(capsys, "listening", "sources", "pause", "nope")[0] == 1  # NotFound


def test_worker_command_runs_sources_until_interrupted(
    owner: Person, db: Database, capsys: Capture, tmp_path: Path
) -> None:
    add(capsys, tmp_path)

    def count() -> int:
        with db.reader() as session:
            return int(session.scalar(select(func.count()).select_from(Mention)) or 0)

    def interrupt_when_stored() -> None:
        deadline = time.monotonic() + 60
        while count() < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(os.getpid(), signal.SIGINT)

    watcher = threading.Thread(target=interrupt_when_stored)
    watcher.start()
    code, _, err = cli(capsys, "worker")
    watcher.join()
    assert code == 0
    assert "Worker stopped." in err
    assert count() == 3
    with db.reader() as session:
        row: Any = session.scalar(select(ListeningSource))
    assert (row.cursor, row.stored_count, row.error_count) == ("3", 3, 0)
