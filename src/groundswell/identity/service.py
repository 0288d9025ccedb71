"""Identity use cases. Every function flushes, never commits: the edge owns the transaction.
Functions that read on behalf of someone take the `Actor` first and only see that actor's
organization."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from groundswell.identity.domain import (
    Permission,
    Role,
    Scope,
    lock_until,
    may_grant,
    password_problem,
    role_allows,
    scopes_allow,
)
from groundswell.identity.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from groundswell.identity.tables import ApiToken, Organization, PasswordReset, User, WebSession
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)
from groundswell.kernel.settings import Settings

TOKEN_PREFIX = "gsk_"  # noqa: S105  # a public prefix, not a secret


@dataclass(frozen=True)
class Actor:
    """Someone acting: a signed-in user (scopes None) or an API token (its scopes)."""

    user_id: str
    organization_id: str
    email: str
    role: Role
    scopes: frozenset[Scope] | None = None
    token_id: str | None = None
    ip: str | None = None
    session_id: str | None = None
    csrf_token: str | None = None

    def can(self, permission: Permission) -> bool:
        return role_allows(self.role, permission) and scopes_allow(self.scopes, permission)

    def require(self, permission: Permission) -> None:
        if not role_allows(self.role, permission):
            raise Forbidden(f"Your role ({self.role}) does not allow this ({permission}).")
        if not scopes_allow(self.scopes, permission):
            have = ", ".join(sorted(self.scopes or ())) or "none"
            raise Forbidden(f"This API token's scopes ({have}) do not allow this ({permission}).")

    @property
    def audit(self) -> audit.AuditActor:
        label = self.email if self.token_id is None else f"{self.email} (token {self.token_id[:8]})"
        return audit.AuditActor(self.user_id, label, self.organization_id, self.ip)


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "org"


def _actor_for(user: User, **extra: Any) -> Actor:
    return Actor(user.id, user.organization_id, user.email, Role(user.role), **extra)


def create_organization(
    session: Session,
    name: str,
    *,
    owner_email: str,
    owner_password: str,
    owner_name: str = "",
    clock: Clock | None = None,
) -> tuple[Organization, User]:
    """A new organization and its first user, the owner."""
    clock = clock or SystemClock()
    name = name.strip()
    if not name:
        raise InvalidInput("The organization needs a name.")
    slug, n = _slug(name), 1
    while session.execute(select(Organization.id).where(Organization.slug == slug)).first():
        n += 1
        slug = f"{_slug(name)}-{n}"
    org = Organization(name=name, slug=slug, created_at=clock.now())
    session.add(org)
    session.flush()
    owner = _insert_user(
        session, org.id, owner_email, owner_name, Role.OWNER, owner_password, clock
    )
    actor = audit.AuditActor(owner.id, owner.email, org.id)
    audit.record(
        session,
        actor,
        "organization.create",
        "organization",
        org.id,
        after={"name": org.name, "slug": org.slug},
        clock=clock,
    )
    audit.record(
        session,
        actor,
        "user.create",
        "user",
        owner.id,
        after={"email": owner.email, "role": owner.role},
        clock=clock,
    )
    return org, owner


def _insert_user(
    session: Session, org_id: str, email: str, name: str, role: Role, password: str, clock: Clock
) -> User:
    email = email.strip().lower()
    if "@" not in email:
        raise InvalidInput("The email address is not valid.")
    problem = password_problem(password, email)
    if problem:
        raise InvalidInput(f"Password refused: {problem}")
    if session.execute(select(User.id).where(User.email == email)).first():
        # Emails are unique across the installation; say no more than that it is taken, so an
        # admin of one organization learns nothing about another's members.
        raise Conflict(f"The email {email} cannot be used for a new user (it is already taken).")
    user = User(
        organization_id=org_id,
        email=email,
        name=name.strip() or email.split("@")[0],
        role=role.value,
        password_hash=hash_password(password),
        is_active=True,
        failed_logins=0,
        created_at=clock.now(),
    )
    session.add(user)
    session.flush()
    return user


def create_user(
    session: Session,
    actor: Actor,
    *,
    email: str,
    name: str,
    role: Role,
    password: str,
    clock: Clock | None = None,
) -> User:
    actor.require(Permission.USERS_MANAGE)
    if not may_grant(actor.role, role):
        raise Forbidden(f"A {actor.role} cannot create a user with the role {role}.")
    clock = clock or SystemClock()
    user = _insert_user(session, actor.organization_id, email, name, role, password, clock)
    audit.record(
        session,
        actor.audit,
        "user.create",
        "user",
        user.id,
        after={"email": user.email, "role": user.role},
        clock=clock,
    )
    return user


def list_users(session: Session, actor: Actor) -> list[User]:
    actor.require(Permission.USERS_READ)
    return list(
        session.execute(
            select(User).where(User.organization_id == actor.organization_id).order_by(User.email)
        ).scalars()
    )


def access_user(session: Session, actor: Actor, ref: str) -> User:
    """A user of the actor's organization by id or email; 404 for anyone else's."""
    actor.require(Permission.USERS_READ)
    user = session.execute(
        select(User)
        .where(User.organization_id == actor.organization_id)
        .where((User.id == ref) | (User.email == ref.strip().lower()))
    ).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {ref!r} in your organization.")
    return user


DeactivationGuard = Callable[[Session, User], str | None]
_deactivation_guards: list[DeactivationGuard] = []


def register_deactivation_guard(guard: DeactivationGuard) -> DeactivationGuard:
    """Higher rooms (governance: brand accounts still held) may refuse a deactivation: the
    guard returns why, or None. Identity cannot import them, so they register here."""
    _deactivation_guards.append(guard)
    return guard


def deactivate_user(
    session: Session,
    actor: Actor,
    ref: str,
    clock: Clock | None = None,
    *,
    force_reason: str | None = None,
) -> User:
    """Deactivate a user: sessions end, tokens are revoked. Refused while a guard objects
    (e.g. the user still holds brand accounts) unless forced with a reason, which is audited."""
    actor.require(Permission.USERS_MANAGE)
    user = access_user(session, actor, ref)
    if user.id == actor.user_id:
        raise Conflict("You cannot deactivate yourself.")
    if not may_grant(actor.role, Role(user.role)):
        raise Forbidden(f"A {actor.role} cannot deactivate a {user.role}.")
    if user.role == Role.OWNER.value and _active_owners(session, user.organization_id) <= 1:
        raise Conflict("This is the last owner; make someone else owner first.")
    objections = [reason for guard in _deactivation_guards if (reason := guard(session, user))]
    if objections and not (force_reason and force_reason.strip()):
        raise Conflict(" ".join(objections) + " Hand over first, or force with a reason.")
    user.is_active = False
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    for token in session.execute(select(ApiToken).where(ApiToken.user_id == user.id)).scalars():
        token.revoked_at = token.revoked_at or (clock or SystemClock()).now()
    audit.record(
        session,
        actor.audit,
        "user.deactivate",
        "user",
        user.id,
        before={"is_active": True},
        after={
            "is_active": False,
            **({"forced": force_reason, "objections": objections} if objections else {}),
        },
        clock=clock,
    )
    return user


def _active_owners(session: Session, org_id: str) -> int:
    return session.execute(
        select(func.count())
        .select_from(User)
        .where(
            User.organization_id == org_id, User.role == Role.OWNER.value, User.is_active.is_(True)
        )
    ).scalar_one()


LOGIN_FAILED = (
    "Email or password is wrong. After several failed attempts in a row an account is locked "
    "for a while; a reset link unlocks it."
)


@dataclass(frozen=True)
class PasswordCheck:
    """The outcome of the slow part of a sign-in, computed outside any write transaction."""

    email: str
    user_id: str | None
    password_ok: bool
    new_hash: str | None  # set when the stored hash uses outdated Argon2 parameters


def check_password(session: Session, email: str, password: str) -> PasswordCheck:
    """Verify a password (Argon2, ~100 ms) in a read-only session, so that the single SQLite
    writer is never held while hashing. Unknown and inactive users are checked against a
    dummy hash: the time taken does not reveal whether an account exists."""
    email = email.strip().lower()
    user = session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    if user is None or not user.is_active:
        verify_password(DUMMY_HASH, password)
        return PasswordCheck(email, None, False, None)
    ok = verify_password(user.password_hash, password)
    new_hash = hash_password(password) if ok and needs_rehash(user.password_hash) else None
    return PasswordCheck(email, user.id, ok, new_hash)


def record_login(
    session: Session,
    check: PasswordCheck,
    *,
    settings: Settings,
    ip: str | None = None,
    clock: Clock | None = None,
) -> User:
    """Apply a password check in a short write transaction: count a failure (atomically, so
    parallel guesses all count), refuse while locked, or sign in. Every failure, locked or
    not, known email or not, gets the same message."""
    clock = clock or SystemClock()
    now = clock.now()
    if check.user_id is None:
        raise NotAuthenticated(LOGIN_FAILED)
    user = session.execute(
        select(User).where(User.id == check.user_id).with_for_update()
    ).scalar_one_or_none()
    if user is None or not user.is_active:
        raise NotAuthenticated(LOGIN_FAILED)
    actor = audit.AuditActor(user.id, user.email, user.organization_id, ip)
    locked = user.locked_until is not None and user.locked_until > now
    if locked or not check.password_ok:
        if not check.password_ok:
            user.failed_logins += 1
            user.locked_until = (
                lock_until(
                    user.failed_logins,
                    now,
                    max_failures=settings.login_max_failures,
                    first_lock=timedelta(minutes=settings.login_lock_minutes),
                )
                or user.locked_until
            )
        audit.record(
            session,
            actor,
            "login.failed",
            "user",
            user.id,
            after={
                "failed_logins": user.failed_logins,
                "locked": user.locked_until is not None and user.locked_until > now,
            },
            clock=clock,
        )
        session.flush()
        raise NotAuthenticated(LOGIN_FAILED)
    if check.new_hash is not None:
        user.password_hash = check.new_hash
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(session, actor, "login.succeeded", "user", user.id, clock=clock)
    session.flush()
    return user


def start_session(
    session: Session,
    user: User,
    *,
    settings: Settings,
    ip: str | None = None,
    clock: Clock | None = None,
) -> str:
    """Create a web session; returns the cookie value (stored only as its hash)."""
    now = (clock or SystemClock()).now()
    cookie = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            id=sha256(cookie),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            expires_at=now + timedelta(hours=settings.session_hours),
            ip=ip,
        )
    )
    session.flush()
    return cookie


def resolve_session(
    session: Session, cookie: str, *, ip: str | None = None, clock: Clock | None = None
) -> Actor | None:
    now = (clock or SystemClock()).now()
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.id == sha256(cookie))
    ).first()
    if row is None:
        return None
    web, user = row
    if web.expires_at <= now or not user.is_active:
        return None
    return _actor_for(user, ip=ip, session_id=web.id, csrf_token=web.csrf_token)


def end_session(session: Session, actor: Actor) -> None:
    if actor.session_id:
        session.execute(delete(WebSession).where(WebSession.id == actor.session_id))
        audit.record(session, actor.audit, "logout", "user", actor.user_id)


def create_token(
    session: Session,
    actor: Actor,
    *,
    name: str,
    scopes: list[Scope],
    expires_in_days: int | None = None,
    clock: Clock | None = None,
) -> tuple[ApiToken, str]:
    """A new API token for the actor; returns the row and the secret (shown once)."""
    actor.require(Permission.TOKENS_OWN)
    if actor.scopes is not None and not set(scopes) <= actor.scopes:
        raise Forbidden("A token cannot create a token with more scopes than its own.")
    now = (clock or SystemClock()).now()
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        name=name.strip(),
        prefix=secret[:12],
        token_hash=sha256(secret),
        scopes=sorted(s.value for s in scopes),
        created_at=now,
        expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "token.create",
        "api_token",
        token.id,
        after={"name": token.name, "scopes": token.scopes, "prefix": token.prefix},
        clock=clock,
    )
    return token, secret


def list_tokens(session: Session, actor: Actor) -> list[ApiToken]:
    """The actor's own tokens (admins see their own too: tokens are personal)."""
    return list(
        session.execute(
            select(ApiToken)
            .where(ApiToken.user_id == actor.user_id)
            .order_by(ApiToken.created_at.desc())
        ).scalars()
    )


def revoke_token(
    session: Session, actor: Actor, token_ref: str, clock: Clock | None = None
) -> ApiToken:
    actor.require(Permission.TOKENS_OWN)
    query = (
        select(ApiToken)
        .where(ApiToken.organization_id == actor.organization_id)
        .where((ApiToken.id == token_ref) | (ApiToken.prefix == token_ref))
    )
    if not actor.can(Permission.USERS_MANAGE):
        query = query.where(ApiToken.user_id == actor.user_id)
    token = session.execute(query).scalars().first()
    if token is None:
        raise NotFound(f"No token {token_ref!r} that you may revoke.")
    if token.revoked_at is None:
        token.revoked_at = (clock or SystemClock()).now()
        audit.record(
            session,
            actor.audit,
            "token.revoke",
            "api_token",
            token.id,
            before={"revoked": False},
            after={"revoked": True},
            clock=clock,
        )
    session.flush()
    return token


def resolve_token(
    session: Session, secret: str, *, ip: str | None = None, clock: Clock | None = None
) -> tuple[Actor, bool]:
    """The actor behind a bearer token, or NotAuthenticated; reads only. The flag says the
    token's last-used time is over a minute old, for the caller to `touch_token` in a short
    write of its own (so a plain API read never queues for the single SQLite writer)."""
    now = (clock or SystemClock()).now()
    row = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == sha256(secret))
    ).first()
    if row is None:
        raise NotAuthenticated("The API token is not valid.")
    token, user = row
    if token.revoked_at is not None:
        raise NotAuthenticated("The API token was revoked.")
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated("The API token has expired.")
    if not user.is_active:
        raise NotAuthenticated("The API token's user is deactivated.")
    stale = token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1)
    actor = _actor_for(
        user, scopes=frozenset(Scope(s) for s in token.scopes), token_id=token.id, ip=ip
    )
    return actor, stale


def touch_token(session: Session, token_id: str, clock: Clock | None = None) -> None:
    """Record that a token was used now."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id)
        .values(last_used_at=(clock or SystemClock()).now())
    )


def request_password_reset(
    session: Session, email: str, *, settings: Settings, clock: Clock | None = None
) -> tuple[User, str]:
    """A one-time reset token for the user (raises NotFound for unknown emails: callers on
    public pages must hide that)."""
    now = (clock or SystemClock()).now()
    user = session.execute(
        select(User).where(User.email == email.strip().lower())
    ).scalar_one_or_none()
    if user is None or not user.is_active:
        raise NotFound(f"No active user with the email {email}.")
    secret = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=sha256(secret),
            created_at=now,
            expires_at=now + timedelta(minutes=settings.reset_token_minutes),
        )
    )
    audit.record(
        session,
        audit.AuditActor(user.id, user.email, user.organization_id),
        "password.reset_requested",
        "user",
        user.id,
        clock=clock,
    )
    session.flush()
    return user, secret


def reset_password(
    session: Session, secret: str, new_password: str, clock: Clock | None = None
) -> User:
    now = (clock or SystemClock()).now()
    reset = session.execute(
        select(PasswordReset).where(PasswordReset.token_hash == sha256(secret))
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None or reset.expires_at <= now:
        raise InvalidInput("This reset link is not valid any more. Ask for a new one.")
    user = session.get(User, reset.user_id)
    if user is None:
        raise InvalidInput("This reset link is not valid any more. Ask for a new one.")
    problem = password_problem(new_password, user.email)
    if problem:
        raise InvalidInput(f"Password refused: {problem}")
    user.password_hash = hash_password(new_password)
    user.failed_logins = 0
    user.locked_until = None
    reset.used_at = now
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))
    audit.record(
        session,
        audit.AuditActor(user.id, user.email, user.organization_id),
        "password.reset",
        "user",
        user.id,
        clock=clock,
    )
    session.flush()
    return user


def organization_of(session: Session, actor: Actor) -> Organization:
    org = session.get(Organization, actor.organization_id)
    if org is None:
        raise NotFound("Your organization no longer exists.")
    return org


def first_owner(session: Session) -> User | None:
    """The oldest active owner (the CLI acts as this user on the machine it runs on)."""
    return session.execute(
        select(User)
        .where(User.role == Role.OWNER.value, User.is_active.is_(True))
        .order_by(User.created_at)
        .limit(1)
    ).scalar_one_or_none()


def actor_for_user(user: User) -> Actor:
    return _actor_for(user)


def parse_moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise InvalidInput(f"{value!r} is not an ISO 8601 date or time.") from exc


def access_user_self(session: Session, actor: Actor) -> User:
    user = session.get(User, actor.user_id)
    if user is None or user.organization_id != actor.organization_id:
        raise NotFound("Your user no longer exists.")
    return user
