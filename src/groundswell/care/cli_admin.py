"""`groundswell care teams|rules|policies ...`: the care set-up from the command line."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from groundswell.care import admin, schemas
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import open_database, out, print_json
from groundswell.kernel.errors import InvalidInput

teams_app = typer.Typer(help="Care teams and their members.", no_args_is_help=True)
rules_app = typer.Typer(help="Routing rules, evaluated in order.", no_args_is_help=True)
policies_app = typer.Typer(help="SLA policies: targets per priority band.", no_args_is_help=True)


@teams_app.command("list")
def teams_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List the teams."""
    with open_database().reader() as session:
        teams = [
            schemas.team_out(t) for t in admin.list_teams(session, cli_actor(session, as_email))
        ]
    if json_:
        print_json([t.model_dump(mode="json") for t in teams])
        return
    table = Table()
    for header in ("name", "time zone", "hours", "assignment", "escalation", "id"):
        table.add_column(header)
    for t in teams:
        table.add_row(t.name, t.timezone, t.business_hours, t.assignment, t.escalation, t.id)
    out.print(table)


@teams_app.command("add")
def teams_add(
    name: Annotated[str, typer.Argument(help="The team's name.")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone.")] = "UTC",
    hours: Annotated[
        str, typer.Option("--hours", help='Business hours, e.g. "mon-fri 09:00-17:00".')
    ] = "mon-fri 09:00-17:00",
    holiday: Annotated[
        list[str] | None, typer.Option("--holiday", help="A closed date YYYY-MM-DD (repeat).")
    ] = None,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="A language it answers in (repeat).")
    ] = None,
    assignment: Annotated[str, typer.Option(help="round_robin, load or manual.")] = "round_robin",
    escalation: Annotated[
        str, typer.Option(help="On a breach: notify, or reassign to the lead.")
    ] = "notify",
    lead: Annotated[str | None, typer.Option(help="The team lead's email.")] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Create a team."""
    with open_database().unit_of_work() as session:
        team = admin.save_team(
            session,
            cli_actor(session, as_email),
            name=name,
            timezone=tz,
            business_hours=hours,
            holidays=holiday or [],
            languages=language or [],
            assignment=assignment,
            escalation=escalation,
            lead=lead,
            now=SystemClock().now(),
        )
        result = schemas.team_out(team)
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"Team {result.name} created ({result.id}).", highlight=False)


@teams_app.command("member")
def teams_member(
    team: Annotated[str, typer.Argument(help="Team name or id.")],
    email: Annotated[str, typer.Argument(help="The member's email.")],
    capacity: Annotated[int, typer.Option(help="Open conversations they hold at most.")] = 10,
    language: Annotated[
        list[str] | None, typer.Option("--language", help="A language they answer in (repeat).")
    ] = None,
    available: Annotated[
        bool, typer.Option("--available/--unavailable", help="Whether they take new work.")
    ] = True,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Add someone to a team, or change their capacity, languages and availability."""
    with open_database().unit_of_work() as session:
        row = admin.set_member(
            session,
            cli_actor(session, as_email),
            team,
            email,
            capacity=capacity,
            languages=language or [],
            available=available,
            now=SystemClock().now(),
        )
        result = schemas.member_out(row)
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"{email} is in {team} (capacity {capacity}).", highlight=False)


@policies_app.command("list")
def policies_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List the SLA policies."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        rows = [schemas.policy_out(p) for p in admin.list_policies(session, actor)]
    if json_:
        print_json([p.model_dump(mode="json") for p in rows])
        return
    table = Table()
    for header in ("team", "priority ≥", "first response", "next response", "resolution"):
        table.add_column(header)
    for p in rows:
        table.add_row(
            p.team_id or "(default)",
            str(p.min_priority),
            f"{p.first_response_minutes} min",
            f"{p.next_response_minutes} min",
            f"{p.resolution_minutes} min",
        )
    out.print(table)


@policies_app.command("set")
def policies_set(
    first: Annotated[int, typer.Option("--first", help="First response, business minutes.")],
    next_: Annotated[int, typer.Option("--next", help="Next response, business minutes.")],
    resolution: Annotated[int, typer.Option("--resolution", help="Resolution, business minutes.")],
    min_priority: Annotated[
        int, typer.Option("--min-priority", help="The band: conversations of priority ≥ this.")
    ] = 0,
    team: Annotated[
        str | None, typer.Option(help="Team name or id; leave out for the default policy.")
    ] = None,
    name: Annotated[str, typer.Option(help="A label for the band.")] = "",
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Set the targets of one priority band (of a team, or the default)."""
    with open_database().unit_of_work() as session:
        row = admin.set_policy(
            session,
            cli_actor(session, as_email),
            name=name,
            first_response_minutes=first,
            next_response_minutes=next_,
            resolution_minutes=resolution,
            min_priority=min_priority,
            team=team,
            now=SystemClock().now(),
        )
        result = schemas.policy_out(row)
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"SLA policy {result.name} set.", highlight=False)


def _json_object(option: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{option}: not JSON ({exc.msg}).") from None
    if not isinstance(value, dict):
        raise InvalidInput(f'{option}: a JSON object, e.g. \'{{"labels": ["complaint"]}}\'.')
    return value


@rules_app.command("list")
def rules_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List the routing rules in evaluation order."""
    with open_database().reader() as session:
        rows = [
            schemas.rule_out(r) for r in admin.list_rules(session, cli_actor(session, as_email))
        ]
    if json_:
        print_json([r.model_dump(mode="json") for r in rows])
        return
    table = Table()
    for header in ("#", "name", "when", "then", "active", "id"):
        table.add_column(header)
    for r in rows:
        table.add_row(
            str(r.position),
            r.name,
            json.dumps(r.conditions),
            json.dumps(r.actions),
            "yes" if r.active else "no",
            r.id,
        )
    out.print(table)


@rules_app.command("add")
def rules_add(
    name: Annotated[str, typer.Argument(help="The rule's name.")],
    when: Annotated[
        str, typer.Option("--when", help='Conditions as JSON, e.g. {"labels": ["complaint"]}.')
    ] = "{}",
    then: Annotated[
        str, typer.Option("--then", help='Actions as JSON, e.g. {"priority": 90, "tags": ["vip"]}.')
    ] = "{}",
    position: Annotated[
        int | None, typer.Option(help="Where in the order (default: last).")
    ] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Add a routing rule (docs/care.md lists the conditions and actions)."""
    with open_database().unit_of_work() as session:
        row = admin.save_rule(
            session,
            cli_actor(session, as_email),
            name=name,
            conditions=_json_object("--when", when),
            actions=_json_object("--then", then),
            position=position,
            now=SystemClock().now(),
        )
        result = schemas.rule_out(row)
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"Rule {result.name} added at position {result.position}.", highlight=False)


@rules_app.command("remove")
def rules_remove(
    rule_id: Annotated[str, typer.Argument(help="The rule's id.")], as_email: AsOption = None
) -> None:
    """Delete a routing rule."""
    with open_database().unit_of_work() as session:
        admin.delete_rule(session, cli_actor(session, as_email), rule_id, now=SystemClock().now())
    out.print("Rule removed.")
