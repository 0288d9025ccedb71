"""`groundswell users|tokens|audit ...`: administration from the machine Groundswell runs on.
Commands act as the organization's first owner unless `--as EMAIL` names another user."""

from __future__ import annotations

import smtplib
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.identity import audit_views, service
from groundswell.identity.domain import Role, Scope
from groundswell.identity.mail import send_reset_email
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.console import err, open_database, out, print_json
from groundswell.kernel.errors import InvalidInput, NotFound
from groundswell.kernel.settings import get_settings

users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
tokens_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Verify and export the audit log.", no_args_is_help=True)

AsOption = Annotated[
    str | None, typer.Option("--as", help="Act as this user (email); default: the first owner.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def cli_actor(session: Session, as_email: str | None) -> Actor:
    if as_email:
        user = session.execute(
            select(User).where(User.email == as_email.strip().lower())
        ).scalar_one_or_none()
        if user is None or not user.is_active:
            raise NotFound(f"No active user {as_email}.")
    else:
        user = service.first_owner(session)
        if user is None:
            raise NotFound("No organization yet. Run `groundswell init` first.")
    actor = service.actor_for_user(user)
    return Actor(actor.user_id, actor.organization_id, actor.email, actor.role, ip="cli")


def read_password(password_file: Path | None, prompt: str = "Password") -> str:
    if password_file is not None:
        if str(password_file) == "-":
            return sys.stdin.readline().rstrip("\n")
        try:
            return password_file.read_text().rstrip("\n")
        except OSError as exc:
            raise InvalidInput(
                f"Cannot read the password file {password_file}: {exc.strerror}."
            ) from exc
    if not sys.stdin.isatty():
        raise InvalidInput("No password given: pass --password-file FILE (or - for stdin).")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=True))


@users_app.command("create")
def users_create(
    email: Annotated[str, typer.Option(help="Email address of the new user.")],
    role: Annotated[Role, typer.Option(help="Role in the organization.")] = Role.VIEWER,
    name: Annotated[str, typer.Option(help="Display name.")] = "",
    password_file: Annotated[
        Path | None, typer.Option(help="File holding the password (- for stdin).")
    ] = None,
    as_email: AsOption = None,
) -> None:
    """Create a user in your organization."""
    password = read_password(password_file)
    with open_database().unit_of_work() as session:
        user = service.create_user(
            session,
            cli_actor(session, as_email),
            email=email,
            name=name,
            role=role,
            password=password,
        )
        out.print(f"Created {user.email} ({user.role}).")


@users_app.command("list")
def users_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List the users of your organization."""
    with open_database().reader() as session:
        users = service.list_users(session, cli_actor(session, as_email))
        rows = [
            {
                "id": u.id,
                "email": u.email,
                "name": u.name,
                "role": u.role,
                "active": u.is_active,
                "last_login_at": u.last_login_at,
            }
            for u in users
        ]
    if json_:
        print_json(rows)
        return
    table = Table("email", "name", "role", "active", "last login")
    for r in rows:
        table.add_row(
            str(r["email"]),
            str(r["name"]),
            str(r["role"]),
            "yes" if r["active"] else "no",
            str(r["last_login_at"] or "never"),
        )
    out.print(table)


@users_app.command("reset-password")
def users_reset_password(email: Annotated[str, typer.Argument(help="The user's email.")]) -> None:
    """Print a one-time password-reset link (also emailed when SMTP is configured)."""
    settings = get_settings()
    with open_database().unit_of_work() as session:
        user, secret = service.request_password_reset(session, email, settings=settings)
    link = f"{settings.base_url.rstrip('/')}/reset/{secret}"
    out.print(link)  # first: the link is valid already, whatever happens to the email
    if settings.smtp_host:
        try:
            send_reset_email(settings, user.email, link)
        except (OSError, smtplib.SMTPException) as exc:
            err.print(
                f"warning: could not email the link ({type(exc).__name__}); pass it on yourself."
            )
        else:
            err.print(f"Emailed the link to {user.email}.")


@users_app.command("deactivate")
def users_deactivate(
    email: Annotated[str, typer.Argument(help="The user's email.")],
    force_reason: Annotated[
        str | None,
        typer.Option(
            help="Deactivate even though they still hold brand accounts; the reason is audited."
        ),
    ] = None,
    as_email: AsOption = None,
) -> None:
    """Deactivate a user: signs them out everywhere and revokes their tokens. Refused while
    they hold brand accounts (run `groundswell accounts handover` first) unless forced."""
    with open_database().unit_of_work() as session:
        user = service.deactivate_user(
            session, cli_actor(session, as_email), email, force_reason=force_reason
        )
        out.print(f"Deactivated {user.email}.")


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Option(help="What the token is for.")],
    scope: Annotated[list[Scope] | None, typer.Option(help="Scope (repeat for several).")] = None,
    expires_in_days: Annotated[int | None, typer.Option(min=1, max=3650)] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Create an API token; the secret is printed once."""
    with open_database().unit_of_work() as session:
        token, secret = service.create_token(
            session,
            cli_actor(session, as_email),
            name=name,
            scopes=scope or [Scope.READ],
            expires_in_days=expires_in_days,
        )
        data = {"id": token.id, "name": token.name, "scopes": token.scopes, "token": secret}
    if json_:
        print_json(data)
    else:
        err.print(
            f"Token {data['name']!r} ({', '.join(token.scopes)}). Store it now: it is not shown again."
        )
        out.print(secret)


@tokens_app.command("list")
def tokens_list(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List your API tokens (never their secrets)."""
    with open_database().reader() as session:
        tokens = service.list_tokens(session, cli_actor(session, as_email))
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "prefix": t.prefix,
                "scopes": t.scopes,
                "created_at": t.created_at,
                "last_used_at": t.last_used_at,
                "revoked": t.revoked_at is not None,
            }
            for t in tokens
        ]
    if json_:
        print_json(rows)
        return
    table = Table("id", "name", "prefix", "scopes", "last used", "revoked")
    for r in rows:
        table.add_row(
            str(r["id"]),
            str(r["name"]),
            f"{r['prefix']}…",
            ",".join(r["scopes"]),  # type: ignore[arg-type]
            str(r["last_used_at"] or "never"),
            "yes" if r["revoked"] else "no",
        )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token: Annotated[str, typer.Argument(help="Token id or prefix.")], as_email: AsOption = None
) -> None:
    """Revoke an API token at once."""
    with open_database().unit_of_work() as session:
        row = service.revoke_token(session, cli_actor(session, as_email), token)
        out.print(f"Revoked {row.name!r}.")


HEAD_FILE = "audit.head"


@audit_app.command("verify")
def audit_verify(
    json_: JsonOption = False,
    expect_head: Annotated[
        str | None,
        typer.Option(help="A head written down earlier (SEQ:SHA256): fail if the chain lost it."),
    ] = None,
) -> None:
    """Check the hash chain of the whole audit log. Exit 0 if intact; 1 naming the first bad row.

    Each successful run records the newest row (SEQ:SHA256) in <data dir>/audit.head and the
    next run checks the chain still holds it, so deleting the newest rows is caught too.
    Copy the printed head somewhere else for an anchor an attacker cannot reach."""
    settings = get_settings()
    head_file = settings.data_dir / HEAD_FILE
    try:
        expected = audit.Head.parse(expect_head) if expect_head else None
        if expected is None and head_file.exists():
            expected = audit.Head.parse(head_file.read_text())
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with open_database().reader() as session:
        report = audit.verify_chain(session, expected)
        current = audit.head(session) if report.ok else None
    if report.ok and current is not None:
        head_file.parent.mkdir(parents=True, exist_ok=True)
        head_file.write_text(f"{current}\n")
    if json_:
        print_json(
            {
                "ok": report.ok,
                "rows": report.rows,
                "head": str(current) if current else None,
                "first_bad_row": report.problem.seq if report.problem else None,
                "reason": report.problem.reason if report.problem else None,
            }
        )
    elif report.ok:
        out.print(f"Audit log intact: {report.rows} rows verified.")
        if current is not None:
            out.print(f"Head: {current}")
    else:
        assert report.problem is not None
        err.print(
            f"Audit log TAMPERED: first bad row {report.problem.seq}: {report.problem.reason}."
        )
    if not report.ok:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    format: Annotated[str, typer.Option("--format", help="jsonl or csv.")] = "jsonl",
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Export the whole audit log, oldest first."""
    if format not in ("jsonl", "csv"):
        raise InvalidInput(f"Unknown format {format!r}; use jsonl or csv.")
    with open_database().reader() as session:
        lines = audit_views.export_lines(session, format)
        if out_file is None:
            for line in lines:
                sys.stdout.write(line)
        else:
            with out_file.open("w", newline="") as fh:
                for line in lines:
                    fh.write(line)
