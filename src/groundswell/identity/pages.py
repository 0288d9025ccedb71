"""Pages of identity: sign in/out, password reset, settings (users, API tokens), audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from groundswell.identity import audit_views, service
from groundswell.identity.deps import (
    PRELOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ClockDep,
    DbDep,
    PageActor,
    ReadSession,
    SettingsDep,
    check_csrf,
    client_ip,
    csrf_protect,
    optional_page_actor,
    prelogin_csrf,
)
from groundswell.identity.domain import Permission, Role, Scope, may_grant
from groundswell.kernel.errors import GroundswellError, InvalidInput, NotAuthenticated
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect to another site after sign-in.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def _secure(request: Request, settings: SettingsDep) -> bool:
    return settings.secure_cookies or request.url.scheme == "https"


def _with_prelogin_cookie(request: Request, response: Response, settings: SettingsDep) -> Response:
    token = getattr(request.state, "set_prelogin_csrf", None)
    if token and request.cookies.get(PRELOGIN_CSRF_COOKIE) != token:
        response.set_cookie(
            PRELOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="lax",
            secure=_secure(request, settings),
            path="/",
        )
    return response


@router.get("/login")
def login_form(request: Request, settings: SettingsDep, next: str | None = None) -> Response:
    if optional_page_actor(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    prelogin_csrf(request)
    request.state.actor = None
    response = render(request, "identity/login.html", {"next": _safe_next(next), "error": None})
    return _with_prelogin_cookie(request, response, settings)


@router.post("/login")
def login(
    request: Request,
    settings: SettingsDep,
    db: DbDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str | None, Form()] = None,
    next: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    failure: GroundswellError | None = None
    try:
        with db.reader() as session:  # Argon2 runs here, never while holding the writer
            check = service.check_password(session, email, password)
        with db.unit_of_work() as session:
            try:
                user = service.record_login(
                    session, check, settings=settings, ip=client_ip(request), clock=clock
                )
            except NotAuthenticated as exc:
                failure = exc  # the failure count commits with this unit of work
            else:
                cookie = service.start_session(
                    session, user, settings=settings, ip=client_ip(request), clock=clock
                )
    except GroundswellError as exc:
        failure = exc
    if failure is not None:
        prelogin_csrf(request)
        response = render(
            request,
            "identity/login.html",
            {"next": _safe_next(next), "error": failure.message, "email": email},
            status_code=failure.status,
        )
        return _with_prelogin_cookie(request, response, settings)
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    redirect.set_cookie(
        SESSION_COOKIE,
        cookie,
        httponly=True,
        samesite="lax",
        secure=_secure(request, settings),
        max_age=settings.session_hours * 3600,
        path="/",
    )
    redirect.delete_cookie(PRELOGIN_CSRF_COOKIE, path="/")
    return redirect


@router.post("/logout", dependencies=[CSRF])
def logout(actor: PageActor, db: DbDep) -> Response:
    with db.unit_of_work() as session:
        service.end_session(session, actor)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/reset/{token}")
def reset_form(request: Request, token: str, settings: SettingsDep) -> Response:
    prelogin_csrf(request)
    response = render(request, "identity/reset.html", {"token": token, "error": None})
    return _with_prelogin_cookie(request, response, settings)


@router.post("/reset/{token}")
def reset(
    request: Request,
    token: str,
    settings: SettingsDep,
    db: DbDep,
    clock: ClockDep,
    password: Annotated[str, Form(max_length=1024)],
    confirm: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    try:
        if password != confirm:
            raise InvalidInput("The two passwords differ.")
        with db.unit_of_work() as session:
            service.reset_password(session, token, password, clock=clock)
    except GroundswellError as exc:
        prelogin_csrf(request)
        response = render(
            request,
            "identity/reset.html",
            {"token": token, "error": exc.message},
            status_code=exc.status,
        )
        return _with_prelogin_cookie(request, response, settings)
    return RedirectResponse("/login?reset=1", status_code=303)


@router.get("/settings")
def settings_home(actor: PageActor) -> Response:
    target = "/settings/users" if actor.can(Permission.USERS_READ) else "/settings/tokens"
    return RedirectResponse(target, status_code=303)


@router.get("/settings/users")
def users_page(request: Request, actor: PageActor, session: ReadSession) -> Response:
    users = service.list_users(session, actor)
    grantable = [r for r in Role if may_grant(actor.role, r)]
    return render(
        request,
        "identity/users.html",
        {
            "users": users,
            "roles": grantable,
            "can_manage": actor.can(Permission.USERS_MANAGE),
            "error": None,
            "created": request.query_params.get("created"),
        },
    )


@router.post("/settings/users", dependencies=[CSRF])
def users_create(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    role: Annotated[Role, Form()],
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    try:
        with db.unit_of_work() as session:
            user = service.create_user(
                session, actor, email=email, name=name, role=role, password=password, clock=clock
            )
    except GroundswellError as exc:
        # Render inside the reader: closing it rolls back, which expires the loaded rows.
        with db.reader() as session:
            users = service.list_users(session, actor)
            return render(
                request,
                "identity/users.html",
                {
                    "users": users,
                    "roles": [r for r in Role if may_grant(actor.role, r)],
                    "can_manage": True,
                    "error": exc.message,
                    "created": None,
                },
                status_code=exc.status,
            )
    return RedirectResponse(
        f"/settings/users?{urlencode({'created': user.email})}", status_code=303
    )


@router.post("/settings/users/{user_id}/deactivate", dependencies=[CSRF])
def users_deactivate(user_id: str, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        service.deactivate_user(session, actor, user_id, clock=clock)
    return RedirectResponse("/settings/users", status_code=303)


@router.get("/settings/tokens")
def tokens_page(request: Request, actor: PageActor, session: ReadSession) -> Response:
    return render(
        request,
        "identity/tokens.html",
        {
            "tokens": service.list_tokens(session, actor),
            "scopes": list(Scope),
            "new_token": None,
        },
    )


@router.post("/settings/tokens", dependencies=[CSRF])
def tokens_create(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    scopes: Annotated[list[Scope] | None, Form()] = None,
) -> Response:
    with db.unit_of_work() as session:
        token, secret = service.create_token(
            session, actor, name=name, scopes=scopes or [Scope.READ], clock=clock
        )
        new = {"name": token.name, "secret": secret}
    # The secret is rendered in this one response and never again (no redirect, no storage).
    # Render inside the reader: closing it rolls back, which expires the loaded rows.
    with db.reader() as session:
        tokens = service.list_tokens(session, actor)
        return render(
            request,
            "identity/tokens.html",
            {"tokens": tokens, "scopes": list(Scope), "new_token": new},
            status_code=201,
        )


@router.post("/settings/tokens/{token_id}/revoke", dependencies=[CSRF])
def tokens_revoke(token_id: str, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        service.revoke_token(session, actor, token_id, clock=clock)
    return RedirectResponse("/settings/tokens", status_code=303)


def _filters(
    action: str | None,
    object_type: str | None,
    who: str | None,
    since: str | None,
    until: str | None,
) -> audit_views.AuditFilters:
    def moment(v: str | None) -> datetime | None:
        return service.parse_moment(v) if v else None

    return audit_views.AuditFilters(
        action=action or None,
        object_type=object_type or None,
        actor=who or None,
        since=moment(since),
        until=moment(until),
    )


@router.get("/audit")
def audit_page(
    request: Request,
    actor: PageActor,
    session: ReadSession,
    action: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    who: Annotated[str | None, Query(max_length=320)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    filters = _filters(action, object_type, who, since, until)
    rows, next_cursor = audit_views.page(session, actor, filters, cursor=cursor, limit=50)
    params = {
        k: v
        for k, v in {
            "action": action,
            "object_type": object_type,
            "who": who,
            "since": since,
            "until": until,
        }.items()
        if v
    }
    return render(
        request,
        "identity/audit.html",
        {
            "rows": rows,
            "next_cursor": next_cursor,
            "params": params,
            "next_url": f"/audit?{urlencode({**params, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "export_query": urlencode(params),
        },
    )


@router.get("/audit/export")
def audit_export(
    actor: PageActor,
    db: DbDep,
    format: Annotated[str, Query(pattern="^(jsonl|csv)$")] = "csv",
    action: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    who: Annotated[str | None, Query(max_length=320)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    actor.require(Permission.AUDIT_READ)
    filters = _filters(action, object_type, who, since, until)

    def stream() -> Iterator[str]:
        with db.reader() as session:
            yield from audit_views.export_for(session, actor, format, filters)

    media = "text/csv" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        stream(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="audit.{format}"'},
    )
