"""Pages of the crisis room after and around incidents: the blameless review (edit, share a
read-only link, the shared page itself), stakeholders, and drills."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.crisis import drills, playbooks, reviews, service
from groundswell.identity.deps import ClockDep, DbDep, PageActor, SettingsDep, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.db import Database
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/crisis"


def members(session: Session, actor: Actor) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(User.organization_id == actor.organization_id, User.is_active.is_(True))
            .order_by(User.email)
        )
    )


# -- reviews ---------------------------------------------------------------------------------


def _review_context(db: Database, actor: Actor, incident_id: str) -> dict[str, Any]:
    with db.reader() as session:
        review = reviews.access_review(session, actor, incident_id)
        incident = service.access_incident(session, actor, incident_id)
        view = service.describe(session, incident)
        people = members(session, actor)
    return {
        "review": review,
        "i": incident,
        "view": view,
        "members": people,
        "people": {u.id: u for u in people},
        "can_write": actor.can(Permission.CONTENT_WRITE),
        "severities": playbooks.SEVERITY_LABELS,
    }


@router.get(BASE + "/incidents/{incident_id}/review")
def review_page(request: Request, incident_id: str, actor: PageActor, db: DbDep) -> Response:
    ctx = _review_context(db, actor, incident_id)
    ctx["share_link"] = None
    return render(request, "crisis/review.html", ctx)


@router.post(BASE + "/incidents/{incident_id}/review", dependencies=[CSRF])
async def review_save(
    request: Request, incident_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    form = await request.form()
    texts = [str(v) for v in form.getlist("item_text")]
    owners = [str(v) for v in form.getlist("item_owner")]
    dues = [str(v) for v in form.getlist("item_due")]
    items = [
        {"text": t, "owner_id": o, "due": d} for t, o, d in zip(texts, owners, dues, strict=False)
    ]
    with db.unit_of_work() as session:
        reviews.update_review(
            session,
            actor,
            incident_id,
            what_happened=str(form.get("what_happened", ""))[:5000],
            went_well=str(form.get("went_well", ""))[:5000],
            to_improve=str(form.get("to_improve", ""))[:5000],
            action_items=items,
            now=clock.now(),
        )
    return RedirectResponse(f"{BASE}/incidents/{incident_id}/review", status_code=303)


@router.post(BASE + "/incidents/{incident_id}/review/share", dependencies=[CSRF])
def review_share(
    request: Request,
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    with db.unit_of_work() as session:
        token = reviews.share_review(session, actor, incident_id, now=clock.now())
    ctx = _review_context(db, actor, incident_id)
    ctx["share_link"] = f"{settings.base_url.rstrip('/')}{BASE}/reviews/{token}"
    return render(request, "crisis/review.html", ctx)


@router.get(BASE + "/reviews/{token}")
def review_shared(request: Request, token: str, db: DbDep) -> Response:
    """The read-only review for anyone holding the link (no sign-in)."""
    with db.reader() as session:
        review, incident = reviews.review_by_token(session, token)
        view = service.describe(session, incident)
    return render(
        request,
        "crisis/review_shared.html",
        {
            "review": review,
            "i": incident,
            "view": view,
            "people": view.people,
            "severities": playbooks.SEVERITY_LABELS,
        },
    )


# -- stakeholders and drills -----------------------------------------------------------------


@router.get(BASE + "/stakeholders")
def stakeholders_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    with db.reader() as session:
        rows = reviews.list_stakeholders(session, actor)
    return render(
        request,
        "crisis/stakeholders.html",
        {
            "stakeholders": rows,
            "severities": playbooks.SEVERITY_LABELS,
            "can_manage": actor.can(Permission.SETTINGS_MANAGE),
        },
    )


@router.post(BASE + "/stakeholders", dependencies=[CSRF])
def stakeholders_add(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=320)] = "",
    webhook_url: Annotated[str, Form(max_length=500)] = "",
    webhook_secret: Annotated[str, Form(max_length=200)] = "",
    min_severity: Annotated[str, Form(max_length=8)] = "sev4",
) -> Response:
    with db.unit_of_work() as session:
        reviews.add_stakeholder(
            session,
            actor,
            name=name,
            email=email,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            min_severity=min_severity,
            now=clock.now(),
        )
    return RedirectResponse(BASE + "/stakeholders", status_code=303)


@router.post(BASE + "/stakeholders/{stakeholder_id}/delete", dependencies=[CSRF])
def stakeholders_remove(
    stakeholder_id: str, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    with db.unit_of_work() as session:
        reviews.remove_stakeholder(session, actor, stakeholder_id, now=clock.now())
    return RedirectResponse(BASE + "/stakeholders", status_code=303)


@router.post(BASE + "/drills", dependencies=[CSRF])
def drill_start(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    name: Annotated[str, Form(max_length=200)],
) -> Response:
    with db.unit_of_work() as session:
        drills.start_drill(session, actor, name=name, now=clock.now())
    return RedirectResponse(BASE + "#drills", status_code=303)


@router.post(BASE + "/drills/{drill_id}/stop", dependencies=[CSRF])
def drill_stop(drill_id: str, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        drills.stop_drill(session, actor, drill_id, now=clock.now())
    return RedirectResponse(BASE + "#drills", status_code=303)
