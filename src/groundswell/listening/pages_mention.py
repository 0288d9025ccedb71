"""The mention page: the thread, the author, triage with its `why`, the near-duplicate
cluster, matched queries, and the actions (open a care conversation when the care room offers
it, flag a risk)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from groundswell import triage as triage_room
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.clock import Clock, as_utc
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.listening import actions, highlight, views_mention
from groundswell.listening.domain import QuerySyntaxError
from groundswell.listening.query import compile_query
from groundswell.listening.tables import Mention
from groundswell.triage.domain import Hints, Triage
from groundswell.triage.models import ModelUnavailable
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
CARE_FROM_MENTION = "/care/conversations/from-mention/"


def _post_paths(routes: Iterable[object], prefix: str = "") -> Iterator[str]:
    """The paths of the POST routes, also inside included routers (which FastAPI >= 0.165
    keeps as one wrapper route each, holding `original_router` and its include prefix)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _post_paths(inner.routes, prefix + getattr(context, "prefix", ""))
        elif "POST" in (getattr(route, "methods", None) or ()):
            yield prefix + getattr(route, "path", "")


def care_route(request: Request) -> bool:
    """Whether the care room serves "open a conversation from a mention" in this app."""
    return any(path.startswith(CARE_FROM_MENTION) for path in _post_paths(request.app.routes))


def triage_of(mention: Mention, clock: Clock) -> Triage | None:
    """The full triage of the mention's text, read again (the mention keeps only sentiment,
    labels and priority). None when the models cannot load."""
    created = as_utc(mention.created_at)
    hints = Hints(
        followers=mention.author_followers,
        verified=mention.author_verified,
        age_hours=max(0.0, (clock.now() - created).total_seconds() / 3600),
    )
    try:
        return triage_room.triage([mention.text], hints=[hints])[0]
    except (GroundswellError, ModelUnavailable):
        return None


def _mention_page(
    request: Request,
    actor: Actor,
    db: Database,
    clock: Clock,
    mention_id: int,
    *,
    error: str | None = None,
    note: str = "",
    status: int = 200,
) -> Response:
    with db.reader() as session:
        detail = views_mention.mention_detail(session, actor, mention_id)
        compiled: list[Any] = []
        for q in detail.matched:
            try:
                compiled.append(compile_query(q.query))
            except QuerySyntaxError:
                continue
        ctx = {
            "d": detail,
            "m": detail.mention,
            "terms": highlight.query_terms(compiled),
            "highlight": highlight.highlight,
            "triage": triage_of(detail.mention, clock),
            "care": care_route(request),
            "can_write": actor.can(Permission.CONTENT_WRITE),
            "error": error,
            "note": note,
            "notice": request.query_params.get("notice"),
            "now": clock.now(),
        }
        return render(request, "listening/mention.html", ctx, status_code=status)


@router.get("/listening/mentions/{mention_id}")
def mention_page(
    request: Request, actor: PageActor, db: DbDep, clock: ClockDep, mention_id: int
) -> Response:
    actor.require(Permission.ORG_READ)
    return _mention_page(request, actor, db, clock, mention_id)


@router.post("/listening/mentions/{mention_id}/flag", dependencies=[CSRF])
def mention_flag(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    mention_id: int,
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    try:
        with db.unit_of_work() as session:
            actions.flag_mention(session, actor, mention_id, note=note, clock=clock)
    except GroundswellError as exc:
        if exc.status == 404:
            raise
        return _mention_page(
            request, actor, db, clock, mention_id, error=exc.message, note=note, status=exc.status
        )
    target = f"/listening/mentions/{mention_id}?" + urlencode({"notice": "Flagged as a risk."})
    return RedirectResponse(target, status_code=303)
