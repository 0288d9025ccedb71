"""Pages of the brand-account registry: the list with orphan warnings, one account, the
orphan report and the hand-over wizard (choose leaver and successor, preview, confirm).
Secrets are typed into a password field and never rendered back."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from groundswell.governance import accounts
from groundswell.governance.accounts import AccountRole
from groundswell.governance.vault import Vault
from groundswell.identity.deps import (
    ClockDep,
    DbDep,
    PageActor,
    ReadSession,
    SettingsDep,
    csrf_protect,
)
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/governance/accounts"


def _members(db: Database, actor: Actor) -> list[User]:
    with db.reader() as session:
        return list(
            session.execute(
                select(User)
                .where(User.organization_id == actor.organization_id)
                .order_by(User.email)
            ).scalars()
        )


def _list_page(
    request: Request, actor: Actor, db: Database, *, error: str | None = None, status: int = 200
) -> Response:
    with db.reader() as session:
        infos = accounts.describe(session, accounts.list_accounts(session, actor))
    return render(
        request,
        "governance/accounts.html",
        {
            "accounts": infos,
            "at_risk": [i for i in infos if i.risks],
            "members": [u for u in _members(db, actor) if u.is_active],
            "can_manage": actor.can(Permission.SETTINGS_MANAGE),
            "can_handover": actor.can(Permission.USERS_MANAGE),
            "error": error,
            "created": request.query_params.get("created"),
        },
        status_code=status,
    )


def _detail_page(
    request: Request,
    actor: Actor,
    db: Database,
    account_id: str,
    *,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as session:
        info = accounts.describe(session, [accounts.access_account(session, actor, account_id)])[0]
    is_admin = any(a.id == actor.user_id for a in info.admins)
    return render(
        request,
        "governance/account.html",
        {
            "a": info,
            "members": [u for u in _members(db, actor) if u.is_active],
            "roles": list(AccountRole),
            "can_manage": actor.can(Permission.SETTINGS_MANAGE),
            "can_set_credential": actor.can(Permission.SETTINGS_MANAGE)
            or (is_admin and actor.can(Permission.CONTENT_WRITE)),
            "error": error,
            "notice": notice or request.query_params.get("notice"),
        },
        status_code=status,
    )


@router.get(BASE)
def accounts_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    return _list_page(request, actor, db)


@router.post(BASE, dependencies=[CSRF])
def accounts_create(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    network: Annotated[str, Form(max_length=50)],
    handle: Annotated[str, Form(max_length=201)],
    url: Annotated[str, Form(max_length=500)] = "",
    unit: Annotated[str, Form(max_length=200)] = "",
    purpose: Annotated[str, Form(max_length=5000)] = "",
    business_owner: Annotated[str, Form(max_length=320)] = "",
    admins: Annotated[list[str] | None, Form()] = None,
    employee: Annotated[str, Form(max_length=320)] = "",
    ownership_agreement: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        with db.unit_of_work() as session:
            account = accounts.create_account(
                session,
                actor,
                network=network,
                handle=handle,
                url=url,
                unit=unit,
                purpose=purpose,
                business_owner=business_owner or None,
                admins=[a for a in admins or [] if a],
                employee=employee or None,
                ownership_agreement=ownership_agreement or None,
                clock=clock,
            )
            target = f"{BASE}/{account.id}?{urlencode({'notice': 'Account registered.'})}"
    except GroundswellError as exc:
        return _list_page(request, actor, db, error=exc.message, status=exc.status)
    return RedirectResponse(target, status_code=303)


@router.get(f"{BASE}/orphans")
def orphans_page(request: Request, actor: PageActor, session: ReadSession) -> Response:
    return render(
        request, "governance/orphans.html", {"accounts": accounts.orphan_report(session, actor)}
    )


@router.get(f"{BASE}/handover")
def handover_page(
    request: Request,
    actor: PageActor,
    db: DbDep,
    from_user: str | None = None,
    to_user: str | None = None,
) -> Response:
    """Step 1 (no users chosen): the form. Step 2 (both chosen): the preview, changing
    nothing, with a confirm button that posts the same pair."""
    actor.require(Permission.USERS_MANAGE)
    members = _members(db, actor)
    preview, error, status = None, None, 200
    if from_user and to_user:
        try:
            with db.reader() as session:
                preview = accounts.handover(session, actor, from_user, to_user, apply=False)
        except GroundswellError as exc:
            error, status = exc.message, exc.status
    return render(
        request,
        "governance/handover.html",
        {
            "members": members,
            "from_user": from_user or "",
            "to_user": to_user or "",
            "preview": preview,
            "done": None,
            "error": error,
        },
        status_code=status,
    )


@router.post(f"{BASE}/handover", dependencies=[CSRF])
def handover_confirm(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    from_user: Annotated[str, Form(max_length=320)],
    to_user: Annotated[str, Form(max_length=320)],
) -> Response:
    members = _members(db, actor)
    try:
        with db.unit_of_work() as session:
            done = accounts.handover(session, actor, from_user, to_user, clock=clock)
    except GroundswellError as exc:
        return render(
            request,
            "governance/handover.html",
            {
                "members": members,
                "from_user": from_user,
                "to_user": to_user,
                "preview": None,
                "done": None,
                "error": exc.message,
            },
            status_code=exc.status,
        )
    return render(
        request,
        "governance/handover.html",
        {
            "members": members,
            "from_user": "",
            "to_user": "",
            "preview": None,
            "done": done,
            "error": None,
        },
    )


@router.get(f"{BASE}/{{account_id}}")
def account_page(request: Request, account_id: str, actor: PageActor, db: DbDep) -> Response:
    return _detail_page(request, actor, db, account_id)


def _after(account_id: str, notice: str) -> Response:
    return RedirectResponse(f"{BASE}/{account_id}?{urlencode({'notice': notice})}", status_code=303)


@router.post(f"{BASE}/{{account_id}}/roles", dependencies=[CSRF])
def account_grant(
    request: Request,
    account_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    user: Annotated[str, Form(max_length=320)],
    role: Annotated[AccountRole, Form()] = AccountRole.ADMIN,
) -> Response:
    try:
        with db.unit_of_work() as session:
            accounts.grant(session, actor, account_id, user, role, clock=clock)
    except GroundswellError as exc:
        return _detail_page(request, actor, db, account_id, error=exc.message, status=exc.status)
    return _after(account_id, f"{user} is now {role.value}.")


@router.post(f"{BASE}/{{account_id}}/roles/revoke", dependencies=[CSRF])
def account_revoke(
    request: Request,
    account_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    user: Annotated[str, Form(max_length=320)],
    role: Annotated[AccountRole, Form()] = AccountRole.ADMIN,
) -> Response:
    try:
        with db.unit_of_work() as session:
            accounts.revoke(session, actor, account_id, user, role, clock=clock)
    except GroundswellError as exc:
        return _detail_page(request, actor, db, account_id, error=exc.message, status=exc.status)
    return _after(account_id, f"{user} is no longer {role.value}.")


@router.post(f"{BASE}/{{account_id}}/credentials", dependencies=[CSRF])
def account_set_credential(
    request: Request,
    account_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    name: Annotated[str, Form(max_length=100)],
    secret: Annotated[str, Form(max_length=accounts.MAX_SECRET_CHARS)],
) -> Response:
    try:
        with db.unit_of_work() as session:
            cred = accounts.set_credential(
                session,
                actor,
                Vault.open(settings.data_dir),
                account_id,
                name,
                secret,
                clock=clock,
            )
            notice = f"Credential {cred.name} saved. It will not be shown again."
    except GroundswellError as exc:
        return _detail_page(request, actor, db, account_id, error=exc.message, status=exc.status)
    return _after(account_id, notice)
