"""The customer's public rating page, `/csat/{token}`: no sign-in, one click on 1–5 (with an
optional comment in the same form), once. Forms carry a double-submit CSRF token like the
other pages shown before sign-in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from groundswell.care import csat
from groundswell.identity.deps import (
    PRELOGIN_CSRF_COOKIE,
    ClockDep,
    DbDep,
    SettingsDep,
    check_csrf,
    client_ip,
    prelogin_csrf,
)
from groundswell.kernel.errors import Conflict, GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    settings: SettingsDep,
    token: str,
    context: dict[str, object],
    *,
    status: int = 200,
) -> Response:
    csrf = prelogin_csrf(request)
    request.state.actor = None
    response = render(
        request,
        "care/csat.html",
        {"token": token, "labels": csat.RATING_LABELS, **context},
        status_code=status,
    )
    if request.cookies.get(PRELOGIN_CSRF_COOKIE) != csrf:
        response.set_cookie(
            PRELOGIN_CSRF_COOKIE,
            csrf,
            httponly=True,
            samesite="lax",
            secure=settings.secure_cookies or request.url.scheme == "https",
            path="/",
        )
    return response


@router.get("/csat/{token}")
def rating_form(
    request: Request, token: str, db: DbDep, settings: SettingsDep, rating: int | None = None
) -> Response:
    try:
        with db.reader() as session:
            info = csat.rating_page(session, token)
    except GroundswellError as exc:
        return _page(
            request, settings, token, {"error": exc.message, "info": None}, status=exc.status
        )
    return _page(
        request,
        settings,
        token,
        {"info": info, "chosen": rating if rating in csat.RATINGS else None, "error": None},
    )


@router.post("/csat/{token}")
def rating_submit(
    request: Request,
    token: str,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    rating: Annotated[int, Form()],
    comment: Annotated[str, Form(max_length=csat.MAX_COMMENT)] = "",
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(request, csrf_token)
    try:
        with db.unit_of_work() as session:
            csat.rate(session, token, rating, comment, clock=clock, ip=client_ip(request))
    except Conflict as exc:
        return _page(
            request, settings, token, {"info": None, "thanks": True, "notice": exc.message}
        )
    except GroundswellError as exc:
        with db.reader() as session:
            try:
                info = csat.rating_page(session, token)
            except GroundswellError:
                info = None
        return _page(
            request,
            settings,
            token,
            {"info": info, "error": exc.message, "chosen": None, "comment": comment},
            status=exc.status,
        )
    return _page(request, settings, token, {"info": None, "thanks": True, "rating": rating})
