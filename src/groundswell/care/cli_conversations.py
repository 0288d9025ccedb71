"""`groundswell care conversations ...`: the inbox from the command line.

Commands act as the organization's first owner unless `--as EMAIL` names another user; every
command takes `--json` (the API's shapes)."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import schemas, service
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import open_database, out, print_json
from groundswell.kernel.errors import InvalidInput, NotFound

conversations_app = typer.Typer(help="Conversations: list, show, assign, reply, resolve.")

IdArg = Annotated[str, typer.Argument(help="The conversation's id.")]


def _user_id(session: Session, actor: Actor, email: str) -> str:
    found = session.scalar(
        select(User.id).where(
            User.organization_id == actor.organization_id, User.email == email.strip().lower()
        )
    )
    if found is None:
        raise NotFound(f"No user {email!r} in your organization.")
    return found


def _moment(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "—"


def _print_conversation(c: schemas.ConversationOut) -> None:
    private = " (direct messages: replies are private)" if c.channel == "direct" else ""
    out.print(f"[bold]{c.customer_handle or c.customer_name}[/] on {c.source}{private}  ({c.id})")
    rows = [
        ("Status", c.status),
        ("Priority", str(c.priority)),
        ("Assignee", c.assignee.email if c.assignee else "—"),
        ("Team", c.team or "—"),
        ("Tags", ", ".join(c.tags) or "—"),
        ("SLA", f"{c.sla_target} due {_moment(c.sla_due_at)}" if c.sla_target else "—"),
    ]
    for key, value in rows:
        out.print(f"  {key}: {value}", highlight=False)


@conversations_app.command("list")
def list_(
    view: Annotated[
        str,
        typer.Option(
            help="all, mine, unassigned, breaching, direct (direct messages) or team:<id>."
        ),
    ] = "all",
    status: Annotated[
        str | None, typer.Option(help="One status, or `any` (default: every unresolved one).")
    ] = None,
    q: Annotated[str | None, typer.Option("--q", help="Search text.")] = None,
    limit: Annotated[int, typer.Option(help="Conversations per page (1-200).")] = 50,
    cursor: Annotated[str | None, typer.Option(help="Continue after this cursor.")] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """List conversations, newest activity first."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        page = service.list_conversations(
            session,
            actor,
            view=view,
            status=status,
            q=q,
            cursor=cursor,
            limit=limit,
            now=SystemClock().now(),
        )
        items = schemas.conversations_out(session, page.items)
    if json_:
        print_json(
            schemas.ConversationList(items=items, next_cursor=page.next_cursor).model_dump(
                mode="json"
            )
        )
        return
    if not items:
        out.print("No conversations here.")
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    table.add_column("customer", no_wrap=True)
    for header in ("status", "priority", "assignee", "SLA due", "preview"):
        table.add_column(header)
    for c in items:
        table.add_row(
            c.id,
            (c.customer_handle or c.customer_name) + (" [DM]" if c.channel == "direct" else ""),
            c.status,
            str(c.priority),
            c.assignee.email if c.assignee else "—",
            _moment(c.sla_due_at),
            c.preview[:60],
        )
    out.print(table)
    if page.next_cursor:
        out.print(f"More: --cursor {page.next_cursor}", highlight=False)


@conversations_app.command("show")
def show(conversation_id: IdArg, as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Show a conversation with its messages and notes."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        conversation = service.access_conversation(session, actor, conversation_id)
        found = schemas.detail(
            session, conversation, service.messages(session, actor, conversation_id)
        )
    if json_:
        print_json(found.model_dump(mode="json"))
        return
    _print_conversation(found.conversation)
    for m in found.messages:
        state = f" [{m.delivery_status}]" if m.delivery_status else ""
        out.print(
            f"\n{_moment(m.created_at)} {m.direction} {m.author_label}{state}", highlight=False
        )
        out.print(f"  {m.text}", highlight=False)


@conversations_app.command("assign")
def assign(
    conversation_id: IdArg,
    to: Annotated[
        str | None, typer.Option("--to", help="The assignee's email; leave out to unassign.")
    ] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Assign a conversation to someone (or nobody)."""
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        assignee = _user_id(session, actor, to) if to else None
        row = service.assign(session, actor, conversation_id, assignee, now=SystemClock().now())
        result = schemas.conversations_out(session, [row])[0]
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"Assigned to {to}." if to else "Unassigned.")


@conversations_app.command("reply")
def reply(
    conversation_id: IdArg,
    text: Annotated[str, typer.Option("--text", help="The reply; `-` reads it from stdin.")],
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Reply to the customer (checked by the organization's policy; may wait for approval)."""
    body = sys.stdin.read().strip() if text == "-" else text
    if not body:
        raise InvalidInput("--text: the reply is empty.")
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        message = service.reply(session, actor, conversation_id, body, now=SystemClock().now())
        result = schemas.message_out(message)
    if json_:
        print_json(result.model_dump(mode="json"))
    elif result.delivery_status == "awaiting_approval":
        out.print(f"Waiting for approval (request {result.approval_request_id}).")
    else:
        out.print(f"Queued: it goes out at {_moment(result.send_after)} (undo before then).")


@conversations_app.command("resolve")
def resolve(conversation_id: IdArg, as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Resolve a conversation."""
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        row = service.resolve(session, actor, conversation_id, now=SystemClock().now())
        result = schemas.conversations_out(session, [row])[0]
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print("Resolved.")


@conversations_app.command("status")
def status(
    conversation_id: IdArg,
    new_status: Annotated[
        str, typer.Argument(metavar="STATUS", help="new, open, pending_customer, snoozed, resolved")
    ],
    until: Annotated[
        str | None, typer.Option(help="Snooze until this ISO 8601 time (with snoozed).")
    ] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Change a conversation's status (pending_customer pauses the SLA clock)."""
    snooze_until = None
    if until:
        try:
            snooze_until = datetime.fromisoformat(until)
        except ValueError:
            raise InvalidInput(f"--until: {until!r} is not an ISO 8601 time.") from None
        if snooze_until.tzinfo is None:
            raise InvalidInput("--until: give the offset, e.g. 2026-03-02T09:00:00+01:00.")
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        row = service.set_status(
            session,
            actor,
            conversation_id,
            new_status,
            snooze_until=snooze_until,
            now=SystemClock().now(),
        )
        result = schemas.conversations_out(session, [row])[0]
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"Now {result.status}.")


@conversations_app.command("note")
def note(
    conversation_id: IdArg,
    text: Annotated[str, typer.Argument(help="The note; @email or @name notifies people.")],
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Add an internal note (never sent to the customer)."""
    with open_database().unit_of_work() as session:
        actor = cli_actor(session, as_email)
        message = service.add_note(session, actor, conversation_id, text, now=SystemClock().now())
        result = schemas.message_out(message)
    if json_:
        print_json(result.model_dump(mode="json"))
    else:
        out.print("Note added.")
