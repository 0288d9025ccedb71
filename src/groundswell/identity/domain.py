"""Pure rules of identity and access: roles, permissions, token scopes, login backoff."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    """Organization-wide roles. Governance refines what each may do per unit and model."""

    OWNER = "owner"
    ADMIN = "admin"
    MANAGER = "manager"
    AGENT = "agent"
    CONTRIBUTOR = "contributor"
    VIEWER = "viewer"


class Permission(StrEnum):
    ORG_READ = "org:read"
    CONTENT_WRITE = "content:write"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    TOKENS_OWN = "tokens:own"
    AUDIT_READ = "audit:read"
    SETTINGS_MANAGE = "settings:manage"
    OWNERSHIP = "org:own"


_BASE = {Permission.ORG_READ, Permission.TOKENS_OWN}
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.VIEWER: frozenset(_BASE),
    Role.CONTRIBUTOR: frozenset(_BASE | {Permission.CONTENT_WRITE}),
    Role.AGENT: frozenset(_BASE | {Permission.CONTENT_WRITE}),
    Role.MANAGER: frozenset(
        _BASE | {Permission.CONTENT_WRITE, Permission.USERS_READ, Permission.AUDIT_READ}
    ),
    Role.ADMIN: frozenset(set(Permission) - {Permission.OWNERSHIP}),
    Role.OWNER: frozenset(Permission),
}

# Roles an actor may hand out: never above their own.
ROLE_RANK = {r: i for i, r in enumerate(reversed(list(Role)))}


class Scope(StrEnum):
    """What an API token may do, on top of (never beyond) its user's role."""

    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


_SCOPE_OF: dict[Permission, Scope] = {
    Permission.ORG_READ: Scope.READ,
    Permission.USERS_READ: Scope.READ,
    Permission.AUDIT_READ: Scope.ADMIN,
    Permission.CONTENT_WRITE: Scope.WRITE,
    Permission.TOKENS_OWN: Scope.WRITE,
    Permission.USERS_MANAGE: Scope.ADMIN,
    Permission.SETTINGS_MANAGE: Scope.ADMIN,
    Permission.OWNERSHIP: Scope.ADMIN,
}


def role_allows(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


def scopes_allow(scopes: frozenset[Scope] | None, permission: Permission) -> bool:
    """`None` means a browser session (no token): the role alone decides."""
    return scopes is None or _SCOPE_OF[permission] in scopes


def may_grant(granter: Role, role: Role) -> bool:
    return ROLE_RANK[role] <= ROLE_RANK[granter]


def lock_until(
    failures: int, now: datetime, *, max_failures: int, first_lock: timedelta
) -> datetime | None:
    """After `max_failures` wrong passwords in a row the account locks for `first_lock`,
    doubling with each further failure, never more than a day."""
    if failures < max_failures:
        return None
    length = first_lock * (1 << min(failures - max_failures, 16))
    return now + min(length, timedelta(days=1))


def password_problem(password: str, email: str) -> str | None:
    """Why a new password is refused, or None. Length over composition rules (NIST 800-63B)."""
    if len(password) < 10:
        return "Use at least 10 characters."
    if len(password) > 1024:
        return "Use at most 1024 characters."
    if password.lower() == email.lower() or password.lower() in email.lower():
        return "Do not use your email address as the password."
    if len(set(password)) < 4:
        return "Use a less repetitive password."
    return None
