"""Listening pages: the live stream with its filters and chart, the "N new mentions" poll,
and saved searches (save, test before saving, switch off). The mention page lives in
`pages_mention`, sources health and the quarantine in `pages_admin`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import GroundswellError, InvalidInput
from groundswell.listening import actions, highlight, ingest, views
from groundswell.listening.domain import Query, QuerySyntaxError
from groundswell.listening.query import compile_query
from groundswell.listening.tables import ListeningQuery, ListeningSource, Mention
from groundswell.listening.views import Filters
from groundswell.triage.domain import INTENT_LABELS, SENTIMENT_LABELS
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
POLL_SECONDS = 5


def filters_from(request: Request) -> Filters:
    """The stream's filters from the query string. Raises `InvalidInput` for a bad value."""
    p = request.query_params
    return Filters(
        q=p.get("q", "")[:2000],
        topic=p.get("topic", ""),
        saved=p.get("saved", ""),
        sentiment=p.get("sentiment", ""),
        label=p.get("label", ""),
        language=p.get("language", ""),
        source=p.get("source", ""),
        range=p.get("range", views.DEFAULT_RANGE) or views.DEFAULT_RANGE,
    )


def _has_any(session: Session, actor: Actor) -> tuple[bool, bool]:
    """(the organization holds mentions, it has a configured source)."""
    org = actor.organization_id
    mentions = session.scalar(select(Mention.id).where(Mention.organization_id == org).limit(1))
    sources = session.scalar(select(func.count()).where(ListeningSource.organization_id == org))
    return mentions is not None, bool(sources)


def common(session: Session, actor: Actor) -> dict[str, Any]:
    facets = views.facets(session, actor)
    return {
        "facets": facets,
        "sentiments": SENTIMENT_LABELS,
        "intent_labels": INTENT_LABELS,
        "ranges": views.RANGE_LABELS,
    }


def save_search_query(filters: Filters) -> str:
    """The current filters as one listening query, as far as the language can say them
    (`lang:` and `source:`; sentiment, labels and topics are not part of a query)."""
    parts = [
        f"({filters.q})"
        if filters.q.strip() and (filters.language or filters.source)
        else filters.q.strip()
    ]
    if filters.language:
        parts.append(f"lang:{filters.language}")
    if filters.source:
        parts.append(f"source:{filters.source}")
    return " ".join(p for p in parts if p)


def _stream_context(
    request: Request, actor: Actor, session: Session, filters: Filters, now: datetime
) -> dict[str, Any]:
    ctx: dict[str, Any] = {"filters": filters, "query_error": None, "page": None, "volume": None}
    cursor = request.query_params.get("cursor") or None
    try:
        compiled = filters.compiled()
        ctx["page"] = views.list_mentions(session, actor, filters, now=now, cursor=cursor)
        ctx["volume"] = views.volume(session, actor, filters, now=now)
    except QuerySyntaxError as exc:
        ctx["query_error"] = exc.message
        compiled = None
    # Words to mark: the query's, else those of the chosen saved search or topic.
    if compiled is not None:
        ctx["terms"] = highlight.query_terms([compiled])
    elif filters.saved or filters.topic:
        chosen = [
            q
            for q in views.saved_queries(session, actor)
            if (filters.saved and q.id == filters.saved)
            or (filters.topic and q.topic == filters.topic)
        ]
        ctx["terms"] = highlight.query_terms(_compiled_all(chosen))
    else:
        ctx["terms"] = []
    items = ctx["page"].items if ctx["page"] is not None else []
    ctx["terms_for"] = {} if ctx["terms"] else highlight.matched_terms(session, items)
    has_mentions, has_sources = _has_any(session, actor)
    ctx["has_mentions"] = has_mentions
    ctx["has_sources"] = has_sources
    ctx["save_query"] = save_search_query(filters)
    ctx["poll_seconds"] = POLL_SECONDS
    ctx["cursor_given"] = cursor is not None
    ctx["highlight"] = highlight.highlight
    ctx["chart_scan"] = views.CHART_QUERY_SCAN
    ctx["count"] = 0
    ctx["show_url"] = "/listening?" + urlencode(filters.params())
    newest = ctx["page"].newest_id if ctx["page"] is not None else 0
    ctx["poll_url"] = "/listening/new?" + urlencode({**filters.params(), "after": str(newest)})
    return ctx


def _compiled_all(rows: list[ListeningQuery]) -> list[Query]:
    out = []
    for row in rows:
        try:
            out.append(compile_query(row.query))
        except QuerySyntaxError:  # saved before a grammar change: nothing to mark
            continue
    return out


@router.get("/listening")
def stream_page(request: Request, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    actor.require(Permission.ORG_READ)
    now = clock.now()
    try:
        filters = filters_from(request)
        error = None
    except InvalidInput as exc:
        filters, error = Filters(), exc.message
    with db.reader() as session:
        ctx = _stream_context(request, actor, session, filters, now)
        ctx.update(common(session, actor))
        ctx["filter_error"] = error
        ctx["now"] = now
        html = render(
            request,
            "listening/stream.html",
            ctx,
            # A query that does not parse is answered like any search: the page, with the
            # caret message in place of results (a 4xx would read as a broken page).
            status_code=400 if error else 200,
        )
    return html


@router.get("/listening/new")
def new_mentions(
    request: Request, actor: PageActor, db: DbDep, clock: ClockDep, after: int = 0
) -> Response:
    """The poll of the stream: how many mentions passing the filters arrived since the page
    was read. The answer carries the same poll, so it keeps going."""
    actor.require(Permission.ORG_READ)
    try:
        filters = filters_from(request)
        with db.reader() as session:
            count = views.count_newer(session, actor, filters, after, now=clock.now())
    except InvalidInput:
        filters, count = Filters(), 0
    return render(
        request,
        "listening/_new.html",
        {
            "filters": filters,
            "after": after,
            "count": count,
            "poll_seconds": POLL_SECONDS,
            "show_url": "/listening?" + urlencode(filters.params()),
            "poll_url": "/listening/new?" + urlencode({**filters.params(), "after": str(after)}),
        },
    )


# --- saved searches ----------------------------------------------------------------------------


def _queries_page(
    request: Request,
    actor: Actor,
    db: Any,
    *,
    form: dict[str, str] | None = None,
    error: str | None = None,
    notice: str | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as session:
        queries = views.saved_queries(session, actor)
        counts = views.match_counts(session, actor)
    p = request.query_params
    values = form or {
        "name": p.get("name", ""),
        "topic": p.get("topic", ""),
        "query": p.get("q", ""),
    }
    return render(
        request,
        "listening/queries.html",
        {
            "queries": queries,
            "counts": counts,
            "topics": sorted({q.topic for q in queries if q.topic}),
            "form": values,
            "error": error,
            "notice": notice or p.get("notice"),
            "can_write": actor.can(Permission.CONTENT_WRITE),
        },
        status_code=status,
    )


@router.get("/listening/queries")
def queries_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    actor.require(Permission.ORG_READ)
    return _queries_page(request, actor, db)


@router.post("/listening/queries", dependencies=[CSRF])
def queries_save(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=300)],
    query: Annotated[str, Form(max_length=5000)],
    topic: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    form = {"name": name, "topic": topic, "query": query}
    try:
        actor.require(Permission.CONTENT_WRITE)
        for field, value in form.items():
            views.check_text(value, field)
        with db.unit_of_work() as session:
            row = ingest.add_query(session, actor, name=name, topic=topic, query=query, clock=clock)
            target = "/listening/queries?" + urlencode(
                {"notice": f"Saved {row.name!r}: new posts it matches will be tagged."}
            )
    except GroundswellError as exc:
        return _queries_page(request, actor, db, form=form, error=exc.message, status=exc.status)
    return RedirectResponse(target, status_code=303)


@router.post("/listening/queries/test", dependencies=[CSRF])
def queries_test(
    request: Request,
    actor: PageActor,
    db: DbDep,
    query: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    """Try a query on the most recent mentions before saving it (an htmx fragment; a bad
    query shows its caret message there)."""
    actor.require(Permission.ORG_READ)
    ctx: dict[str, Any] = {
        "error": None,
        "tried": 0,
        "matched": 0,
        "sample": [],
        "terms": [],
        "highlight": highlight.highlight,
    }
    try:
        with db.reader() as session:
            tried, matched, sample = views.try_query(session, actor, query)
            ctx.update(tried=tried, matched=matched, sample=sample)
            ctx["terms"] = highlight.query_terms([compile_query(query)])
            return render(request, "listening/_query_test.html", ctx)
    except QuerySyntaxError as exc:
        ctx["error"] = exc.message
    return render(request, "listening/_query_test.html", ctx)


@router.post("/listening/queries/{query_id}/active", dependencies=[CSRF])
def queries_active(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    query_id: str,
    active: Annotated[str, Form(max_length=5)],
) -> Response:
    on = active == "true"
    with db.unit_of_work() as session:
        row = actions.set_query_active(session, actor, query_id, active=on, clock=clock)
        notice = f"{row.name!r} is {'active again' if on else 'switched off: it no longer tags new posts'}."
    return RedirectResponse("/listening/queries?" + urlencode({"notice": notice}), status_code=303)
