"""Units: the hub (the central social team), business units and regions, with members and a
role per unit.

Contracts:
- Every function takes the identity `Actor` first and sees only the actor's organization
  (another organization's unit or user is "not found").
- Reading units needs `org:read` (everyone may know who speaks for which unit); creating,
  deleting and changing members needs `users:manage` (admins, owners). Every change is audited.
- A unit role is one of manager, agent, contributor, viewer and never exceeds the person's
  organization role when it is granted; if their organization role is lowered later, decisions
  cap the unit role again (`governance.domain.role_in_unit`), and the pages show it capped.
- **One team until you make units**: while an organization has no unit memberships at all,
  everyone counts as a member of the hub with their organization role (`unit_roles`). Adding the
  first member to any unit switches to explicit memberships.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from groundswell.governance.tables import Unit, UnitMember
from groundswell.identity.domain import ROLE_RANK, Permission, Role, may_grant
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

HUB_KEY = "hub"
_KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")
UNIT_ROLES = (Role.MANAGER, Role.AGENT, Role.CONTRIBUTOR, Role.VIEWER)


class UnitKind(StrEnum):
    HUB = "hub"
    BUSINESS_UNIT = "business_unit"
    REGION = "region"


KIND_LABELS = {
    UnitKind.HUB: "Hub",
    UnitKind.BUSINESS_UNIT: "Business unit",
    UnitKind.REGION: "Region",
}


class MemberInfo(BaseModel):
    user_id: str
    email: str
    name: str
    active: bool
    role: Role  # as granted in the unit
    effective_role: Role  # capped by the organization role


class UnitInfo(BaseModel):
    id: str
    key: str
    name: str
    kind: UnitKind
    description: str
    created_at: datetime
    members: list[MemberInfo]


# ---------------------------------------------------------------- pure helpers


def slug_key(name: str) -> str:
    """A unit key from its name: lower case, digits, `-`; at most 60 characters."""
    return re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:60]


def capped(unit_role: Role, org_role: Role) -> Role:
    return unit_role if ROLE_RANK[unit_role] <= ROLE_RANK[org_role] else org_role


def _clock(now: datetime) -> FrozenClock:
    return FrozenClock(now)


# ---------------------------------------------------------------- reading


def access_unit(session: Session, actor: Actor, ref: str) -> Unit:
    """A unit of the actor's organization by id or key; 404 otherwise."""
    actor.require(Permission.ORG_READ)
    ref = ref.strip()
    unit = session.execute(
        select(Unit).where(
            Unit.organization_id == actor.organization_id,
            (Unit.id == ref) | (Unit.key == ref.lower()),
        )
    ).scalar_one_or_none()
    if unit is None:
        raise NotFound(f"No unit {ref!r} in your organization (use its key or id).")
    return unit


def list_units(session: Session, actor: Actor) -> list[UnitInfo]:
    """Every unit of the organization, the hub first, with its members."""
    actor.require(Permission.ORG_READ)
    units = list(
        session.execute(
            select(Unit).where(Unit.organization_id == actor.organization_id).order_by(Unit.name)
        ).scalars()
    )
    units.sort(key=lambda u: (u.kind != UnitKind.HUB.value, u.name.lower()))
    rows = session.execute(
        select(UnitMember, User)
        .join(User, User.id == UnitMember.user_id)
        .where(UnitMember.organization_id == actor.organization_id)
        .order_by(User.email)
    ).all()
    members: dict[str, list[MemberInfo]] = {}
    for member, user in rows:
        role = Role(member.role)
        members.setdefault(member.unit_id, []).append(
            MemberInfo(
                user_id=user.id,
                email=user.email,
                name=user.name,
                active=user.is_active,
                role=role,
                effective_role=capped(role, Role(user.role)),
            )
        )
    return [
        UnitInfo(
            id=u.id,
            key=u.key,
            name=u.name,
            kind=UnitKind(u.kind),
            description=u.description,
            created_at=u.created_at,
            members=members.get(u.id, []),
        )
        for u in units
    ]


def has_memberships(session: Session, organization_id: str) -> bool:
    found = session.scalar(
        select(UnitMember.id).where(UnitMember.organization_id == organization_id).limit(1)
    )
    return found is not None


def unit_roles(
    session: Session, organization_id: str, user_id: str, org_role: Role
) -> dict[str, Role]:
    """The person's role per unit key, as `governance.domain.Actor.units` expects it."""
    return unit_roles_for(session, organization_id, [(user_id, org_role)])[user_id]


def unit_roles_for(
    session: Session, organization_id: str, people: Iterable[tuple[str, Role]]
) -> dict[str, dict[str, Role]]:
    """`unit_roles` for several people in one query."""
    people = list(people)
    result: dict[str, dict[str, Role]] = {user_id: {} for user_id, _ in people}
    if not people:
        return result
    if not has_memberships(session, organization_id):
        # One team until units are made: everyone is in the hub with their own role.
        return {user_id: {HUB_KEY: role} for user_id, role in people}
    rows = session.execute(
        select(UnitMember.user_id, Unit.key, UnitMember.role)
        .join(Unit, Unit.id == UnitMember.unit_id)
        .where(
            UnitMember.organization_id == organization_id,
            UnitMember.user_id.in_(list(result)),
        )
    ).all()
    for user_id, key, role in rows:
        result[user_id][key] = Role(role)
    return result


def unit_key_for(session: Session, organization_id: str, ref: str | None) -> str | None:
    """The unit key a brand account's free-text unit (or a unit id, key or name) refers to;
    None (the hub) for an empty reference; an unknown reference is kept as given, so it
    matches no one's membership."""
    if ref is None or not ref.strip():
        return None
    value = ref.strip()
    row = session.execute(
        select(Unit.key).where(
            Unit.organization_id == organization_id,
            (Unit.id == value)
            | (Unit.key == value.lower())
            | (func.lower(Unit.name) == value.lower()),
        )
    ).first()
    return row[0] if row is not None else value


# ---------------------------------------------------------------- changes


def _member_user(session: Session, actor: Actor, ref: str) -> User:
    user = session.execute(
        select(User).where(
            User.organization_id == actor.organization_id,
            (User.id == ref) | (User.email == ref.strip().lower()),
        )
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {ref!r} in your organization.")
    return user


def create_unit(
    session: Session,
    actor: Actor,
    *,
    name: str,
    kind: UnitKind,
    key: str | None = None,
    description: str = "",
    now: datetime,
) -> Unit:
    """Add the hub (one per organization, key "hub"), a business unit or a region."""
    actor.require(Permission.USERS_MANAGE)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("A unit needs a name of 1 to 200 characters.")
    if kind is UnitKind.HUB:
        if key and key.strip().lower() != HUB_KEY:
            raise InvalidInput(f"The hub's key is always {HUB_KEY!r}.")
        key = HUB_KEY
    else:
        key = (key or slug_key(name)).strip().lower()
        if key == HUB_KEY:
            raise InvalidInput(f"The key {HUB_KEY!r} is the hub's; choose another.")
    if not _KEY.match(key):
        raise InvalidInput(
            "A unit key is 1 to 60 lower-case letters, digits, - or _, starting with a letter "
            "or digit (e.g. emea, retail-banking)."
        )
    taken = session.scalar(
        select(Unit.name).where(Unit.organization_id == actor.organization_id, Unit.key == key)
    )
    if taken is not None:
        what = "The hub already exists" if key == HUB_KEY else f"The key {key!r} is taken"
        raise Conflict(f"{what} ({taken}).")
    unit = Unit(
        organization_id=actor.organization_id,
        key=key,
        name=name,
        kind=kind.value,
        description=description.strip()[:2000],
        created_at=now,
    )
    session.add(unit)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "unit.create",
        "unit",
        unit.id,
        after={"key": key, "name": name, "kind": kind.value},
        clock=_clock(now),
    )
    return unit


def delete_unit(session: Session, actor: Actor, ref: str, *, now: datetime) -> None:
    """Remove a unit and its memberships (brand accounts naming it then belong to no known
    unit: only the hub and overseers speak on them under empowered units)."""
    actor.require(Permission.USERS_MANAGE)
    unit = access_unit(session, actor, ref)
    count = session.scalar(
        select(func.count()).select_from(UnitMember).where(UnitMember.unit_id == unit.id)
    )
    before = {"key": unit.key, "name": unit.name, "kind": unit.kind, "members": int(count or 0)}
    session.execute(delete(UnitMember).where(UnitMember.unit_id == unit.id))
    session.delete(unit)
    session.flush()
    audit.record(
        session, actor.audit, "unit.delete", "unit", unit.id, before=before, clock=_clock(now)
    )


def set_member(
    session: Session, actor: Actor, unit_ref: str, user_ref: str, role: Role, *, now: datetime
) -> UnitMember:
    """Add a person to a unit with a role, or change their role there."""
    actor.require(Permission.USERS_MANAGE)
    if role not in UNIT_ROLES:
        raise InvalidInput(
            "A unit role is manager, agent, contributor or viewer (owners and admins act in "
            "every unit already)."
        )
    if not may_grant(actor.role, role):
        raise Forbidden(f"A {actor.role} cannot grant the role {role}.")
    unit = access_unit(session, actor, unit_ref)
    user = _member_user(session, actor, user_ref)
    if not user.is_active:
        raise Conflict(f"{user.email} is deactivated.")
    if ROLE_RANK[role] > ROLE_RANK[Role(user.role)]:
        raise InvalidInput(
            f"{user.email} is a {user.role} in the organization; a unit role never exceeds "
            "that. Change their organization role first (Settings → Users)."
        )
    member = session.execute(
        select(UnitMember).where(UnitMember.unit_id == unit.id, UnitMember.user_id == user.id)
    ).scalar_one_or_none()
    before = None if member is None else {"role": member.role}
    if member is None:
        member = UnitMember(
            organization_id=actor.organization_id,
            unit_id=unit.id,
            user_id=user.id,
            role=role.value,
            added_at=now,
        )
        session.add(member)
    else:
        member.role = role.value
    session.flush()
    audit.record(
        session,
        actor.audit,
        "unit.member.set",
        "unit",
        unit.id,
        before=before,
        after={"user": user.email, "role": role.value, "unit": unit.key},
        clock=_clock(now),
    )
    return member


def remove_member(
    session: Session, actor: Actor, unit_ref: str, user_ref: str, *, now: datetime
) -> None:
    actor.require(Permission.USERS_MANAGE)
    unit = access_unit(session, actor, unit_ref)
    user = _member_user(session, actor, user_ref)
    member = session.execute(
        select(UnitMember).where(UnitMember.unit_id == unit.id, UnitMember.user_id == user.id)
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(f"{user.email} is not a member of {unit.name}.")
    before = {"user": user.email, "role": member.role, "unit": unit.key}
    session.delete(member)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "unit.member.remove",
        "unit",
        unit.id,
        before=before,
        clock=_clock(now),
    )
