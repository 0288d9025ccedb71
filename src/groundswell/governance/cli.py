"""`groundswell governance ...` / `groundswell policy ...`: the policy engine on the command line.

`policy check` and `policy show` need no server: without `--policy` they use the
organization's current policy when the data dir holds an initialized database (at the
migration head), and the starter policy otherwise. `policy versions|diff|import` read and
write the organization's stored versions.

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
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from groundswell.governance import policy_versions
from groundswell.governance.coordination_cli import approvals_app, model_app, units_app
from groundswell.governance.domain import Finding
from groundswell.governance.engine import PolicyEngine
from groundswell.governance.policies import current_policy, current_version
from groundswell.governance.policy import (
    Policy,
    dump_policy,
    load_policy,
    policy_json_schema,
    starter_policy,
)
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.identity.service import first_owner
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import err, open_database, out, print_json, safe_url
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError, InvalidInput
from groundswell.kernel.migrate import current_revision, head_revision
from groundswell.kernel.settings import get_settings

governance_app = typer.Typer(
    help="Governance: coordination models and the social media policy.", no_args_is_help=True
)
policy_app = typer.Typer(
    help="The social media policy: check texts against it, print it or its JSON Schema.",
    no_args_is_help=True,
)
governance_app.add_typer(policy_app, name="policy")
governance_app.add_typer(model_app, name="model")
governance_app.add_typer(units_app, name="units")
governance_app.add_typer(approvals_app, name="approvals")

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
        typer.Option(
            "--policy",
            help="Policy file, TOML or JSON (default: the organization's current policy, or "
            "the starter policy when no data dir is initialized).",
        ),
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
    as_email: AsOption = None,
) -> None:
    """Check texts against the social media policy. Exit 1 when any text is blocked."""
    if (text is None) == (in_file is None):
        raise InvalidInput("Give exactly one of --text T or --in FILE.")
    policy, source = _policy_to_use(policy_file, as_email)
    if source and not as_json:
        err.print(f"Checking against {source}.", highlight=False, markup=False)
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


def _organization_policy(as_email: str | None) -> tuple[Policy, str] | None:
    """The organization's current policy when the data dir holds a database at the migration
    head; None when no data dir is initialized (no database file, no tables, no organization).
    A database that exists but cannot be used is a usage error (exit 2), never a silent
    fallback: checking against the wrong policy would pass what the organization blocks."""
    settings = get_settings()
    if settings.is_sqlite and not Path(make_url(settings.database_url).database or "").exists():
        return None
    db = Database(settings.database_url)
    try:
        try:
            revision = current_revision(db.read_engine)
        except DBAPIError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
            raise InvalidInput(
                f"Cannot reach {safe_url(settings.database_url)}: {reason}. "
                "Pass --policy FILE to check without the database."
            ) from exc
        if revision is None:
            return None
        if revision != head_revision(settings.database_url):
            raise InvalidInput(
                f"{safe_url(settings.database_url)} is not at the current migration: run "
                "`groundswell migrate`, or pass --policy FILE."
            )
        with db.reader() as session:
            if as_email is None and first_owner(session) is None:
                return None
            try:
                actor = cli_actor(session, as_email)
            except GroundswellError as exc:  # exit 1 means "blocked": never reuse it
                raise InvalidInput(exc.message) from exc
            current = current_version(session, actor.organization_id)
            policy = current_policy(session, actor.organization_id)
        label = f"version {current.version}" if current.id else "the starter policy (unchanged)"
        return policy, f"the organization's policy, {label}"
    finally:
        db.dispose()


def _policy_to_use(policy_file: Path | None, as_email: str | None) -> tuple[Policy, str]:
    """(policy, where it comes from; "" for the starter policy outside a data dir)."""
    if policy_file is not None:
        return load_policy(policy_file), f"{policy_file}"
    found = _organization_policy(as_email)
    return found if found is not None else (starter_policy(), "")


@policy_app.command("show")
def show_command(
    policy_file: Annotated[
        Path | None,
        typer.Option(
            "--policy",
            help="Policy file, TOML or JSON (default: the organization's current policy, or "
            "the starter policy when no data dir is initialized).",
        ),
    ] = None,
    version: Annotated[
        str | None,
        typer.Option("--version", help="A stored version (e.g. 1.2) instead of the current one."),
    ] = None,
    as_email: AsOption = None,
) -> None:
    """Print the policy as JSON, validated."""
    if version is not None:
        if policy_file is not None:
            raise InvalidInput("Give --policy FILE or --version V, not both.")
        with open_database().reader() as session:
            _, policy = policy_versions.policy_of(session, cli_actor(session, as_email), version)
    else:
        policy, _ = _policy_to_use(policy_file, as_email)
    sys.stdout.write(dump_policy(policy))


@policy_app.command("versions")
def versions_command(
    limit: Annotated[int, typer.Option(help="How many, newest first.")] = 50,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """List the organization's policy versions: who saved each, when and why."""
    with open_database().reader() as session:
        page = policy_versions.list_versions(session, cli_actor(session, as_email), limit=limit)
    if json_:
        print_json([v.model_dump(mode="json") for v in page.items])
        return
    if not page.items:
        out.print("No saved versions: the starter policy applies.", highlight=False)
        return
    for v in page.items:
        mark = " (current)" if v.current else ""
        out.print(
            f"{v.version}{mark}  {v.created_at:%Y-%m-%d %H:%M} UTC  {v.author}  {v.note}",
            highlight=False,
            markup=False,
        )


@policy_app.command("diff")
def diff_command(
    old: Annotated[str, typer.Argument(help="Version (e.g. 1.1), or `starter`.")],
    new: Annotated[str, typer.Argument(help="Version (e.g. 2.0), or `starter`.")],
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """What changed between two versions: rules and networks added, removed or changed."""
    with open_database().reader() as session:
        result = policy_versions.diff_versions(session, cli_actor(session, as_email), old, new)
    if json_:
        print_json(result.model_dump(mode="json"))
        return
    out.print(f"{result.old_version} -> {result.new_version}", highlight=False, markup=False)
    if not result.changes:
        out.print("No changes.", highlight=False)
    for change in result.changes:
        out.print(change.line, highlight=False, markup=False)


@policy_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Policy file, TOML or JSON.")],
    note: Annotated[str, typer.Option("--note", help="What changed and why (required).")],
    major: Annotated[
        bool,
        typer.Option(
            "--major/--minor",
            help="A major version asks everyone to attest to the guidelines again.",
        ),
    ] = False,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Save a policy file as the organization's new current version (audited)."""
    policy = load_policy(file)
    with open_database().unit_of_work() as session:
        row = policy_versions.save_version(
            session,
            cli_actor(session, as_email),
            policy,
            major=major,
            note=note,
            now=SystemClock().now(),
        )
        version = row.version
    if json_:
        print_json({"version": version, "major": major})
        return
    out.print(f"Saved policy version {version}.", highlight=False)


@policy_app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of policy files."""
    sys.stdout.write(json.dumps(policy_json_schema(), indent=2, ensure_ascii=False) + "\n")
