"""`groundswell crisis backtest`: round trip on a shuffled file with bad lines."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from groundswell.cli import main
from groundswell.crisis.cli import _table
from groundswell.kernel.console import out

Capture = pytest.CaptureFixture[str]
START = datetime(2026, 3, 2, 0, 1, tzinfo=UTC)
ONSET = START + timedelta(days=2, hours=9, minutes=2)
FIELDS = {"at", "topic", "metric", "observed", "expected", "score", "why"}


def _posts(seed: int = 1) -> list[dict[str, Any]]:
    """Three days of steady traffic on two topics, then an outage burst on one."""
    rng = random.Random(seed)
    words = ["coffee", "order", "store", "latte", "great", "fine", "arrived", "today"]
    posts: list[dict[str, Any]] = []
    t = START
    while t < START + timedelta(days=3):
        t += timedelta(seconds=rng.expovariate(1 / 40))
        posts.append(
            {
                "id": f"n{len(posts)}",
                "created_at": t.isoformat(),
                "text": " ".join(rng.sample(words, 5)),
                "topic": rng.choice(["app", "stores"]),
                "author": f"u{rng.randint(1, 300)}",
                "followers": rng.randint(0, 3000),
            }
        )
    for k in range(120):
        at = ONSET + timedelta(seconds=rng.uniform(0, 1800))
        posts.append(
            {
                "id": f"s{k}",
                "created_at": at.isoformat().replace("+00:00", "Z"),
                "text": f"the app crashed and lost my order again #outage ({k})",
                "topic": "app",
                "author": f"a{k % 30}",
                "followers": 1000 + k,
            }
        )
    rng.shuffle(posts)
    return posts


def _write(path: Path, posts: list[dict[str, Any]], bad: dict[int, str]) -> Path:
    lines = [json.dumps(p) for p in posts]
    for at, text in sorted(bad.items()):
        lines.insert(at - 1, text)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _alerts(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_round_trip_in_any_order_with_bad_lines(tmp_path: Path, capsys: Capture) -> None:
    bad = {3: "{oops", 7: '{"text": "no time"}', 11: '{"created_at": "yesterday"}', 15: "[1]"}
    src = _write(tmp_path / "posts.jsonl", _posts(), bad)
    code = main(["crisis", "backtest", "--in", str(src), "--json"])
    captured = capsys.readouterr()
    assert code == 3
    for line in bad:
        assert f"line {line}:" in captured.err
    assert "created_at is missing" in captured.err
    assert "4 of" in captured.err
    alerts = _alerts(captured.out)
    assert alerts, "the burst must be found despite the bad lines"
    for alert in alerts:
        assert set(alert) == FIELDS
        assert alert["at"].endswith("Z")
        at = datetime.fromisoformat(alert["at"])
        assert at.timestamp() % 300 == 0, "alerts fire at the end of a bucket"
        assert alert["score"] > 0
    burst = [a for a in alerts if a["metric"] == "volume"]
    assert {a["topic"] for a in burst} >= {"app"}
    first = min(datetime.fromisoformat(a["at"]) for a in burst)
    assert ONSET < first <= ONSET + timedelta(minutes=20)
    why = next(a for a in burst if a["topic"] == "app")["why"]
    assert "#outage" in [t["term"] for t in why["terms"]]
    assert why["clusters"][0]["posts"] >= 3
    assert why["authors"]
    assert why["examples"]


def _without_why(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: r[k] for k in FIELDS - {"why"}} for r in rows]


def test_order_of_the_file_does_not_matter(tmp_path: Path, capsys: Capture) -> None:
    posts = _posts(seed=2)
    shuffled = _write(tmp_path / "a.jsonl", posts, {})
    ordered = sorted(posts, key=lambda p: (datetime.fromisoformat(p["created_at"]), p["id"]))
    in_order = _write(tmp_path / "b.jsonl", ordered, {})
    assert main(["crisis", "backtest", "--in", str(shuffled)]) == 0
    first = _alerts(capsys.readouterr().out)
    assert main(["crisis", "backtest", "--in", str(in_order)]) == 0
    second = _alerts(capsys.readouterr().out)
    assert first
    # Ties in time keep file order, which differs, so compare everything but example order.
    assert _without_why(first) == _without_why(second)


def test_bucket_and_sensitivity_options(tmp_path: Path, capsys: Capture) -> None:
    src = _write(tmp_path / "posts.jsonl", _posts(seed=3), {})
    assert main(["crisis", "backtest", "--in", str(src), "--bucket", "15m", "--json"]) == 0
    alerts = _alerts(capsys.readouterr().out)
    assert alerts
    assert all(datetime.fromisoformat(a["at"]).timestamp() % 900 == 0 for a in alerts)
    assert main(["crisis", "backtest", "--in", str(src), "--sensitivity", "1e-9"]) == 0
    assert len(_alerts(capsys.readouterr().out)) <= len(alerts)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bucket", "7m"], "divide one hour"),
        (["--bucket", "soon"], "bad bucket"),
        (["--sensitivity", "0"], "bad option"),
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: Capture, args: list[str], message: str
) -> None:
    src = _write(tmp_path / "posts.jsonl", [], {})
    assert main(["crisis", "backtest", "--in", str(src), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_file_exits_2(tmp_path: Path, capsys: Capture) -> None:
    assert main(["crisis", "backtest", "--in", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_only_bad_lines_still_reports_them(tmp_path: Path, capsys: Capture) -> None:
    src = tmp_path / "bad.jsonl"
    src.write_text('nope\n{"created_at": 5}\n\n', encoding="utf-8")
    assert main(["crisis", "backtest", "--in", str(src)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "line 1:" in captured.err
    assert "line 2: created_at must be an ISO 8601 string" in captured.err


def test_subprocess_reads_stdin(tmp_path: Path) -> None:
    lines = [json.dumps(p) for p in _posts(seed=4)] + ["{broken"]
    result = subprocess.run(
        [sys.executable, "-m", "groundswell", "crisis", "backtest", "--in", "-", "--json"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 3
    assert f"line {len(lines)}:" in result.stderr
    assert all(set(json.loads(x)) == FIELDS for x in result.stdout.splitlines())
    assert result.stdout.strip()


def test_terminal_table_summarizes_each_alert(tmp_path: Path, capsys: Capture) -> None:
    src = _write(tmp_path / "posts.jsonl", _posts(seed=5), {})
    assert main(["crisis", "backtest", "--in", str(src), "--json"]) == 0
    alerts = _alerts(capsys.readouterr().out)
    with out.capture() as captured:
        out.print(_table(alerts))
    text = captured.get()
    assert f"{len(alerts)} alert(s)" in text
    assert "(all)" in text or "app" in text
    assert "#outage" in text
