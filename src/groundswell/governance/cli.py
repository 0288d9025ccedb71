"""`groundswell governance ...`: the policy engine on the command line (no server, no database).

``groundswell governance policy check [--text T | --in FILE.jsonl] [--policy FILE]
[--network NAME] [--advocacy] [--json]`` is a public contract, documented in
``docs/governance.md``: one result per text, in input order; exit 1 when any text is blocked,
3 when none is but some input line was unreadable, 2 on usage errors, 0 otherwise.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from groundswell.governance.domain import Finding
from groundswell.governance.engine import PolicyEngine
from groundswell.governance.policy import (
    dump_policy,
    load_policy,
    policy_json_schema,
    starter_policy,
)
from groundswell.kernel.console import err
from groundswell.kernel.errors import InvalidInput

governance_app = typer.Typer(
    help="Governance: coordination models and the social media policy.", no_args_is_help=True
)
policy_app = typer.Typer(
    help="The social media policy: check texts against it, print it or its JSON Schema.",
    no_args_is_help=True,
)
governance_app.add_typer(policy_app, name="policy")

EXIT_BLOCKED = 1
EXIT_BAD_LINES = 3

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule,
        "severity": finding.severity.value,
        "start": finding.start,
        "end": finding.end,
        "message": finding.message,
    }


class _Record:
    """One text to check, or the reason its input line is bad."""

    __slots__ = ("advocacy", "error", "has_id", "id", "line", "network", "text")

    def __init__(
        self,
        line: int,
        *,
        text: str | None = None,
        has_id: bool = False,
        id_: object = None,
        network: str | None = None,
        advocacy: bool = False,
        error: str | None = None,
    ) -> None:
        self.line, self.text, self.has_id, self.id = line, text, has_id, id_
        self.network, self.advocacy, self.error = network, advocacy, error


def _parse_line(raw: bytes, line: int, network: str | None, advocacy: bool) -> _Record | None:
    """None for a blank line; otherwise the record or its error."""
    if not raw.strip():
        return None
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        return _Record(line, error=f"not JSON ({exc.msg} at column {exc.colno})")
    except ValueError:
        return _Record(line, error="not JSON (not valid UTF-8 text)")
    if not isinstance(obj, dict):
        return _Record(line, error="not a JSON object")
    has_id, id_ = "id" in obj, obj.get("id")
    text = obj.get("text")
    if not isinstance(text, str):
        error = "no 'text' field" if "text" not in obj else "'text' is not a string"
        return _Record(line, has_id=has_id, id_=id_, error=error)
    line_network = obj.get("network", network)
    if line_network is not None and not isinstance(line_network, str):
        return _Record(line, has_id=has_id, id_=id_, error="'network' is not a string")
    line_advocacy = obj.get("advocacy", advocacy)
    if not isinstance(line_advocacy, bool):
        return _Record(line, has_id=has_id, id_=id_, error="'advocacy' is not true or false")
    return _Record(
        line, text=text, has_id=has_id, id_=id_, network=line_network, advocacy=line_advocacy
    )


def _records(stream: BinaryIO, network: str | None, advocacy: bool) -> Iterator[_Record]:
    for number, raw in enumerate(stream, start=1):
        record = _parse_line(raw, number, network, advocacy)
        if record is not None:
            yield record


def _human(record: _Record, findings: list[Finding], blocked: bool) -> str:
    label = f"{record.id}" if record.has_id else f"#{record.line}"
    counts = {s: sum(1 for f in findings if f.severity.value == s) for s in ("block", "warn")}
    verdict = "BLOCKED" if blocked else ("ok" if not findings else "ok with findings")
    summary = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
    lines = [f"{label}: {verdict}" + (f" ({summary})" if summary else "")]
    text = record.text or ""
    for f in findings:
        quoted = json.dumps(text[f.start : f.end], ensure_ascii=False)
        lines.append(f"  {f.severity.value:<5} {f.rule} [{f.start}, {f.end}) {quoted}: {f.message}")
    return "\n".join(lines)


@policy_app.command("check")
def check_command(
    text: Annotated[str | None, typer.Option("--text", help="One text to check.")] = None,
    in_file: Annotated[
        str | None,
        typer.Option(
            "--in",
            help="JSONL file (- for stdin): one object per line with `text`, optional `id`, "
            "`network`, `advocacy`.",
        ),
    ] = None,
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file, TOML or JSON (default: the starter policy)."),
    ] = None,
    network: Annotated[
        str | None,
        typer.Option("--network", help="Also check this network's length and format limits."),
    ] = None,
    advocacy: Annotated[
        bool,
        typer.Option("--advocacy", help="Employee-advocacy posts: a disclosure tag is required."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON line per text, in input order.")
    ] = False,
) -> None:
    """Check texts against the social media policy. Exit 1 when any text is blocked."""
    if (text is None) == (in_file is None):
        raise InvalidInput("Give exactly one of --text T or --in FILE.")
    policy = load_policy(policy_file) if policy_file is not None else starter_policy()
    engine = PolicyEngine(policy)
    if network is not None and network not in engine.networks:
        raise InvalidInput(
            f"Unknown network {network!r}; the policy defines: {', '.join(engine.networks)}."
        )
    if text is not None:
        single = _Record(1, text=text, network=network, advocacy=advocacy)
        _run(engine, iter([single]), as_json)
        return
    assert in_file is not None
    if in_file == "-":
        _run(engine, _records(sys.stdin.buffer, network, advocacy), as_json)
        return
    try:
        stream = Path(in_file).open("rb")  # noqa: SIM115 (closed below, after streaming)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {in_file}: {exc.strerror}") from exc
    with stream:
        _run(engine, _records(stream, network, advocacy), as_json)


def _run(engine: PolicyEngine, records: Iterator[_Record], as_json: bool) -> None:
    any_blocked = False
    bad = 0
    write = sys.stdout.write
    for record in records:
        unknown = record.network is not None and record.network not in engine.networks
        if unknown and record.error is None:
            record.error = f"unknown network {record.network!r}"
        if record.error is not None or record.text is None:
            bad += 1
            err.print(f"line {record.line}: {record.error}", highlight=False, markup=False)
            payload: dict[str, Any] = {"id": record.id} if record.has_id else {}
            payload |= {"line": record.line, "error": record.error}
            write(
                (_encode(payload) if as_json else f"#{record.line}: error: {record.error}") + "\n"
            )
            continue
        findings = engine.check(record.text, network=record.network, advocacy=record.advocacy)
        blocked = engine.blocked(findings)
        any_blocked = any_blocked or blocked
        if as_json:
            result: dict[str, Any] = {"id": record.id} if record.has_id else {}
            result["findings"] = [_finding_json(f) for f in findings]
            result["blocked"] = blocked
            write(_encode(result) + "\n")
        else:
            write(_human(record, findings, blocked) + "\n")
    sys.stdout.flush()
    if any_blocked:
        raise typer.Exit(EXIT_BLOCKED)
    if bad:
        raise typer.Exit(EXIT_BAD_LINES)


@policy_app.command("show")
def show_command(
    policy_file: Annotated[
        Path | None,
        typer.Option("--policy", help="Policy file, TOML or JSON (default: the starter policy)."),
    ] = None,
) -> None:
    """Print the policy (the starter policy by default) as JSON, validated."""
    policy = load_policy(policy_file) if policy_file is not None else starter_policy()
    sys.stdout.write(dump_policy(policy))


@policy_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of policy files."""
    sys.stdout.write(json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n")
