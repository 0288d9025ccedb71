"""The `groundswell` executable: `triage` starts without importing the other rooms, and
behaves exactly like the same command under the full CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from groundswell import launcher
from groundswell.cli import main as full_main

POSTS = '{"id": 1, "text": "My package never arrived, I want a refund"}\nnot json\n'


def test_triage_fast_path_imports_no_other_room() -> None:
    probe = (
        "import sys\n"
        "from groundswell.launcher import main\n"
        "code = main(['triage', '--in', '-'])\n"
        "heavy = [m for m in ('groundswell.app', 'groundswell.listening', 'groundswell.care',"
        " 'groundswell.governance', 'fastapi') if m in sys.modules]\n"
        "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], input=POSTS, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3  # one bad line
    assert "HEAVY=\n" in done.stderr
    assert done.stdout.count("\n") == 2


def test_fast_and_full_paths_give_the_same_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "posts.jsonl"
    src.write_text(POSTS, encoding="utf-8")
    fast_out, full_out = tmp_path / "fast.jsonl", tmp_path / "full.jsonl"
    assert launcher.main(["triage", "--in", str(src), "--out", str(fast_out)]) == 3
    assert full_main(["triage", "--in", str(src), "--out", str(full_out)]) == 3
    assert fast_out.read_text() == full_out.read_text()
    assert launcher.main(["triage", "--batch-size", "0", "--in", str(src)]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err


def test_other_commands_go_through_the_full_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert launcher.main(["--version"]) == 0
    assert "groundswell" in capsys.readouterr().out
