"""Rendering errors: RFC 9457 problem+json under /api, a friendly page elsewhere, a partial
for htmx requests, a redirect to /login when a page needs a signed-in person."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DataError, StatementError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from groundswell.kernel.errors import GroundswellError, NotAuthenticated, problem
from groundswell.web.templating import render

log = logging.getLogger(__name__)
_SECRET_IN_PATH = re.compile(r"(/reset/)[^\s/?\"]+")


def redact_secrets(text: str) -> str:
    """Hide one-time secrets that travel in URL paths (password-reset links) before logging."""
    return _SECRET_IN_PATH.sub(r"\1***", text)


PROBLEM_JSON = "application/problem+json"


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem_response(
    request: Request, status: int, title: str, detail: str, code: str, **extra: Any
) -> Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        problem(status, title, detail, code, instance=request.url.path, **extra),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _page(request: Request, status: int, title: str, detail: str) -> Response:
    template = "error_partial.html" if request.headers.get("HX-Request") else "error.html"
    return render(
        request, template, {"status": status, "title": title, "detail": detail}, status_code=status
    )


async def on_groundswell_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GroundswellError)
    if is_api(request):
        return _problem_response(
            request, exc.status, exc.title, exc.message, exc.code, **exc.details
        )
    if isinstance(exc, NotAuthenticated):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        login = f"/login?next={quote(target)}"
        if request.headers.get("HX-Request"):
            # htmx would follow a 303 inside the fragment; ask it to navigate the whole page.
            return Response(status_code=401, headers={"HX-Redirect": login})
        return RedirectResponse(login, status_code=303)
    return _page(request, exc.status, exc.title, exc.message)


def _describe(errors: list[Any]) -> list[dict[str, str]]:
    out = []
    for err in errors:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "body"
        msg = err.get("msg", "invalid")
        if err.get("type") == "json_invalid":
            loc = "body"
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        elif err.get("type") == "json_invalid":
            msg = f"malformed JSON: {err.get('ctx', {}).get('error', 'cannot parse')}"
        out.append({"field": loc, "message": msg})
    return out


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = _describe(list(exc.errors()))
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    malformed = any(e["message"].startswith("malformed JSON") for e in errors)
    status = 400 if malformed else 422
    if is_api(request):
        return _problem_response(
            request,
            status,
            "Malformed request" if malformed else "Invalid input",
            detail,
            "malformed_json" if malformed else "invalid_input",
            errors=errors,
        )
    return _page(request, status, "Invalid input", detail)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
    title = titles.get(exc.status_code, "Request failed")
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404:
        detail = f"Nothing lives at {request.url.path}."
    if is_api(request):
        return _problem_response(request, exc.status_code, title, detail, f"http_{exc.status_code}")
    return _page(request, exc.status_code, title, detail)


def _unstorable(exc: Exception) -> bool:
    """Input that reached the database but no column can hold: a NUL character in text
    (PostgreSQL), a number beyond 64 bits (SQLite's OverflowError). Each route should refuse
    such input itself; this net makes a route that forgot answer 422, not 500."""
    if isinstance(exc, DataError):
        return True
    if isinstance(exc, OverflowError):
        return True
    return isinstance(exc, StatementError) and isinstance(exc.orig, OverflowError)


async def on_storage_error(request: Request, exc: Exception) -> Response:
    """Database and overflow errors: 422 when the input could not be stored, else as any
    unexpected error (handled here, not by the server's last-resort handler)."""
    if not _unstorable(exc):
        return await on_unexpected(request, exc)
    detail = (
        "A value could not be stored: text may not contain NUL characters, and numbers "
        "must fit in 64 bits."
    )
    if is_api(request):
        return _problem_response(request, 422, "Invalid input", detail, "invalid_input")
    return _page(request, 422, "Invalid input", detail)


async def on_unexpected(request: Request, exc: Exception) -> Response:
    # The path may carry a one-time secret (/reset/<token>): never log it as is.
    log.exception("unhandled error on %s %s", request.method, redact_secrets(request.url.path))
    detail = "Something went wrong on our side. It has been logged; please try again."
    if is_api(request):
        return _problem_response(request, 500, "Internal error", detail, "internal_error")
    return _page(request, 500, "Internal error", detail)


def install(app: FastAPI) -> None:
    app.add_exception_handler(GroundswellError, on_groundswell_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(StatementError, on_storage_error)
    app.add_exception_handler(OverflowError, on_storage_error)
    app.add_exception_handler(Exception, on_unexpected)
