"""`/notifications`: a person's own notifications, newest first, with "mark all read"; and
the unread count every page shows in the top bar."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from groundswell.identity import notifications
from groundswell.identity.deps import ClockDep, DbDep, PageActor, ReadSession, csrf_protect
from groundswell.web import render

router = APIRouter(include_in_schema=False)


def unread_context(request: Request) -> dict[str, Any]:
    """The unread count for the top bar (registered with `web.templating.register_context`)."""
    actor = getattr(request.state, "actor", None)
    db = getattr(request.app.state, "db", None)
    if actor is None or db is None:
        return {}
    held = getattr(request.state, "read_session", None)
    if held is not None:  # the page's own read connection, still open while it renders
        return {"unread_notifications": notifications.unread_count(held, actor.user_id)}
    with db.reader() as session:
        return {"unread_notifications": notifications.unread_count(session, actor.user_id)}


@router.get("/notifications")
def notifications_page(
    request: Request,
    actor: PageActor,
    session: ReadSession,
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    items, next_cursor = notifications.list_for(session, actor, cursor=cursor, limit=50)
    return render(
        request,
        "identity/notifications.html",
        {"items": items, "next_cursor": next_cursor},
    )


@router.post("/notifications/read", dependencies=[Depends(csrf_protect)])
def notifications_read(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    notification_id: Annotated[str | None, Form()] = None,
) -> Response:
    with db.unit_of_work() as session:
        notifications.mark_read(
            session,
            actor,
            ids=None if notification_id is None else [notification_id],
            now=clock.now(),
        )
    return RedirectResponse("/notifications", status_code=303)
