"""`groundswell governance model|units|approvals ...`: the coordination model, units and
approvals on the command line.

Commands act as the organization's first owner unless `--as EMAIL` names another user; every
listing takes `--json`. Exit codes: 0 done, 1 refused or conflicting (e.g. not allowed to
approve), 2 invalid input."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from groundswell.governance import approvals, service, units
from groundswell.governance.approvals_views import Box, list_requests
from groundswell.governance.domain import CoordinationModel, rules_rows
from groundswell.governance.units import UnitKind
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.identity.domain import Role
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import open_database, out, print_json

model_app = typer.Typer(help="The coordination model.", no_args_is_help=True)
units_app = typer.Typer(help="Units: the hub, business units, regions.", no_args_is_help=True)
approvals_app = typer.Typer(help="Approval requests.", no_args_is_help=True)


@model_app.command("show")
def model_show(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Print the coordination model, crisis mode, and what the model allows."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        shown = service.coordination_settings(session, actor.organization_id)
    if json_:
        print_json(shown.model_dump(mode="json"))
        return
    out.print(f"Coordination model: {service.MODEL_LABELS[shown.model]} ({shown.model.value})")
    if shown.model_changed_at:
        out.print(f"  set {shown.model_changed_at:%Y-%m-%d %H:%M} UTC by {shown.model_changed_by}")
    out.print(f"  {service.MODEL_SUMMARIES[shown.model]}", highlight=False)
    crisis = f"ON: {shown.crisis_reason}" if shown.crisis_mode else "off"
    out.print(f"Crisis mode: {crisis}", highlight=False)
    table = Table(title="Actions (account of a business unit, no findings, no crisis)")
    table.add_column("action", no_wrap=True)
    table.add_column("allowed at once / approvals / refused for")
    for action, decisions in rules_rows(shown.model):
        cells = sorted({("—" if not d.allowed else str(d.approvals_needed)) for d in decisions})
        table.add_row(service.ACTION_LABELS[action], ", ".join(cells))
    out.print(table)


@model_app.command("set")
def model_set(
    model: Annotated[CoordinationModel, typer.Argument(help="The model to switch to.")],
    as_email: AsOption = None,
) -> None:
    """Switch the coordination model (an owner at once; an admin's switch asks an owner)."""
    now = SystemClock().now()
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        try:
            changed = service.set_model(session, actor, model, now=now)
        except service.ApprovalRequired:
            row = approvals.request_model_change(session, actor, model, now=now)
            out.print(f"Sent to an owner for approval (request {row.id}).")
            return
    label = service.MODEL_LABELS[model]
    out.print(f"The coordination model {'is now' if changed else 'already is'} {label}.")


@units_app.command("list")
def units_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List units and their members."""
    with open_database().reader() as session:
        listed = units.list_units(session, cli_actor(session, as_email))
    if json_:
        print_json([u.model_dump(mode="json") for u in listed])
        return
    if not listed:
        out.print("No units yet: everyone counts as a member of the hub.")
        return
    table = Table()
    for column in ("key", "name", "kind", "members"):
        table.add_column(column, no_wrap=column == "key")
    for u in listed:
        members = ", ".join(f"{m.email} ({m.effective_role.value})" for m in u.members) or "—"
        table.add_row(u.key, u.name, u.kind.value, members)
    out.print(table)


@units_app.command("add")
def units_add(
    name: Annotated[str, typer.Argument(help="The unit's name.")],
    kind: Annotated[UnitKind, typer.Option(help="hub, business_unit or region.")] = (
        UnitKind.BUSINESS_UNIT
    ),
    key: Annotated[str | None, typer.Option(help="Short key (default: from the name).")] = None,
    description: Annotated[str, typer.Option(help="What the unit does.")] = "",
    as_email: AsOption = None,
) -> None:
    """Add the hub, a business unit or a region."""
    with open_database().unit_of_work() as session:
        unit = units.create_unit(
            session,
            cli_actor(session, as_email),
            name=name,
            kind=kind,
            key=key,
            description=description,
            now=SystemClock().now(),
        )
        out.print(f"Added {unit.name} (key {unit.key}).", highlight=False)


@units_app.command("delete")
def units_delete(
    unit: Annotated[str, typer.Argument(help="Unit key or id.")], as_email: AsOption = None
) -> None:
    """Delete a unit and its memberships."""
    with open_database().unit_of_work() as session:
        units.delete_unit(session, cli_actor(session, as_email), unit, now=SystemClock().now())
    out.print(f"Deleted {unit}.", highlight=False)


@units_app.command("add-member")
def units_add_member(
    unit: Annotated[str, typer.Argument(help="Unit key or id.")],
    user: Annotated[str, typer.Argument(help="The person's email.")],
    role: Annotated[Role, typer.Option(help="manager, agent, contributor or viewer.")] = Role.AGENT,
    as_email: AsOption = None,
) -> None:
    """Add a member to a unit, or change their role there."""
    with open_database().unit_of_work() as session:
        units.set_member(
            session, cli_actor(session, as_email), unit, user, role, now=SystemClock().now()
        )
    out.print(f"{user} is {role.value} in {unit}.", highlight=False)


@units_app.command("remove-member")
def units_remove_member(
    unit: Annotated[str, typer.Argument(help="Unit key or id.")],
    user: Annotated[str, typer.Argument(help="The person's email.")],
    as_email: AsOption = None,
) -> None:
    """Remove a member from a unit."""
    with open_database().unit_of_work() as session:
        units.remove_member(
            session, cli_actor(session, as_email), unit, user, now=SystemClock().now()
        )
    out.print(f"{user} left {unit}.", highlight=False)


@approvals_app.command("list")
def approvals_list(
    box: Annotated[Box, typer.Option(help="for_me, mine or decided.")] = Box.FOR_ME,
    limit: Annotated[int, typer.Option(min=1, max=200, help="At most this many.")] = 50,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """List approval requests waiting for you (or yours, or decided ones)."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        items, _ = list_requests(session, actor, box, now=SystemClock().now(), limit=limit)
    if json_:
        print_json([i.model_dump(mode="json") for i in items])
        return
    if not items:
        out.print("Nothing here.")
        return
    for i in items:
        # One block per request: ids and summaries stay whole at any terminal width.
        out.print(
            f"{i.id}  {i.status.value}  {i.approvals}/{i.approvals_needed} approvals",
            highlight=False,
        )
        out.print(f"  {i.summary}", highlight=False, markup=False)
        out.print(
            f"  asked by {i.requester} on {i.created_at:%Y-%m-%d %H:%M} UTC; {i.reason}",
            highlight=False,
            markup=False,
        )


@approvals_app.command("approve")
def approvals_approve(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    comment: Annotated[str, typer.Option(help="A comment for the requester.")] = "",
    as_email: AsOption = None,
) -> None:
    """Give one approval."""
    with open_database().unit_of_work() as session:
        row = approvals.approve(
            session,
            cli_actor(session, as_email),
            request_id,
            comment=comment,
            now=SystemClock().now(),
        )
        status = row.status
    out.print(f"Approved; the request is {status}.")


@approvals_app.command("reject")
def approvals_reject(
    request_id: Annotated[str, typer.Argument(help="The request's id.")],
    comment: Annotated[str, typer.Option(help="Why (required; the requester reads it).")],
    as_email: AsOption = None,
) -> None:
    """Reject a request, saying why."""
    with open_database().unit_of_work() as session:
        approvals.reject(
            session,
            cli_actor(session, as_email),
            request_id,
            comment=comment,
            now=SystemClock().now(),
        )
    out.print("Rejected.")
