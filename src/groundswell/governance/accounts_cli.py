"""`groundswell accounts ...` and `groundswell vault ...`: the brand-account registry.

Commands act as the organization's first owner unless `--as EMAIL` names another user. Every
command takes `--json`. Secrets are read from a file or stdin, never from an argument (which
would land in the shell history and the process list), and are never printed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from groundswell.governance import accounts
from groundswell.governance.accounts import AccountInfo, AccountRole, HandoverReport
from groundswell.governance.vault import Vault, generate_key, rotate_key
from groundswell.identity.cli import AsOption, JsonOption, cli_actor
from groundswell.kernel import audit
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import err, open_database, out, print_json
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.settings import get_settings

accounts_app = typer.Typer(help="Brand accounts the organization owns.", no_args_is_help=True)
vault_app = typer.Typer(help="The encrypted credential vault.", no_args_is_help=True)

AccountArg = Annotated[str, typer.Argument(help="Account id or network:handle (e.g. x:acme).")]


def account_json(info: AccountInfo) -> dict[str, Any]:
    """The public JSON shape of an account (also the API's): never a secret."""
    return info.model_dump(mode="json")


def _people(info: AccountInfo) -> str:
    return ", ".join(a.email + ("" if a.active else " (deactivated)") for a in info.admins) or "—"


def _print_account(info: AccountInfo) -> None:
    out.print(f"[bold]{info.network}:{info.handle}[/]  ({info.id})", highlight=False)
    rows = [
        ("URL", info.url or "—"),
        ("Unit", info.unit or "—"),
        ("Purpose", info.purpose or "—"),
        ("Business owner", info.business_owner.email if info.business_owner else "—"),
        ("Admins", _people(info)),
    ]
    if info.personal_brand:
        rows.append(("Personal brand of", info.personal_brand.employee.email))
        rows.append(("Ownership agreement", info.personal_brand.ownership_agreement))
    for key, value in rows:
        out.print(f"  {key}: {value}", highlight=False)
    for c in info.credentials:
        flag = f"  [yellow]ROTATE: {c.rotation_reason}[/]" if c.needs_rotation else ""
        out.print(f"  Credential {c.name}: {c.summary}{flag}", highlight=False)
    for r in info.risks:
        out.print(f"  [yellow]warning:[/] {r.message}", highlight=False)


def _table(*headers: str) -> Table:
    """A table whose first column, "network:handle", never wraps (people and scripts search
    for it)."""
    table = Table()
    table.add_column("account", no_wrap=True)
    for header in headers:
        table.add_column(header)
    return table


def _read_secret(file: Path | None) -> str:
    if file is not None and str(file) != "-":
        try:
            return file.read_text().rstrip("\n")
        except OSError as exc:
            raise InvalidInput(f"Cannot read the secret file {file}: {exc.strerror}.") from exc
    if file is None and sys.stdin.isatty():
        return str(typer.prompt("Secret", hide_input=True, confirmation_prompt=True))
    return sys.stdin.read().rstrip("\n")


@accounts_app.command("add")
def add(
    network: Annotated[str, typer.Option(help="Network: x, instagram, linkedin, tiktok, ...")],
    handle: Annotated[str, typer.Option(help="The account's handle (a leading @ is dropped).")],
    url: Annotated[str, typer.Option(help="Profile URL.")] = "",
    unit: Annotated[str, typer.Option(help="Owning unit (free text).")] = "",
    purpose: Annotated[str, typer.Option(help="What the account is for.")] = "",
    owner: Annotated[
        str | None, typer.Option("--owner", help="Business owner (email of a user).")
    ] = None,
    admin: Annotated[
        list[str] | None, typer.Option("--admin", help="Admin (email); repeat, at least two.")
    ] = None,
    personal_of: Annotated[
        str | None,
        typer.Option("--personal-of", help="Personal-brand account of this employee (email)."),
    ] = None,
    agreement: Annotated[
        str | None,
        typer.Option("--agreement", help="The ownership agreement (needed with --personal-of)."),
    ] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Register a brand account."""
    with open_database().unit_of_work() as session:
        account = accounts.create_account(
            session,
            cli_actor(session, as_email),
            network=network,
            handle=handle,
            url=url,
            unit=unit,
            purpose=purpose,
            business_owner=owner,
            admins=admin or [],
            employee=personal_of,
            ownership_agreement=agreement,
        )
        info = accounts.describe(session, [account])[0]
    if json_:
        print_json(account_json(info))
        return
    out.print(f"Registered {info.network}:{info.handle} ({info.id}).", highlight=False)
    for r in info.risks:
        err.print(f"warning: {r.message}", highlight=False)


@accounts_app.command("list")
def list_(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """List the organization's brand accounts with their warnings."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        infos = accounts.describe(session, accounts.list_accounts(session, actor))
    if json_:
        print_json([account_json(i) for i in infos])
        return
    table = _table("unit", "business owner", "admins", "credentials", "warnings")
    for i in infos:
        table.add_row(
            f"{i.network}:{i.handle}",
            i.unit or "—",
            i.business_owner.email if i.business_owner else "—",
            _people(i),
            ", ".join(c.name for c in i.credentials) or "—",
            "; ".join(r.message for r in i.risks) or "—",
        )
    out.print(table)


@accounts_app.command("show")
def show(account: AccountArg, as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Show one account: people, credentials (never their secrets), warnings."""
    with open_database().reader() as session:
        actor = cli_actor(session, as_email)
        info = accounts.describe(session, [accounts.access_account(session, actor, account)])[0]
    if json_:
        print_json(account_json(info))
    else:
        _print_account(info)


RoleOption = Annotated[
    AccountRole, typer.Option("--role", help="admin, or owner (the business owner).")
]


@accounts_app.command("grant")
def grant(
    account: AccountArg,
    user: Annotated[str, typer.Argument(help="The user's email.")],
    role: RoleOption = AccountRole.ADMIN,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Make a user admin (or, with --role owner, business owner) of an account."""
    with open_database().unit_of_work() as session:
        row = accounts.grant(session, cli_actor(session, as_email), account, user, role)
        info = accounts.describe(session, [row])[0]
    if json_:
        print_json(account_json(info))
    else:
        out.print(f"{user} is now {role.value} of {info.network}:{info.handle}.", highlight=False)


@accounts_app.command("revoke")
def revoke(
    account: AccountArg,
    user: Annotated[str, typer.Argument(help="The user's email.")],
    role: RoleOption = AccountRole.ADMIN,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Remove a user's admin (or business-owner) role on an account."""
    with open_database().unit_of_work() as session:
        row = accounts.revoke(session, cli_actor(session, as_email), account, user, role)
        info = accounts.describe(session, [row])[0]
    if json_:
        print_json(account_json(info))
        return
    out.print(f"{user} is no longer {role.value} of {info.network}:{info.handle}.", highlight=False)
    for r in info.risks:
        err.print(f"warning: {r.message}", highlight=False)


@accounts_app.command("set-credential")
def set_credential(
    account: AccountArg,
    name: Annotated[
        str, typer.Option("--name", help="Which secret: password, api-token, recovery-codes...")
    ] = "password",
    file: Annotated[
        Path | None,
        typer.Option("--file", help="File holding the secret (- or absent: stdin)."),
    ] = None,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Store a secret encrypted in the vault. It is never shown again."""
    secret = _read_secret(file)
    settings = get_settings()
    with open_database(settings).unit_of_work() as session:
        vault = Vault.open(settings.data_dir)
        cred = accounts.set_credential(
            session, cli_actor(session, as_email), vault, account, name, secret
        )
        data = {
            "account_id": cred.account_id,
            "name": cred.name,
            "set_at": cred.set_at.isoformat(),
            "set_by": cred.set_by_label,
        }
    if json_:
        print_json(data)
    else:
        out.print(
            f"Credential {data['name']} set on {cred.set_at:%Y-%m-%d} by {data['set_by']}. "
            "It is stored encrypted and will not be shown again.",
            highlight=False,
        )


@accounts_app.command("orphans")
def orphans(as_email: AsOption = None, json_: JsonOption = False) -> None:
    """Accounts at risk of being orphaned: fewer than two active admins, a deactivated admin,
    no (active) business owner. Exit code 0 either way (it is a report)."""
    with open_database().reader() as session:
        infos = accounts.orphan_report(session, cli_actor(session, as_email))
    if json_:
        print_json(
            [
                {
                    "id": i.id,
                    "account": f"{i.network}:{i.handle}",
                    "network": i.network,
                    "handle": i.handle,
                    "unit": i.unit,
                    "business_owner": i.business_owner.email if i.business_owner else None,
                    "admins": [a.email for a in i.admins if a.active],
                    "risks": [r.model_dump() for r in i.risks],
                }
                for i in infos
            ]
        )
        return
    if not infos:
        out.print("No orphan risk: every account has an active business owner and two admins.")
        return
    table = _table("unit", "risks")
    for i in infos:
        table.add_row(
            f"{i.network}:{i.handle}", i.unit or "—", "\n".join(r.message for r in i.risks)
        )
    out.print(table)


def _print_handover(report: HandoverReport) -> None:
    verb = "Handed over" if report.applied else "Would hand over"
    out.print(
        f"{verb} from {report.from_user.email} to {report.to_user.email}: "
        f"{len(report.items)} item(s).",
        highlight=False,
    )
    for item in report.items:
        what = f"{item.account} credential {item.credential}" if item.credential else item.account
        note = f" — {item.note}" if item.note else ""
        out.print(f"  {item.kind}: {what}{note}", highlight=False)
    for name in report.credentials_flagged:
        out.print(f"  flagged for rotation: {name}", highlight=False)


@accounts_app.command("handover")
def handover(
    from_: Annotated[str, typer.Option("--from", help="The leaver (email).")],
    to: Annotated[str, typer.Option("--to", help="The successor (email).")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only list what would move; change nothing.")
    ] = False,
    as_email: AsOption = None,
    json_: JsonOption = False,
) -> None:
    """Move every account role and credential of a leaver to a successor, flag the
    credentials for rotation, audit it all."""
    with open_database().unit_of_work() as session:
        report = accounts.handover(
            session, cli_actor(session, as_email), from_, to, apply=not dry_run
        )
    if json_:
        print_json(report.model_dump(mode="json"))
    else:
        _print_handover(report)


@vault_app.command("rotate-key")
def vault_rotate_key(
    keep_old: Annotated[
        bool, typer.Option("--keep-old", help="Keep the old keys in vault.key for reading.")
    ] = False,
    json_: JsonOption = False,
) -> None:
    """Generate a new vault key and re-encrypt every secret under it (the old key reads until
    the end). With GROUNDSWELL_VAULT_KEYS: re-encrypt under its first key."""
    settings = get_settings()
    db = open_database(settings)
    try:
        result = rotate_key(
            db,
            settings.data_dir,
            audit.AuditActor(None, "cli: vault rotate-key", None, "cli"),
            SystemClock(),
            keep_old=keep_old,
        )
    finally:
        db.dispose()
    data = {
        "reencrypted": result.reencrypted,
        "keys_in_use": result.keys_kept,
        "key_source": result.origin,
        "new_key_generated": result.new_key_generated,
    }
    if json_:
        print_json(data)
    else:
        out.print(
            f"Re-encrypted {result.reencrypted} secret(s); {result.keys_kept} key(s) now in "
            f"{result.origin}.",
            highlight=False,
        )


@vault_app.command("generate-key")
def vault_generate_key() -> None:
    """Print a new Fernet key (for GROUNDSWELL_VAULT_KEYS); stores nothing."""
    sys.stdout.write(generate_key().decode() + "\n")
