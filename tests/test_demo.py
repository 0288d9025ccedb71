"""The README's first command ends in `groundswell demo`: it seeds, prints how to sign in, and
serves. This runs it for real as a subprocess and signs in with what it printed."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from groundswell.cli import main
from tests.builders import csrf_from


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_seeds_serves_and_lets_you_sign_in(tmp_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDSWELL_")}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "groundswell",
            "demo",
            "--data-dir",
            str(tmp_path / "demo"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        sign_in = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not sign_in:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            if line.startswith("Sign in at"):
                sign_in = line.strip()
        match = re.match(r"Sign in at (\S+) as (\S+) / (\S+)", sign_in)
        assert match, f"no sign-in line; demo exited with {proc.poll()}"
        url, email, password = match.groups()
        assert url == f"http://127.0.0.1:{port}/login"
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=5) as client:
            for _ in range(100):
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
            page = client.get("/login")
            response = client.post(
                "/login",
                data={"email": email, "password": password, "csrf_token": csrf_from(page.text)},
            )
            assert response.status_code == 303
            assert client.get("/settings/users").status_code == 200
            # The inbox has direct messages too, in their own view.
            direct = client.get("/care", params={"view": "direct"})
            assert direct.status_code == 200
            assert "DM" in direct.text
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_demo_refuses_a_folder_with_a_real_organization(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GROUNDSWELL_DATABASE_URL", raising=False)
    monkeypatch.setenv("GROUNDSWELL_DATA_DIR", str(tmp_path))
    (tmp_path / "pw").write_text("real-owner-password-1")
    assert (
        main(["init", "--email", "boss@real.example", "--password-file", str(tmp_path / "pw")]) == 0
    )
    assert main(["demo", "--seed-only"]) == 1
    assert "holds a real organization" in capsys.readouterr().err
