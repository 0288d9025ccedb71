"""`groundswell care ...`.

`care sla due` is a public contract (docs/sla.md): it prints one line, the due instant in
ISO 8601 with the zone's offset, and exits 2 with one line on stderr on a bad argument.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

import typer

from groundswell.care.cli_admin import policies_app, rules_app, teams_app
from groundswell.care.cli_conversations import conversations_app
from groundswell.care.domain import (
    BusinessHours,
    due,
    parse_holiday,
    parse_hours,
    parse_instant,
    parse_zone,
)
from groundswell.kernel.errors import InvalidInput

T = TypeVar("T")

care_app = typer.Typer(help="Care.", no_args_is_help=True)
sla_app = typer.Typer(help="SLA arithmetic in business hours.", no_args_is_help=True)
care_app.add_typer(sla_app, name="sla")
care_app.add_typer(conversations_app, name="conversations", no_args_is_help=True)
care_app.add_typer(teams_app, name="teams")
care_app.add_typer(rules_app, name="rules")
care_app.add_typer(policies_app, name="policies")


@sla_app.command("due")
def sla_due(
    start: Annotated[
        str,
        typer.Option(
            "--start",
            help="ISO 8601 start, e.g. 2026-03-09T08:30:00+01:00; without an offset it is "
            "local time in --tz.",
        ),
    ],
    minutes: Annotated[int, typer.Option("--minutes", help="Business minutes to add (0 or more).")],
    tz: Annotated[str, typer.Option("--tz", help="IANA time zone of the business hours.")],
    hours: Annotated[
        str,
        typer.Option("--hours", help='Weekly hours, e.g. "mon-fri 09:00-17:00; sat 10:00-14:00".'),
    ],
    holiday: Annotated[
        list[str] | None,
        typer.Option("--holiday", help="A closed local date YYYY-MM-DD (repeatable)."),
    ] = None,
) -> None:
    """Print the instant at which MINUTES of business hours have elapsed since START."""
    if minutes < 0:
        raise InvalidInput(f"--minutes: must be 0 or more, got {minutes}")
    zone = _read("--tz", parse_zone, tz)
    business_hours = BusinessHours(
        _read("--hours", parse_hours, hours),
        zone,
        frozenset(_read("--holiday", parse_holiday, text) for text in holiday or []),
    )
    moment = _read("--start", lambda text: parse_instant(text, zone), start)
    typer.echo(due(moment, minutes, business_hours).isoformat())


def _read(option: str, parse: Callable[[str], T], text: str) -> T:
    """`parse(text)`, with the option's name in front of the message of a bad value."""
    try:
        return parse(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{option}: {exc.message}") from None
