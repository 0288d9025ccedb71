"""The approvals queue (`/governance/approvals`): waiting for me, asked by me, decided; one
request (`/governance/approvals/{id}`). Approve and Reject post the card's comment; with htmx
the card is swapped in place, without it the page reloads. Nobody ever sees an Approve button
on their own request (`can_decide` is false for it)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from groundswell.governance import approvals
from groundswell.governance.approvals_views import (
    ApprovalStatus,
    Box,
    access_request,
    list_requests,
)
from groundswell.governance.service import ACTION_LABELS
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.service import Actor
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
PATH = "/governance/approvals"
BOX_LABELS = {
    Box.FOR_ME: "Waiting for me",
    Box.MINE: "Asked by me",
    Box.DECIDED: "Decided",
}
STATUS_LABELS = {
    ApprovalStatus.PENDING: "waiting",
    ApprovalStatus.APPROVED: "approved",
    ApprovalStatus.REJECTED: "rejected",
    ApprovalStatus.EXPIRED: "expired",
    ApprovalStatus.WITHDRAWN: "withdrawn",
}
LABELS = {"actions": ACTION_LABELS, "statuses": STATUS_LABELS}


@router.get(PATH)
def approvals_page(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    box: Box = Box.FOR_ME,
    cursor: str | None = None,
) -> Response:
    now = clock.now()
    with db.reader() as session:
        items, next_cursor = list_requests(session, actor, box, now=now, cursor=cursor)
        waiting = len(list_requests(session, actor, Box.FOR_ME, now=now, limit=200)[0])
    return render(
        request,
        "governance/approvals.html",
        {
            "box": box,
            "boxes": BOX_LABELS,
            "items": items,
            "waiting": waiting,
            "next_url": f"{PATH}?{urlencode({'box': box.value, 'cursor': next_cursor})}"
            if next_cursor
            else None,
            "notice": request.query_params.get("notice"),
            **LABELS,
        },
    )


def _detail(
    request: Request,
    actor: Actor,
    db: Database,
    clock: Clock,
    request_id: str,
    *,
    notice: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as session:
        view = access_request(session, actor, request_id, now=clock.now())
    htmx = bool(request.headers.get("HX-Request"))
    return render(
        request,
        "governance/_approval_card.html" if htmx else "governance/approval.html",
        {
            "a": view,
            "notice": notice or request.query_params.get("notice"),
            "error": error,
            "detail": not htmx,
            **LABELS,
        },
        status_code=status,
    )


@router.get(f"{PATH}/{{request_id}}")
def approval_page(
    request: Request, request_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    return _detail(request, actor, db, clock, request_id)


def _decide(
    request: Request,
    actor: Actor,
    db: Database,
    clock: Clock,
    request_id: str,
    verdict: str,
    comment: str,
) -> Response:
    try:
        with db.unit_of_work() as session:
            if verdict == "approve":
                row = approvals.approve(
                    session, actor, request_id, comment=comment, now=clock.now()
                )
                notice = "Approved." if row.status == "approved" else "Approved; more needed."
            elif verdict == "reject":
                approvals.reject(session, actor, request_id, comment=comment, now=clock.now())
                notice = "Rejected. The requester has been told why."
            else:
                approvals.withdraw(session, actor, request_id, now=clock.now())
                notice = "Request withdrawn."
    except GroundswellError as exc:
        if request.headers.get("HX-Request"):
            raise  # the shell shows it in the flash region
        return _detail(request, actor, db, clock, request_id, error=exc.message, status=exc.status)
    if request.headers.get("HX-Request"):
        return _detail(request, actor, db, clock, request_id, notice=notice)
    target = f"{PATH}/{request_id}?{urlencode({'notice': notice})}"
    return RedirectResponse(target, status_code=303)


@router.post(f"{PATH}/{{request_id}}/approve", dependencies=[CSRF])
def approve_post(
    request: Request,
    request_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    comment: Annotated[str, Form(max_length=approvals.COMMENT_MAX)] = "",
) -> Response:
    return _decide(request, actor, db, clock, request_id, "approve", comment)


@router.post(f"{PATH}/{{request_id}}/reject", dependencies=[CSRF])
def reject_post(
    request: Request,
    request_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    comment: Annotated[str, Form(max_length=approvals.COMMENT_MAX)] = "",
) -> Response:
    return _decide(request, actor, db, clock, request_id, "reject", comment)


@router.post(f"{PATH}/{{request_id}}/withdraw", dependencies=[CSRF])
def withdraw_post(
    request: Request, request_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    return _decide(request, actor, db, clock, request_id, "withdraw", "")
