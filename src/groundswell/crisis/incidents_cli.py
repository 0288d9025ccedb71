"""`groundswell crisis detect|incidents|mode|drill ...`: the live side of the crisis room
from the command line. Commands act as the organization's first owner unless `--as EMAIL`
names another user."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from groundswell.crisis import drills, jobs, playbooks, service
from groundswell.crisis.tables import Incident
from groundswell.governance.service import coordination_settings, set_crisis_mode
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import open_database, out, print_json

incidents_app = typer.Typer(help="Incidents: list, open, close.", no_args_is_help=True)
mode_app = typer.Typer(
    help="Crisis mode: every public reply and post needs approval.", no_args_is_help=True
)
drill_app = typer.Typer(help="Drills: practise on a simulated crisis.", no_args_is_help=True)


def incident_json(i: Incident) -> dict[str, Any]:
    return {
        "id": i.id,
        "title": i.title,
        "kind": i.kind,
        "severity": i.severity,
        "status": i.status,
        "is_drill": i.is_drill,
        "alert_id": i.alert_id,
        "opened_at": i.opened_at.isoformat(),
        "closed_at": i.closed_at.isoformat() if i.closed_at else None,
    }


def detect() -> None:
    """Run live spike detection once now (the worker runs it every minute)."""
    stored = jobs.detect(open_database(), SystemClock())
    out.print(f"{stored} new alert(s).", highlight=False)


@incidents_app.command("list")
def incidents_list(
    status: Annotated[str | None, typer.Option(help="active, open, monitoring or closed.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=200)] = 50,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Incidents, newest first (drills marked)."""
    with open_database().reader() as session:
        rows, _ = service.list_incidents(
            session, cli_actor(session, as_email), status=status, limit=limit
        )
    if json_:
        print_json([incident_json(i) for i in rows])
        return
    table = Table(title=f"{len(rows)} incident(s)")
    for column in ("id", "severity", "status", "title", "opened"):
        table.add_column(column, overflow="fold")
    for i in rows:
        title = f"[DRILL] {i.title}" if i.is_drill else i.title
        table.add_row(i.id, i.severity, i.status, title, i.opened_at.strftime("%Y-%m-%d %H:%M"))
    out.print(table)


@incidents_app.command("open")
def incidents_open(
    title: Annotated[str, typer.Option(help="Short title.")],
    kind: Annotated[str, typer.Option("--type", help=f"Playbook: {', '.join(playbooks.kinds())}.")],
    severity: Annotated[str, typer.Option(help="sev1 (critical) … sev4 (watch).")] = "sev3",
    summary: Annotated[str, typer.Option(help="What is going on.")] = "",
    alert: Annotated[str | None, typer.Option(help="Open from this alert id.")] = None,
    drill: Annotated[bool, typer.Option("--drill", help="Mark as a drill.")] = False,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Open an incident with its playbook's checklist; you become its commander."""
    with open_database().unit_of_work() as session:
        incident = service.open_incident(
            session,
            cli_actor(session, as_email),
            title=title,
            kind=kind,
            severity=severity,
            summary=summary,
            alert_id=alert,
            is_drill=drill,
            now=SystemClock().now(),
        )
        data = incident_json(incident)
    if json_:
        print_json(data)
    else:
        out.print(f"Opened incident {data['id']}: {data['title']}", highlight=False)


@incidents_app.command("close")
def incidents_close(
    incident_id: Annotated[str, typer.Argument(help="Incident id.")],
    summary: Annotated[str, typer.Option(help="What happened, in a few sentences.")],
    as_email: AsOption = None,
) -> None:
    """Close an incident; this opens its blameless review."""
    with open_database().unit_of_work() as session:
        service.close_incident(
            session,
            cli_actor(session, as_email),
            incident_id,
            summary=summary,
            now=SystemClock().now(),
        )
    out.print(f"Closed {incident_id}; its review is open.", highlight=False)


@mode_app.command("on")
def mode_on(
    reason: Annotated[str, typer.Option(help="Why (shown to everyone in the banner).")],
    as_email: AsOption = None,
) -> None:
    """Turn crisis mode on."""
    with open_database().unit_of_work() as session:
        set_crisis_mode(
            session, cli_actor(session, as_email), True, reason=reason, now=SystemClock().now()
        )
    out.print("Crisis mode is ON: every public reply and post needs approval.", highlight=False)


@mode_app.command("off")
def mode_off(as_email: AsOption = None) -> None:
    """Turn crisis mode off."""
    with open_database().unit_of_work() as session:
        set_crisis_mode(
            session, cli_actor(session, as_email), False, reason="", now=SystemClock().now()
        )
    out.print("Crisis mode is off.", highlight=False)


@mode_app.command("status")
def mode_status(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Is crisis mode on?"""
    with open_database().reader() as session:
        gov = coordination_settings(session, cli_actor(session, as_email).organization_id)
    if json_:
        print_json({"on": gov.crisis_mode, "reason": gov.crisis_reason})
    else:
        state = "ON" if gov.crisis_mode else "off"
        reason = f" ({gov.crisis_reason})" if gov.crisis_reason else ""
        out.print(f"Crisis mode is {state}{reason}.", highlight=False)


@drill_app.command("start")
def drill_start(
    name: Annotated[str, typer.Option(help="Name of the drill.")] = "Outage drill",
    scenario: Annotated[str, typer.Option(help="Fake-connector scenario (name or file).")] = "demo",
    as_email: AsOption = None,
) -> None:
    """Start a drill: a day of simulated posts, then a surge 10 minutes from now."""
    plan = drills.DrillPlan(scenario=scenario)
    with open_database().unit_of_work() as session:
        drill = drills.start_drill(
            session, cli_actor(session, as_email), name=name, plan=plan, now=SystemClock().now()
        )
        out.print(
            f"Drill {drill.id} started: {drill.posts} posts on topic {drill.topic!r}.",
            highlight=False,
        )


@drill_app.command("stop")
def drill_stop(
    drill_id: Annotated[str, typer.Argument(help="Drill id.")], as_email: AsOption = None
) -> None:
    """Stop a drill; its posts not yet revealed are removed."""
    with open_database().unit_of_work() as session:
        drills.stop_drill(session, cli_actor(session, as_email), drill_id, now=SystemClock().now())
    out.print(f"Drill {drill_id} stopped.", highlight=False)
