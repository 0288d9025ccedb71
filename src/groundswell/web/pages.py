"""Shell pages: home, the honest empty state of rooms not built yet, health checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from groundswell.kernel.db import Database
from groundswell.kernel.migrate import is_at_head
from groundswell.web.rooms import ROOMS
from groundswell.web.templating import render

health = APIRouter(tags=["health"])


@health.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz", summary="The database is reachable and migrated to head")
def readyz(request: Request) -> Response:
    db: Database = request.app.state.db
    try:
        with db.reader() as session:
            session.execute(text("SELECT 1"))
        at_head = is_at_head(db.read_engine)
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "reason": type(exc).__name__}, status_code=503
        )
    if not at_head:
        return JSONResponse(
            {"status": "unavailable", "reason": "migrations pending: run `groundswell migrate`"},
            status_code=503,
        )
    return JSONResponse({"status": "ready"})


def room_router(built: set[str], page_actor: Callable[..., Any]) -> APIRouter:
    """Routes for the home page and the rooms that have no pages of their own yet. The
    dependency that signs people in comes from above (identity), so the shell stays low."""
    router = APIRouter(include_in_schema=False, dependencies=[Depends(page_actor)])

    @router.get("/")
    def home(request: Request) -> Response:
        return render(request, "home.html", {"built": built})

    for room in ROOMS:
        if room.slug in built:
            continue

        def empty(request: Request, _room: str = room.slug) -> Response:
            current = next(r for r in ROOMS if r.slug == _room)
            return render(request, "room_empty.html", {"room": current})

        router.add_api_route(f"/{room.slug}", empty, methods=["GET"], name=f"room-{room.slug}")
    return router
