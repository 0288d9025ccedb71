"""FastAPI dependencies: who is asking (API token or web session) and CSRF checks.
Other rooms use `api_actor`, `page_actor` and `csrf_protect` from here, through
`groundswell.identity`."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from groundswell.identity import service
from groundswell.identity.service import Actor
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Forbidden, NotAuthenticated
from groundswell.kernel.settings import Settings

SESSION_COOKIE = "gs_session"
PRELOGIN_CSRF_COOKIE = "gs_csrf"
_bearer = HTTPBearer(auto_error=False, description="An API token created in Settings → API tokens.")


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def api_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The actor behind the bearer token of an API request."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Send an API token: Authorization: Bearer <token>.")
    db, clock = get_db(request), get_clock(request)
    with db.reader() as session:
        actor, stale = service.resolve_token(
            session, credentials.credentials, ip=client_ip(request), clock=clock
        )
    if stale:  # at most once a minute per token: the only write an API read makes
        assert actor.token_id is not None
        with db.unit_of_work() as session:
            service.touch_token(session, actor.token_id, clock=clock)
    request.state.actor = actor
    return actor


def optional_page_actor(request: Request) -> Actor | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    with get_db(request).reader() as session:
        actor = service.resolve_session(
            session, cookie, ip=client_ip(request), clock=get_clock(request)
        )
    if actor is not None:
        request.state.actor = actor
        request.state.csrf_token = actor.csrf_token
    return actor


def page_actor(request: Request) -> Actor:
    """The signed-in person of a page request; unauthenticated visitors go to /login."""
    actor = optional_page_actor(request)
    if actor is None:
        raise NotAuthenticated("Please sign in.")
    return actor


def prelogin_csrf(request: Request) -> str:
    """A CSRF token for forms shown before sign-in (double-submit cookie)."""
    token = request.cookies.get(PRELOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    request.state.csrf_token = token
    request.state.set_prelogin_csrf = token
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a form post whose token does not match the session's (or, before sign-in, the
    double-submit cookie's)."""
    actor: Actor | None = getattr(request.state, "actor", None)
    expected = actor.csrf_token if actor is not None else request.cookies.get(PRELOGIN_CSRF_COOKIE)
    if not submitted or not expected or not hmac.compare_digest(submitted, expected):
        raise Forbidden(
            "The form expired or did not come from this site (CSRF check). Reload and try again."
        )


def csrf_protect(
    request: Request,
    _actor: Annotated[Actor, Depends(page_actor)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> None:
    """Dependency for form posts of signed-in pages: refuses the post unless the form field
    (or the `X-CSRF-Token` header, for htmx) matches the session's token. It depends on
    `page_actor` itself because FastAPI runs a route's `dependencies=[...]` before the
    endpoint's own parameters, so the session must be resolved here, not assumed."""
    header = request.headers.get("X-CSRF-Token")
    check_csrf(request, csrf_token or header)


def read_session(request: Request) -> Iterator[Session]:
    with get_db(request).reader() as session:
        # Kept on the request so that what the page renders (the unread count in the top
        # bar) reads through this connection instead of holding a second one from the pool.
        request.state.read_session = session
        try:
            yield session
        finally:
            request.state.read_session = None


ApiActor = Annotated[Actor, Depends(api_actor)]
PageActor = Annotated[Actor, Depends(page_actor)]
DbDep = Annotated[Database, Depends(get_db)]
ReadSession = Annotated[Session, Depends(read_session)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
ClockDep = Annotated[Clock, Depends(get_clock)]
