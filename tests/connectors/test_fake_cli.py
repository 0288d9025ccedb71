"""`groundswell listening fake`: a scenario's posts in a window, as files-format JSONL that
`listening import` and `listening match` read."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from groundswell.cli import main
from groundswell.connectors.fake import generate

Capture = pytest.CaptureFixture[str]
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_prints_the_window_as_jsonl(capsys: Capture) -> None:
    args = ["listening", "fake", "--start", "2026-11-02T09:00:00Z", "--hours", "0.25"]
    assert main([*args, "--seed", "11"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [json.loads(line) for line in out] == list(
        generate("demo", T0, T0 + timedelta(minutes=15), seed=11)
    )
    assert len(out) > 50


def test_reads_a_scenario_file(tmp_path: Path, capsys: Capture) -> None:
    demo = Path(__file__).parents[2] / "src/groundswell/connectors/fake/scenarios/demo.toml"
    text = demo.read_text(encoding="utf-8").replace("per_hour = 1200", "per_hour = 0")
    path = tmp_path / "quiet.toml"
    path.write_text(text, encoding="utf-8")
    args = ["--start", "2026-11-02T09:00:00Z", "--hours", "1", "--scenario", str(path)]
    assert main(["listening", "fake", *args]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--start", "2026-11-02T09:00:00", "--hours", "1"], "needs a UTC offset"),
        (["--start", "monday", "--hours", "1"], "--start is not ISO 8601"),
        (["--start", "2026-11-02T09:00Z", "--hours", "1", "--scenario", "nope"], "bundled: demo"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], message: str, capsys: Capture) -> None:
    assert main(["listening", "fake", *args]) == 2
    assert message in capsys.readouterr().err
