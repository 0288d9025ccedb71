"""The brand-account registry: use cases for every account the organization runs, its
business owner and admins, its encrypted credentials, the orphan-risk report and the
hand-over when someone leaves.

Contracts:
- Every function takes the `Actor` first and only sees the actor's organization (another
  organization's account is "not found", never "forbidden").
- Permissions: reading the registry needs `org:read` (every member may know which accounts
  speak for the organization); registering accounts and granting/revoking roles need
  `settings:manage` (admins, owners); setting a credential needs `settings:manage` or being an
  active admin of that account with `content:write`; a hand-over needs `users:manage`.
- Functions flush, never commit; every change writes an audit row in the same transaction.
  No secret value ever reaches an audit row, a return value or a log line: callers get
  "set on <date> by <user>" and nothing more.

Importing this module registers the deactivation guard with identity: a user who still holds
accounts (business owner, admin, credential custodian) cannot be deactivated until handed over.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.governance.tables import (
    AccountAdmin,
    AccountCredential,
    BrandAccount,
    Unit,
    UnitMember,
)
from groundswell.governance.units import capped
from groundswell.governance.vault import Vault
from groundswell.identity.domain import ROLE_RANK, Permission, Role
from groundswell.identity.service import Actor, register_deactivation_guard
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

MIN_ADMINS = 2
_NETWORK = re.compile(r"^[a-z0-9][a-z0-9._-]{0,49}$")
_CREDENTIAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$")
MAX_SECRET_CHARS = 64 * 1024


class AccountRole(StrEnum):
    """A role a person holds on one brand account."""

    ADMIN = "admin"
    OWNER = "owner"  # the business owner: answerable for the account


# ---------------------------------------------------------------- views (shared by edges)


class PersonRef(BaseModel):
    id: str
    email: str
    name: str
    active: bool


class CredentialInfo(BaseModel):
    """A credential as anyone may see it: never the secret."""

    name: str
    set_at: datetime
    set_by: str
    custodian: PersonRef | None
    needs_rotation: bool
    rotation_reason: str | None

    @property
    def summary(self) -> str:
        return f"set on {self.set_at:%Y-%m-%d} by {self.set_by}"


class Risk(BaseModel):
    code: str
    message: str


class PersonalBrand(BaseModel):
    employee: PersonRef
    ownership_agreement: str


class AccountInfo(BaseModel):
    id: str
    network: str
    handle: str
    url: str
    unit: str
    purpose: str
    business_owner: PersonRef | None
    admins: list[PersonRef]
    personal_brand: PersonalBrand | None
    credentials: list[CredentialInfo]
    risks: list[Risk]
    created_at: datetime
    updated_at: datetime


class HandoverItem(BaseModel):
    """One thing the leaver holds: a role on an account, or a credential in their custody."""

    kind: str  # business_owner | admin | credential | personal_brand | unit_role
    account_id: str  # for a unit_role: the unit's id
    account: str  # "network:handle"; for a unit_role: "unit:<key>"
    credential: str | None = None
    note: str = ""


class HandoverReport(BaseModel):
    from_user: PersonRef
    to_user: PersonRef
    applied: bool
    items: list[HandoverItem]
    credentials_flagged: list[str]  # "network:handle/name" flagged for rotation


# ---------------------------------------------------------------- pure rules


def orphan_risks(
    owner: PersonRef | None, admins: Iterable[PersonRef], employee: PersonRef | None = None
) -> list[Risk]:
    """Why an account could be lost when people leave: no or a deactivated business owner,
    fewer than two active admins, any deactivated admin, a deactivated personal-brand
    employee. Pure: no database, no clock."""
    risks: list[Risk] = []
    if owner is None:
        risks.append(Risk(code="no_business_owner", message="No business owner."))
    elif not owner.active:
        risks.append(
            Risk(
                code="inactive_business_owner",
                message=f"The business owner {owner.email} is deactivated.",
            )
        )
    admins = list(admins)
    active = [a for a in admins if a.active]
    if not active:
        risks.append(Risk(code="no_admin", message="No active admin: nobody can log in."))
    elif len(active) < MIN_ADMINS:
        risks.append(
            Risk(
                code="single_admin",
                message=f"Only one active admin ({active[0].email}); name at least {MIN_ADMINS}.",
            )
        )
    for admin in admins:
        if not admin.active:
            risks.append(
                Risk(code="inactive_admin", message=f"The admin {admin.email} is deactivated.")
            )
    if employee is not None and not employee.active:
        risks.append(
            Risk(
                code="inactive_employee",
                message=f"The personal-brand employee {employee.email} is deactivated; "
                "apply the ownership agreement.",
            )
        )
    return risks


def normalize_network(network: str) -> str:
    value = network.strip().lower()
    if not _NETWORK.match(value):
        raise InvalidInput(
            "The network must be a short name such as x, instagram, linkedin, tiktok "
            "(letters, digits, . _ -; at most 50)."
        )
    return value


def normalize_handle(handle: str) -> tuple[str, str]:
    """The handle as shown (no leading @) and its comparison key (lower case)."""
    value = handle.strip().removeprefix("@").strip()
    if not value or len(value) > 200 or any(c.isspace() for c in value):
        raise InvalidInput("The handle must be 1 to 200 characters without spaces.")
    return value, value.lower()


def label(account: BrandAccount) -> str:
    return f"{account.network}:{account.handle}"


# ---------------------------------------------------------------- loading


def _person(user: User | None) -> PersonRef | None:
    if user is None:
        return None
    return PersonRef(id=user.id, email=user.email, name=user.name, active=user.is_active)


def _known(user: User) -> PersonRef:
    return PersonRef(id=user.id, email=user.email, name=user.name, active=user.is_active)


def _users(session: Session, ids: Iterable[str | None]) -> dict[str, User]:
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u for u in session.execute(select(User).where(User.id.in_(wanted))).scalars()}


def describe(session: Session, accounts: list[BrandAccount]) -> list[AccountInfo]:
    """Views of the accounts with their people, credentials (metadata only) and risks."""
    ids = [a.id for a in accounts]
    if not ids:
        return []
    admin_rows = list(
        session.execute(
            select(AccountAdmin)
            .where(AccountAdmin.account_id.in_(ids))
            .order_by(AccountAdmin.granted_at, AccountAdmin.id)
        ).scalars()
    )
    creds = list(
        session.execute(
            select(AccountCredential)
            .where(AccountCredential.account_id.in_(ids))
            .order_by(AccountCredential.name)
        ).scalars()
    )
    users = _users(
        session,
        [a.business_owner_id for a in accounts]
        + [a.employee_id for a in accounts]
        + [r.user_id for r in admin_rows]
        + [c.custodian_id for c in creds],
    )
    result = []
    for account in accounts:
        owner = _person(users.get(account.business_owner_id or ""))
        admins = [
            p
            for r in admin_rows
            if r.account_id == account.id and (p := _person(users.get(r.user_id)))
        ]
        employee = _person(users.get(account.employee_id or ""))
        personal = (
            PersonalBrand(employee=employee, ownership_agreement=account.ownership_agreement or "")
            if employee is not None
            else None
        )
        result.append(
            AccountInfo(
                id=account.id,
                network=account.network,
                handle=account.handle,
                url=account.url,
                unit=account.unit,
                purpose=account.purpose,
                business_owner=owner,
                admins=admins,
                personal_brand=personal,
                credentials=[
                    CredentialInfo(
                        name=c.name,
                        set_at=c.set_at,
                        set_by=c.set_by_label,
                        custodian=_person(users.get(c.custodian_id or "")),
                        needs_rotation=c.needs_rotation,
                        rotation_reason=c.rotation_reason,
                    )
                    for c in creds
                    if c.account_id == account.id
                ],
                risks=orphan_risks(owner, admins, employee),
                created_at=account.created_at,
                updated_at=account.updated_at,
            )
        )
    return result


def list_accounts(session: Session, actor: Actor) -> list[BrandAccount]:
    actor.require(Permission.ORG_READ)
    return list(
        session.execute(
            select(BrandAccount)
            .where(BrandAccount.organization_id == actor.organization_id)
            .order_by(BrandAccount.network, BrandAccount.handle_key)
        ).scalars()
    )


def access_account(session: Session, actor: Actor, ref: str) -> BrandAccount:
    """An account of the actor's organization by id or `network:handle`; 404 otherwise."""
    actor.require(Permission.ORG_READ)
    query = select(BrandAccount).where(BrandAccount.organization_id == actor.organization_id)
    ref = ref.strip()
    if ":" in ref:
        network, _, handle = ref.partition(":")
        key = handle.strip().removeprefix("@").strip().lower()
        query = query.where(
            BrandAccount.network == network.strip().lower(), BrandAccount.handle_key == key
        )
    else:
        query = query.where(BrandAccount.id == ref)
    account = session.execute(query).scalar_one_or_none()
    if account is None:
        raise NotFound(
            f"No brand account {ref!r} in your organization (use an id or network:handle)."
        )
    return account


def _member(session: Session, actor: Actor, ref: str, *, must_be_active: bool = True) -> User:
    """A user of the actor's organization by id or email (no users:read needed: naming a
    colleague as admin is part of managing accounts)."""
    user = session.execute(
        select(User)
        .where(User.organization_id == actor.organization_id)
        .where((User.id == ref) | (User.email == ref.strip().lower()))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {ref!r} in your organization.")
    if must_be_active and not user.is_active:
        raise Conflict(f"{user.email} is deactivated.")
    return user


def _roles_snapshot(session: Session, account: BrandAccount) -> dict[str, object]:
    info = describe(session, [account])[0]
    return {
        "business_owner": info.business_owner.email if info.business_owner else None,
        "admins": [a.email for a in info.admins],
    }


# ---------------------------------------------------------------- changes


def create_account(
    session: Session,
    actor: Actor,
    *,
    network: str,
    handle: str,
    url: str = "",
    unit: str = "",
    purpose: str = "",
    business_owner: str | None = None,
    admins: Iterable[str] = (),
    employee: str | None = None,
    ownership_agreement: str | None = None,
    clock: Clock | None = None,
) -> BrandAccount:
    """Register an account. Fewer than two admins is allowed but shows as a risk. A
    personal-brand account (`employee`) requires the ownership agreement to be noted."""
    actor.require(Permission.SETTINGS_MANAGE)
    now = (clock or SystemClock()).now()
    net = normalize_network(network)
    shown, key = normalize_handle(handle)
    url = url.strip()
    if url and not url.startswith(("https://", "http://")):
        raise InvalidInput("The URL must start with https:// or http://.")
    if len(url) > 500 or len(unit) > 200 or len(purpose) > 5000:
        raise InvalidInput("URL (500), unit (200) or purpose (5000 characters) is too long.")
    agreement = (ownership_agreement or "").strip() or None
    if employee and not agreement:
        raise InvalidInput(
            "A personal-brand account needs the ownership agreement noted "
            "(who keeps the account and its audience when the employee leaves)."
        )
    if agreement and not employee:
        raise InvalidInput("An ownership agreement applies only to a personal-brand account.")
    exists = session.execute(
        select(BrandAccount.id).where(
            BrandAccount.organization_id == actor.organization_id,
            BrandAccount.network == net,
            BrandAccount.handle_key == key,
        )
    ).first()
    if exists:
        raise Conflict(f"{net}:{shown} is already registered.")
    owner = _member(session, actor, business_owner) if business_owner else None
    emp = _member(session, actor, employee) if employee else None
    admin_users: dict[str, User] = {}
    for ref in admins:
        user = _member(session, actor, ref)
        admin_users[user.id] = user
    account = BrandAccount(
        organization_id=actor.organization_id,
        network=net,
        handle=shown,
        handle_key=key,
        url=url,
        unit=unit.strip(),
        purpose=purpose.strip(),
        business_owner_id=owner.id if owner else None,
        employee_id=emp.id if emp else None,
        ownership_agreement=agreement,
        created_at=now,
        updated_at=now,
    )
    session.add(account)
    session.flush()
    for user in admin_users.values():
        session.add(AccountAdmin(account_id=account.id, user_id=user.id, granted_at=now))
    session.flush()
    audit.record(
        session,
        actor.audit,
        "brand_account.create",
        "brand_account",
        account.id,
        after={
            "account": label(account),
            "url": account.url,
            "unit": account.unit,
            "business_owner": owner.email if owner else None,
            "admins": sorted(u.email for u in admin_users.values()),
            "employee": emp.email if emp else None,
            "ownership_agreement": agreement,
        },
        clock=clock,
    )
    return account


def grant(
    session: Session,
    actor: Actor,
    account_ref: str,
    user_ref: str,
    role: AccountRole = AccountRole.ADMIN,
    clock: Clock | None = None,
) -> BrandAccount:
    """Make a user admin (added) or business owner (replaces the previous one)."""
    actor.require(Permission.SETTINGS_MANAGE)
    account = access_account(session, actor, account_ref)
    user = _member(session, actor, user_ref)
    now = (clock or SystemClock()).now()
    before = _roles_snapshot(session, account)
    if role is AccountRole.OWNER:
        if account.business_owner_id == user.id:
            return account
        account.business_owner_id = user.id
    else:
        held = session.execute(
            select(AccountAdmin.id).where(
                AccountAdmin.account_id == account.id, AccountAdmin.user_id == user.id
            )
        ).first()
        if held:
            return account
        session.add(AccountAdmin(account_id=account.id, user_id=user.id, granted_at=now))
    account.updated_at = now
    session.flush()
    audit.record(
        session,
        actor.audit,
        f"brand_account.grant_{role.value}",
        "brand_account",
        account.id,
        before=before,
        after=_roles_snapshot(session, account),
        clock=clock,
    )
    return account


def revoke(
    session: Session,
    actor: Actor,
    account_ref: str,
    user_ref: str,
    role: AccountRole = AccountRole.ADMIN,
    clock: Clock | None = None,
) -> BrandAccount:
    """Remove a user's admin role, or the business owner (the account then has none, which
    the orphan report shows). Deactivated users may be revoked."""
    actor.require(Permission.SETTINGS_MANAGE)
    account = access_account(session, actor, account_ref)
    user = _member(session, actor, user_ref, must_be_active=False)
    before = _roles_snapshot(session, account)
    if role is AccountRole.OWNER:
        if account.business_owner_id != user.id:
            raise NotFound(f"{user.email} is not the business owner of {label(account)}.")
        account.business_owner_id = None
    else:
        row = session.execute(
            select(AccountAdmin).where(
                AccountAdmin.account_id == account.id, AccountAdmin.user_id == user.id
            )
        ).scalar_one_or_none()
        if row is None:
            raise NotFound(f"{user.email} is not an admin of {label(account)}.")
        session.delete(row)
    account.updated_at = (clock or SystemClock()).now()
    session.flush()
    audit.record(
        session,
        actor.audit,
        f"brand_account.revoke_{role.value}",
        "brand_account",
        account.id,
        before=before,
        after=_roles_snapshot(session, account),
        clock=clock,
    )
    return account


def _is_account_admin(session: Session, account: BrandAccount, user_id: str) -> bool:
    return (
        session.execute(
            select(AccountAdmin.id).where(
                AccountAdmin.account_id == account.id, AccountAdmin.user_id == user_id
            )
        ).first()
        is not None
    )


def set_credential(
    session: Session,
    actor: Actor,
    vault: Vault,
    account_ref: str,
    name: str,
    secret: str,
    clock: Clock | None = None,
) -> AccountCredential:
    """Store (or replace) a named secret, encrypted with the vault's newest key. The actor
    becomes its custodian and any rotation flag clears. The secret is never returned."""
    account = access_account(session, actor, account_ref)
    if not actor.can(Permission.SETTINGS_MANAGE) and not (
        actor.can(Permission.CONTENT_WRITE) and _is_account_admin(session, account, actor.user_id)
    ):
        raise Forbidden(
            "Only organization admins or this account's own admins may set its credentials."
        )
    name = name.strip()
    if not _CREDENTIAL_NAME.match(name):
        raise InvalidInput(
            "The credential name must be 1 to 100 characters: letters, digits, space . _ -."
        )
    if not secret or not secret.strip():
        raise InvalidInput("The secret is empty.")
    if len(secret) > MAX_SECRET_CHARS:
        raise InvalidInput(f"The secret is longer than {MAX_SECRET_CHARS} characters.")
    now = (clock or SystemClock()).now()
    ciphertext = vault.encrypt(secret)
    row = session.execute(
        select(AccountCredential).where(
            AccountCredential.account_id == account.id, AccountCredential.name == name
        )
    ).scalar_one_or_none()
    replaced = row is not None
    if row is None:
        row = AccountCredential(
            organization_id=account.organization_id, account_id=account.id, name=name
        )
        session.add(row)
    row.ciphertext = ciphertext
    row.set_at = now
    row.set_by_label = actor.email
    row.custodian_id = actor.user_id
    row.needs_rotation = False
    row.rotation_reason = None
    account.updated_at = now
    session.flush()
    # The audit keys deliberately avoid secret-like words: nothing secret is in them, and
    # masking would hide the useful facts.
    audit.record(
        session,
        actor.audit,
        "brand_account.set_credential",
        "brand_account",
        account.id,
        after={"account": label(account), "name": name, "replaced": replaced},
        clock=clock,
    )
    return row


def reveal_credential(session: Session, vault: Vault, account_id: str, name: str) -> str:
    """The plain secret, for machine use only (connectors posting on the account's behalf).
    Never expose it through a page, the API, the CLI or a log: a saved secret is never shown
    to a person again. Raises VaultKeyError on a wrong key, NotFound if there is none."""
    row = session.execute(
        select(AccountCredential).where(
            AccountCredential.account_id == account_id, AccountCredential.name == name
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No credential {name!r} on this account.")
    return vault.decrypt(row.ciphertext)


# ---------------------------------------------------------------- orphans


def orphan_report(session: Session, actor: Actor) -> list[AccountInfo]:
    """Accounts of the actor's organization with at least one orphan risk."""
    return [info for info in describe(session, list_accounts(session, actor)) if info.risks]


# ---------------------------------------------------------------- hand-over


def _holdings(session: Session, org_id: str, user_id: str) -> list[HandoverItem]:
    owned = session.execute(
        select(BrandAccount)
        .where(BrandAccount.organization_id == org_id, BrandAccount.business_owner_id == user_id)
        .order_by(BrandAccount.network, BrandAccount.handle_key)
    ).scalars()
    items = [HandoverItem(kind="business_owner", account_id=a.id, account=label(a)) for a in owned]
    administered = session.execute(
        select(BrandAccount)
        .join(AccountAdmin, AccountAdmin.account_id == BrandAccount.id)
        .where(BrandAccount.organization_id == org_id, AccountAdmin.user_id == user_id)
        .order_by(BrandAccount.network, BrandAccount.handle_key)
    ).scalars()
    items += [HandoverItem(kind="admin", account_id=a.id, account=label(a)) for a in administered]
    kept = session.execute(
        select(AccountCredential, BrandAccount)
        .join(BrandAccount, BrandAccount.id == AccountCredential.account_id)
        .where(BrandAccount.organization_id == org_id, AccountCredential.custodian_id == user_id)
        .order_by(BrandAccount.network, BrandAccount.handle_key, AccountCredential.name)
    ).all()
    items += [
        HandoverItem(kind="credential", account_id=a.id, account=label(a), credential=c.name)
        for c, a in kept
    ]
    personal = session.execute(
        select(BrandAccount)
        .where(BrandAccount.organization_id == org_id, BrandAccount.employee_id == user_id)
        .order_by(BrandAccount.network, BrandAccount.handle_key)
    ).scalars()
    items += [
        HandoverItem(
            kind="personal_brand",
            account_id=a.id,
            account=label(a),
            note=f"Personal brand: apply the ownership agreement ({a.ownership_agreement}). "
            "The employee link stays; credentials are flagged for rotation.",
        )
        for a in personal
    ]
    # Roles in units decide who approves what: they move with the rest.
    memberships = session.execute(
        select(UnitMember, Unit)
        .join(Unit, Unit.id == UnitMember.unit_id)
        .where(UnitMember.organization_id == org_id, UnitMember.user_id == user_id)
        .order_by(Unit.key)
    ).all()
    items += [
        HandoverItem(
            kind="unit_role",
            account_id=unit.id,
            account=f"unit:{unit.key}",
            note=f"{member.role} in {unit.name}",
        )
        for member, unit in memberships
    ]
    return items


def _hand_over_unit_roles(
    session: Session,
    actor: Actor,
    leaver: User,
    successor: User,
    *,
    now: datetime,
    clock: Clock | None,
) -> None:
    """The successor takes each of the leaver's unit roles (capped at their organization
    role; a role they already hold in that unit is kept if higher); the leaver's go."""
    rows = session.execute(
        select(UnitMember, Unit)
        .join(Unit, Unit.id == UnitMember.unit_id)
        .where(
            UnitMember.organization_id == leaver.organization_id,
            UnitMember.user_id == leaver.id,
        )
    ).all()
    ceiling = Role(successor.role)
    for member, unit in rows:
        role = capped(Role(member.role), ceiling)
        existing = session.execute(
            select(UnitMember).where(
                UnitMember.unit_id == unit.id, UnitMember.user_id == successor.id
            )
        ).scalar_one_or_none()
        if existing is None:
            session.add(
                UnitMember(
                    organization_id=unit.organization_id,
                    unit_id=unit.id,
                    user_id=successor.id,
                    role=role.value,
                    added_at=now,
                )
            )
        elif ROLE_RANK[Role(existing.role)] < ROLE_RANK[role]:
            existing.role = role.value
        session.delete(member)
        audit.record(
            session,
            actor.audit,
            "governance_unit.handover",
            "governance_unit",
            unit.id,
            before={"member": leaver.email, "role": member.role},
            after={"member": successor.email, "role": role.value},
            clock=clock,
        )
    session.flush()


def _item_text(item: HandoverItem) -> str:
    what = f"{item.account}/{item.credential}" if item.credential else item.account
    return f"{item.kind} {what}"


def holdings_reason(session: Session, user: User) -> str | None:
    """Why `user` may not be deactivated yet (accounts held), or None."""
    items = [
        i
        for i in _holdings(session, user.organization_id, user.id)
        if i.kind not in ("personal_brand", "unit_role")
    ]
    if not items:
        return None
    parts = []
    for kind, text in (
        ("business_owner", "business owner of"),
        ("admin", "admin of"),
        ("credential", "custodian of credentials of"),
    ):
        names = sorted({i.account for i in items if i.kind == kind})
        if names:
            parts.append(f"{text} {', '.join(names)}")
    return f"{user.email} still holds brand accounts ({'; '.join(parts)})."


register_deactivation_guard(holdings_reason)


def handover(
    session: Session,
    actor: Actor,
    from_ref: str,
    to_ref: str,
    *,
    apply: bool = True,
    clock: Clock | None = None,
) -> HandoverReport:
    """Everything `from` holds — business-owner and admin roles, credentials in their custody,
    roles in units (who approves what) — moves to `to`; every credential of an account `from` was involved with (including their
    personal-brand accounts) is flagged for rotation, since `from` may know it. With
    `apply=False` only the preview is returned and nothing changes. Each change is audited,
    plus one summary row on the leaver."""
    actor.require(Permission.USERS_MANAGE)
    leaver = _member(session, actor, from_ref, must_be_active=False)
    successor = _member(session, actor, to_ref)
    if leaver.id == successor.id:
        raise InvalidInput("Hand over to someone else than the leaver.")
    items = _holdings(session, actor.organization_id, leaver.id)
    involved = sorted({i.account_id for i in items if i.kind != "unit_role"})
    creds = (
        list(
            session.execute(
                select(AccountCredential, BrandAccount)
                .join(BrandAccount, BrandAccount.id == AccountCredential.account_id)
                .where(AccountCredential.account_id.in_(involved))
                .order_by(BrandAccount.network, BrandAccount.handle_key, AccountCredential.name)
            ).all()
        )
        if involved
        else []
    )
    flagged = [f"{label(a)}/{c.name}" for c, a in creds]
    report = HandoverReport(
        from_user=_known(leaver),
        to_user=_known(successor),
        applied=apply,
        items=items,
        credentials_flagged=flagged,
    )
    if not apply:
        return report
    now = (clock or SystemClock()).now()
    accounts = {
        a.id: a
        for a in session.execute(
            select(BrandAccount).where(BrandAccount.id.in_(involved or [""]))
        ).scalars()
    }
    before = {aid: _roles_snapshot(session, accounts[aid]) for aid in involved}
    _hand_over_unit_roles(session, actor, leaver, successor, now=now, clock=clock)
    for item in items:
        if item.kind == "unit_role":
            continue
        account = accounts[item.account_id]
        if item.kind == "business_owner":
            account.business_owner_id = successor.id
        elif item.kind == "admin":
            row = session.execute(
                select(AccountAdmin).where(
                    AccountAdmin.account_id == account.id, AccountAdmin.user_id == leaver.id
                )
            ).scalar_one()
            session.delete(row)
            session.flush()
            if not _is_account_admin(session, account, successor.id):
                session.add(
                    AccountAdmin(account_id=account.id, user_id=successor.id, granted_at=now)
                )
        account.updated_at = now
    reason = f"{leaver.email} handed over to {successor.email} on {now:%Y-%m-%d}; may know it."
    for cred, account in creds:
        moved = cred.custodian_id == leaver.id
        if moved:
            cred.custodian_id = successor.id
        cred.needs_rotation = True
        cred.rotation_reason = reason
        audit.record(
            session,
            actor.audit,
            "brand_account.flag_rotation",
            "brand_account",
            account.id,
            after={
                "account": label(account),
                "name": cred.name,
                "custodian": successor.email if moved else None,
                "needs_rotation": True,
            },
            clock=clock,
        )
    session.flush()
    for aid in involved:
        after = _roles_snapshot(session, accounts[aid])
        if after != before[aid]:
            audit.record(
                session,
                actor.audit,
                "brand_account.handover",
                "brand_account",
                aid,
                before=before[aid],
                after=after,
                clock=clock,
            )
    audit.record(
        session,
        actor.audit,
        "user.handover",
        "user",
        leaver.id,
        after={
            "from": leaver.email,
            "to": successor.email,
            # Plain strings: a key named "credential" would be masked by the audit module.
            "held": [_item_text(i) for i in items],
            "flagged_for_rotation": flagged,
        },
        clock=clock,
    )
    return report
