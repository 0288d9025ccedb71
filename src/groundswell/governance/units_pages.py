"""The units page (`/governance/units`): the hub, business units and regions with their
members; admins add units and members, change roles and remove members (forms post, then
redirect back with a notice)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from groundswell.governance import units
from groundswell.governance.units import KIND_LABELS, UNIT_ROLES, UnitKind
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission, Role
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
PATH = "/governance/units"


def _page(
    request: Request, actor: Actor, db: Database, *, error: str | None = None, status: int = 200
) -> Response:
    with db.reader() as session:
        listed = units.list_units(session, actor)
        people = list(
            session.scalars(
                select(User)
                .where(User.organization_id == actor.organization_id, User.is_active.is_(True))
                .order_by(User.email)
            )
        )
        one_team = not units.has_memberships(session, actor.organization_id)
    return render(
        request,
        "governance/units.html",
        {
            "units": listed,
            "has_hub": any(u.kind is UnitKind.HUB for u in listed),
            "people": people,
            "kinds": [(k, KIND_LABELS[k]) for k in UnitKind],
            "roles": UNIT_ROLES,
            "can_manage": actor.can(Permission.USERS_MANAGE),
            "one_team": one_team,
            "error": error,
            "notice": request.query_params.get("notice"),
        },
        status_code=status,
    )


def _back(notice: str) -> Response:
    return RedirectResponse(f"{PATH}?{urlencode({'notice': notice})}", status_code=303)


@router.get(PATH)
def units_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    return _page(request, actor, db)


@router.post(PATH, dependencies=[CSRF])
def unit_create(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=200)],
    kind: Annotated[UnitKind, Form()],
    key: Annotated[str, Form(max_length=60)] = "",
    description: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        with db.unit_of_work() as session:
            unit = units.create_unit(
                session,
                actor,
                name=name,
                kind=kind,
                key=key or None,
                description=description,
                now=clock.now(),
            )
            notice = f"{KIND_LABELS[kind]} {unit.name} added (key {unit.key})."
    except GroundswellError as exc:
        return _page(request, actor, db, error=exc.message, status=exc.status)
    return _back(notice)


@router.post(f"{PATH}/{{unit}}/delete", dependencies=[CSRF])
def unit_delete(
    request: Request, unit: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    try:
        with db.unit_of_work() as session:
            units.delete_unit(session, actor, unit, now=clock.now())
    except GroundswellError as exc:
        return _page(request, actor, db, error=exc.message, status=exc.status)
    return _back(f"Unit {unit} deleted.")


@router.post(f"{PATH}/{{unit}}/members", dependencies=[CSRF])
def member_set(
    request: Request,
    unit: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    user: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
) -> Response:
    try:
        with db.unit_of_work() as session:
            units.set_member(session, actor, unit, user, role, now=clock.now())
    except GroundswellError as exc:
        return _page(request, actor, db, error=exc.message, status=exc.status)
    return _back(f"{user} is {role.value} in {unit}.")


@router.post(f"{PATH}/{{unit}}/members/remove", dependencies=[CSRF])
def member_remove(
    request: Request,
    unit: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    user: Annotated[str, Form(max_length=320)],
) -> Response:
    try:
        with db.unit_of_work() as session:
            units.remove_member(session, actor, unit, user, now=clock.now())
    except GroundswellError as exc:
        return _page(request, actor, db, error=exc.message, status=exc.status)
    return _back(f"{user} left {unit}.")
