"""`groundswell governance policy check|show|schema` through the root CLI: output formats and
exit codes (0 clean, 1 blocked, 2 usage, 3 unreadable lines)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundswell.cli import main
from groundswell.governance.policy import dump_policy, starter_policy


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["governance", "policy", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_text_json_blocked(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--text", "Shit, call 4111 1111 1111 1111", "--json"], capsys)
    assert code == 1
    assert json.loads(out) == {
        "findings": [
            {"rule": "respect.profanity", "severity": "block", "start": 0, "end": 4,
             "message": "“Shit” is not PG: the organization's posts stay polite. Remove it or "
                        "choose a milder word."},
            {"rule": "privacy.personal_data", "severity": "block", "start": 11, "end": 30,
             "message": "This looks like a payment card number: never post personal data in "
                        "public. Remove it and continue in a private message."},
        ],
        "blocked": True,
    }  # fmt: skip


def test_clean_text_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--text", "Thanks, we are on it!", "--json"], capsys)
    assert code == 0
    assert json.loads(out) == {"findings": [], "blocked": False}


def test_warnings_alone_do_not_block(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", "--text", "Guaranteed results"], capsys)
    assert code == 0
    assert out.splitlines()[0] == "#1: ok with findings (1 warn)"
    assert out.splitlines()[1].startswith('  warn  legal.claims [0, 10) "Guaranteed": ')


def test_jsonl_in_input_order_with_ids_networks_and_bad_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        json.dumps({"id": "a", "text": "all good"}),
        "",
        "{not json",
        json.dumps({"id": 2, "text": "a" * 300}),
        json.dumps({"text": "Love my job", "advocacy": True}),
        json.dumps({"id": "n", "text": "hi", "network": "myspace"}),
        json.dumps({"id": "t"}),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    code, out, err = run(["check", "--in", str(path), "--network", "x", "--json"], capsys)
    assert code == 1
    results = [json.loads(line) for line in out.splitlines()]
    assert results[0] == {"id": "a", "findings": [], "blocked": False}
    assert results[1] == {"line": 3, "error": "not JSON (Expecting property name enclosed in "
                                               "double quotes at column 2)"}  # fmt: skip
    assert results[2]["id"] == 2
    assert results[2]["blocked"] is True
    assert [f["rule"] for f in results[2]["findings"]] == ["network.x.length"]
    assert results[3]["findings"][0]["rule"] == "disclosure.advocacy"
    assert (results[3]["findings"][0]["start"], results[3]["findings"][0]["end"]) == (11, 11)
    assert results[4] == {"id": "n", "line": 6, "error": "unknown network 'myspace'"}
    assert results[5] == {"id": "t", "line": 7, "error": "no 'text' field"}
    assert len(results) == 6
    assert "line 3:" in err


def test_bad_lines_without_blocks_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "fine"}\n[1, 2]\n')
    code, out, _ = run(["check", "--in", str(path), "--json"], capsys)
    assert code == 3
    assert json.loads(out.splitlines()[1]) == {"line": 2, "error": "not a JSON object"}


def test_custom_policy_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(dump_policy(starter_policy()))
    data["rules"].append({"id": "brand.words", "kind": "terms", "severity": "block",
                          "message": "Say 'customer', not {match}.", "terms": ["punter*"]})  # fmt: skip
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(data))
    code, out, _ = run(["check", "--text", "Dear punters", "--policy", str(path), "--json"], capsys)
    assert code == 1
    assert json.loads(out)["findings"][0]["message"] == "Say 'customer', not punters."


@pytest.mark.parametrize(
    "args",
    [
        ["check"],
        ["check", "--text", "x", "--in", "y.jsonl"],
        ["check", "--text", "x", "--network", "myspace"],
        ["check", "--in", "/nonexistent/file.jsonl"],
        ["check", "--text", "x", "--policy", "/nonexistent/policy.json"],
        ["check", "--bogus"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(args, capsys)
    assert code == 2
    assert out == ""
    assert err


def test_show_and_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["show"], capsys)
    assert code == 0
    assert json.loads(out)["version"] == starter_policy().version
    code, out, _ = run(["schema"], capsys)
    assert code == 0
    assert json.loads(out)["title"] == "Policy"


def test_policy_check_at_the_top_level_with_a_toml_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's contract path `groundswell policy check`, with a hand-written TOML policy."""
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'name = "Tiny"\nversion = "2.0.0"\n\n[[rules]]\nid = "confidential.codenames"\n'
        'kind = "terms"\nguideline = "confidentiality"\nseverity = "block"\n'
        'message = "“{match}” is a confidential code name."\nterms = ["bluebird"]\n'
    )
    source = tmp_path / "posts.jsonl"
    source.write_text(
        '{"id": "p1", "text": "Project Bluebird ships soon"}\n{"id": "p2", "text": "hi"}\n'
    )
    assert main(["policy", "check", "--in", str(source), "--policy", str(policy), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["p1", "p2"]
    assert lines[0]["blocked"] is True
    assert lines[0]["findings"][0]["rule"] == "confidential.codenames"
    assert (lines[0]["findings"][0]["start"], lines[0]["findings"][0]["end"]) == (8, 16)
    assert lines[1] == {"id": "p2", "findings": [], "blocked": False}
