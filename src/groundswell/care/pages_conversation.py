"""One conversation (`/care/conversations/{id}`): the thread, the customer's profile across
sources, why triage ranked it, internal notes, assign/status actions, saved replies, and the
composer with the live policy check, approval, the 10-second undo, delivery status and retry.
Presence (who else views or types) is polled by htmx every 2 s (`/presence`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import csat, presence, service
from groundswell.care.pages import common, org_zone, snooze_until
from groundswell.care.replies import reply_action
from groundswell.care.sending import NoPublisher, addressed, outlet_for_conversation
from groundswell.care.service import ReplyBlocked
from groundswell.care.tables import (
    CareConversation,
    CareCustomer,
    CareCustomerIdentity,
    CareMessage,
    CareSavedReply,
)
from groundswell.governance.approvals import link as approval_link
from groundswell.governance.domain import Action, Severity
from groundswell.governance.service import authorize, crisis_mode
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.service import Actor
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.listening.tables import Mention
from groundswell.triage import triage
from groundswell.triage.models import ModelUnavailable
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/care/conversations/{conversation_id}"
PENDING = ("queued", "sending", "awaiting_approval")
TEXT_MAX = 10_000


def _thread_context(
    session: Session, actor: Actor, c: CareConversation, now: Any
) -> dict[str, Any]:
    thread = service.messages(session, actor, c.id)
    mention_ids = [m.mention_id for m in thread if m.mention_id is not None]
    mentions = (
        {
            m.id: m
            for m in session.scalars(
                select(Mention).where(
                    Mention.id.in_(mention_ids), Mention.organization_id == actor.organization_id
                )
            )
        }
        if mention_ids
        else {}
    )
    return {
        "c": c,
        "thread": thread,
        "mentions": mentions,
        "pending": any(m.delivery_status in PENDING for m in thread),
        "approval_link": approval_link,
    }


def _outlet_problem(session: Session, c: CareConversation) -> tuple[int | None, str | None]:
    """(the network's length limit, why replies cannot be sent here)."""
    try:
        outlet = outlet_for_conversation(session, c)
    except NoPublisher as exc:
        return None, exc.message
    return outlet.capabilities.max_length, None


def _page_context(
    request: Request, session: Session, actor: Actor, conversation_id: str, now: Any
) -> dict[str, Any]:
    c = service.access_conversation(session, actor, conversation_id)
    ctx = common(session, actor, now)
    ctx.update(_thread_context(session, actor, c, now))
    customer = session.get(CareCustomer, c.customer_id) if c.customer_id else None
    identities = (
        list(
            session.scalars(
                select(CareCustomerIdentity)
                .where(CareCustomerIdentity.customer_id == customer.id)
                .order_by(CareCustomerIdentity.source)
            )
        )
        if customer
        else []
    )
    history = (
        list(
            session.scalars(
                select(CareConversation)
                .where(
                    CareConversation.customer_id == customer.id,
                    CareConversation.organization_id == actor.organization_id,
                    CareConversation.id != c.id,
                )
                .order_by(CareConversation.updated_at.desc())
                .limit(10)
            )
        )
        if customer
        else []
    )
    me = ctx["people"].get(actor.user_id)
    saved = list(
        session.scalars(
            select(CareSavedReply)
            .where(CareSavedReply.organization_id == actor.organization_id)
            .order_by(CareSavedReply.name)
        )
    )
    max_length, outlet_problem = _outlet_problem(session, c)
    ctx.update(
        customer=customer,
        identities=identities,
        history=history,
        saved_replies=[
            (s, service.render_saved_reply(s, c, agent_name=me.name if me else "")) for s in saved
        ],
        suggested=c.suggested_reply_id,
        max_length=max_length,
        outlet_problem=outlet_problem,
        others=presence.others(session, actor, c.id, now=now),
        csat_link=str(request.base_url).rstrip("/") + f"/csat/{c.csat_token}"
        if c.status == "resolved" and c.csat_token
        else None,
        crisis=crisis_mode(session, actor.organization_id),
        triage_mention=next(
            (
                ctx["mentions"][m.mention_id]
                for m in ctx["thread"]
                if m.mention_id in ctx["mentions"]
            ),
            None,
        ),
        triage_why=_why(ctx["thread"]),
    )
    return ctx


def _why(thread: list[CareMessage]) -> str | None:
    """Triage's own explanation of the customer's first message (the words that weighed)."""
    first = next((m for m in thread if m.direction == "inbound"), None)
    if first is None:
        return None
    try:
        return triage([first.text])[0].why or None
    except ModelUnavailable:
        return None


@router.get(BASE)
def conversation_page(
    request: Request, conversation_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    now = clock.now()
    with db.reader() as session:
        ctx = _page_context(request, session, actor, conversation_id, now)
    return render(request, "care/conversation.html", ctx)


def _thread(
    request: Request, db: Database, actor: Actor, conversation_id: str, now: Any
) -> Response:
    with db.reader() as session:
        c = service.access_conversation(session, actor, conversation_id)
        ctx = common(session, actor, now)
        ctx.update(_thread_context(session, actor, c, now))
    return render(request, "care/_thread.html", ctx)


@router.get(BASE + "/thread")
def thread(
    request: Request, conversation_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    """The thread alone: the page polls it while a reply is queued, sending or waiting."""
    return _thread(request, db, actor, conversation_id, clock.now())


@router.post(BASE + "/check", dependencies=[CSRF])
def policy_check(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    text: Annotated[str, Form(max_length=TEXT_MAX)] = "",
) -> Response:
    """The composer's live check, as the reply would be judged if sent now."""
    with db.reader() as session:
        c = service.access_conversation(session, actor, conversation_id)
        max_length, problem = _outlet_problem(session, c)
        action = reply_action(session, c)
        crisis = action is Action.REPLY_CRISIS
        network = None
        sent = text.strip()  # as it will go out (a private reply may start with the @handle)
        if problem is None:
            outlet = outlet_for_conversation(session, c)
            network = outlet.source.connector
            sent = addressed(sent, c, outlet.capabilities) if sent else sent
        result = authorize(session, actor, action, text=text.strip() or None, network=network)
    findings = sorted(result.findings, key=lambda f: (f.start, f.end))
    return render(
        request,
        "care/_check.html",
        {
            "text": text,
            "result": result,
            "findings": findings,
            "blocking": [f for f in findings if f.severity is Severity.BLOCK],
            "length": len(sent),
            "max_length": max_length,
            "outlet_problem": problem,
            "crisis": crisis,
            "segments": _segments(text, findings),
        },
    )


def _segments(text: str, findings: list[Any]) -> list[tuple[str, str | None]]:
    """The text cut into (piece, severity or None) so findings show highlighted in place."""
    marks: list[str | None] = [None] * len(text)
    order = {Severity.INFO: 1, Severity.WARN: 2, Severity.BLOCK: 3}
    for f in findings:
        for i in range(max(f.start, 0), min(f.end, len(text))):
            current = marks[i]
            if current is None or order[Severity(current)] < order[f.severity]:
                marks[i] = f.severity.value
    pieces: list[tuple[str, str | None]] = []
    for ch, mark in zip(text, marks, strict=True):
        if pieces and pieces[-1][1] == mark:
            pieces[-1] = (pieces[-1][0] + ch, mark)
        else:
            pieces.append((ch, mark))
    return pieces


def _work(
    request: Request,
    db: Database,
    actor: Actor,
    conversation_id: str,
    now: Any,
    **extra: Any,
) -> Response:
    """The thread and the composer together (what a reply or a note changes)."""
    with db.reader() as session:
        ctx = _page_context(request, session, actor, conversation_id, now)
    ctx.update(extra, oob_status=True)
    return render(request, "care/_work.html", ctx)


@router.post(BASE + "/replies", dependencies=[CSRF])
def send_reply(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    text: Annotated[str, Form(max_length=TEXT_MAX)],
) -> Response:
    now = clock.now()
    try:
        with db.unit_of_work() as session:
            message = service.reply(session, actor, conversation_id, text, now=now)
            status = message.delivery_status
    except ReplyBlocked as exc:
        return _work(request, db, actor, conversation_id, now, draft=text, reply_error=exc.message)
    except GroundswellError as exc:
        if exc.status in (404, 401):
            raise
        return _work(request, db, actor, conversation_id, now, draft=text, reply_error=exc.message)
    if not request.headers.get("HX-Request"):
        return RedirectResponse(service.conversation_link(conversation_id), status_code=303)
    notice = (
        "Your reply waits for approval before it is sent."
        if status == "awaiting_approval"
        else "Sending… you can undo for a few seconds."
    )
    return _work(request, db, actor, conversation_id, now, reply_notice=notice)


@router.post("/care/messages/{message_id}/undo", dependencies=[CSRF])
def undo(
    request: Request, message_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    now = clock.now()
    with db.unit_of_work() as session:
        message = service.undo_reply(session, actor, message_id, now=now)
        conversation_id = message.conversation_id
    return _done(request, db, actor, conversation_id, now)


@router.post("/care/messages/{message_id}/retry", dependencies=[CSRF])
def retry(
    request: Request, message_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    now = clock.now()
    with db.unit_of_work() as session:
        message = service.retry_reply(session, actor, message_id, now=now)
        conversation_id = message.conversation_id
    return _done(request, db, actor, conversation_id, now)


def _done(request: Request, db: Database, actor: Actor, conversation_id: str, now: Any) -> Response:
    if request.headers.get("HX-Request"):
        return _thread(request, db, actor, conversation_id, now)
    return RedirectResponse(service.conversation_link(conversation_id), status_code=303)


@router.post(BASE + "/notes", dependencies=[CSRF])
def add_note(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    text: Annotated[str, Form(max_length=TEXT_MAX)],
) -> Response:
    now = clock.now()
    try:
        with db.unit_of_work() as session:
            service.add_note(session, actor, conversation_id, text, now=now)
    except GroundswellError as exc:
        if exc.status in (404, 401):
            raise
        return _work(
            request, db, actor, conversation_id, now, note_draft=text, note_error=exc.message
        )
    if not request.headers.get("HX-Request"):
        return RedirectResponse(service.conversation_link(conversation_id), status_code=303)
    return _work(request, db, actor, conversation_id, now)


@router.post(BASE + "/snooze", dependencies=[CSRF])
def snooze(
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    until: Annotated[str, Form(max_length=20)],
) -> Response:
    now = clock.now()
    with db.unit_of_work() as session:
        when = snooze_until(until, now, org_zone(session, actor.organization_id))
        service.set_status(session, actor, conversation_id, "snoozed", snooze_until=when, now=now)
    return RedirectResponse(service.conversation_link(conversation_id), status_code=303)


@router.post(BASE + "/csat-link", dependencies=[CSRF])
def new_csat_link(conversation_id: str, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        c = service.access_conversation(session, actor, conversation_id)
        csat.issue_link(session, actor, c, clock=clock)
    return RedirectResponse(service.conversation_link(conversation_id) + "#csat", status_code=303)


@router.post(BASE + "/presence", dependencies=[CSRF])
def heartbeat(
    request: Request,
    conversation_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    typing: Annotated[str, Form(max_length=1)] = "0",
) -> Response:
    """The page's heartbeat (every 2 s, and at once on the first keystroke): records this
    person and answers with who else is here; the composer's collision warning comes along
    as an out-of-band swap."""
    now = clock.now()
    with db.unit_of_work() as session:
        service.access_conversation(session, actor, conversation_id)
        presence.heartbeat(session, actor, conversation_id, typing=typing == "1", now=now)
    with db.reader() as session:
        others = presence.others(session, actor, conversation_id, now=now)
    return render(request, "care/_presence.html", {"others": others, "oob": True})


@router.post(BASE + "/leave", dependencies=[CSRF])
def leave(conversation_id: str, actor: PageActor, db: DbDep) -> Response:
    """The page was closed (a beacon on `pagehide`): stop showing this person at once
    rather than when their last heartbeat expires."""
    with db.unit_of_work() as session:
        service.access_conversation(session, actor, conversation_id)
        presence.leave(session, actor, conversation_id)
    return Response(status_code=204)
