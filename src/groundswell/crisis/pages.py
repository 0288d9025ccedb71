"""Pages of the crisis room: the crisis room itself (live chart with the expected band and
alert markers, crisis mode, active incidents, alerts, holding statements, drills), the
incident list, one incident (roles, checklist, timeline, status updates, statements), its
review, a shared review (read-only link), and stakeholders."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from groundswell.crisis import (
    alerts,
    drills,
    followup,
    playbooks,
    review_pages,
    service,
    statements,
)
from groundswell.crisis.jobs import detector_config
from groundswell.crisis.tables import CrisisAlert
from groundswell.governance.service import coordination_settings, crisis_mode, set_crisis_mode
from groundswell.identity.deps import (
    ClockDep,
    DbDep,
    PageActor,
    SettingsDep,
    csrf_protect,
)
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.web import render
from groundswell.web.templating import Banner

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/crisis"
CHART_SPAN = timedelta(hours=24)


def crisis_banner(request: Request) -> Banner | None:
    """The banner every signed-in page shows while crisis mode is on."""
    actor: Actor | None = getattr(request.state, "actor", None)
    if actor is None:
        return None
    db: Database = request.app.state.db
    with db.reader() as session:
        if not crisis_mode(session, actor.organization_id):
            return None
        reason = coordination_settings(session, actor.organization_id).crisis_reason
    return Banner(
        text=f"Crisis mode is on: every public reply and post needs approval. {reason}".strip(),
        link=BASE,
        link_text="Crisis room",
    )


def _chart(db: Database, actor: Actor, settings: Settings, now: datetime) -> dict[str, Any]:
    config = detector_config(settings)
    with db.reader() as session:
        curve = alerts.volume_curve(
            session,
            actor.organization_id,
            now=now,
            config=config,
            history=timedelta(hours=settings.crisis_history_hours),
            span=CHART_SPAN,
        )
        marks = session.scalars(
            select(CrisisAlert.at).where(
                CrisisAlert.organization_id == actor.organization_id,
                CrisisAlert.is_drill.is_(False),
                CrisisAlert.topic == "",
                CrisisAlert.at >= now - CHART_SPAN,
            )
        ).all()
    return {
        "x": [int(t.timestamp()) for t in curve.ends],
        "series": [{"label": "Posts", "values": curve.observed}],
        "band": {"label": "Expected range", "lower": curve.lower, "upper": curve.upper},
        "markers": sorted({int(t.timestamp()) for t in marks}),
        "height": 240,
        "y_label": f"posts per {config.bucket_seconds // 60} min",
    }


def _live(db: Database, actor: Actor, settings: Settings, now: datetime) -> dict[str, Any]:
    with db.reader() as session:
        recent = service.list_alerts(session, actor, since=now - timedelta(days=7), limit=30)
        opened = {a.id: service.incident_for_alert(session, a.id) for a in recent}
    return {
        "chart": json.dumps(_chart(db, actor, settings, now), separators=(",", ":")),
        "alerts": recent,
        "opened": opened,
        "now": now,
    }


@router.get(BASE)
def crisis_room(
    request: Request, actor: PageActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    now = clock.now()
    with db.reader() as session:
        active, _ = service.list_incidents(session, actor, status="active", limit=20)
        gov = coordination_settings(session, actor.organization_id)
        library = statements.list_statements(session, actor)
        drill_rows = drills.list_drills(session, actor, limit=5)
        metrics = followup.metrics(session, actor.organization_id, now=now)
        # The incident the room works on: the most severe active one, newest first.
        focus = min(active, key=lambda i: (i.severity, -i.opened_at.timestamp()), default=None)
        view = (
            service.describe(session, focus, cadence_overrides=settings.crisis_update_minutes)
            if focus is not None
            else None
        )
        focus_statements = (
            [
                s
                for s in statements.list_statements(session, actor, incident_id=focus.id)
                if s.incident_id == focus.id
            ]
            if focus is not None
            else []
        )
    return render(
        request,
        "crisis/room.html",
        {
            **_live(db, actor, settings, now),
            "i": focus,
            "view": view,
            "focus_statements": focus_statements,
            "roles": playbooks.ROLE_LABELS,
            "active": active,
            "gov": gov,
            "library": [s for s in library if s.incident_id is None],
            "drills": drill_rows,
            "metrics": metrics,
            "kinds": playbooks.playbooks(),
            "severities": playbooks.SEVERITY_LABELS,
            "can_write": actor.can(Permission.CONTENT_WRITE),
            "can_switch": actor.role in ("owner", "admin", "manager"),
            "selected_alert": request.query_params.get("alert"),
        },
    )


@router.get(BASE + "/live")
def crisis_live(
    request: Request, actor: PageActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> Response:
    """The chart and the alerts, polled by htmx."""
    return render(
        request,
        "crisis/_live.html",
        {
            **_live(db, actor, settings, clock.now()),
            "kinds": playbooks.playbooks(),
            "severities": playbooks.SEVERITY_LABELS,
            "can_write": actor.can(Permission.CONTENT_WRITE),
            "selected_alert": None,
        },
    )


@router.post(BASE + "/mode", dependencies=[CSRF])
def crisis_mode_switch(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    on: Annotated[str, Form()],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with db.unit_of_work() as session:
        set_crisis_mode(session, actor, on == "1", reason=reason, now=clock.now())
    return RedirectResponse(BASE, status_code=303)


# -- incidents -------------------------------------------------------------------------------


@router.get(BASE + "/incidents")
def incident_list(request: Request, actor: PageActor, db: DbDep) -> Response:
    status = request.query_params.get("status") or None
    kind = request.query_params.get("kind") or "all"
    cursor = request.query_params.get("cursor") or None
    drills_only = {"all": None, "real": False, "drills": True}.get(kind)
    with db.reader() as session:
        rows, next_cursor = service.list_incidents(
            session, actor, status=status, drills=drills_only, cursor=cursor, limit=25
        )
    return render(
        request,
        "crisis/incidents.html",
        {
            "incidents": rows,
            "next_cursor": next_cursor,
            "status": status or "",
            "kind": kind,
            "severities": playbooks.SEVERITY_LABELS,
            "kinds": playbooks.playbooks(),
            "can_write": actor.can(Permission.CONTENT_WRITE),
        },
    )


@router.post(BASE + "/incidents", dependencies=[CSRF])
def incident_open(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    title: Annotated[str, Form(max_length=300)],
    kind: Annotated[str, Form(max_length=40)],
    severity: Annotated[str, Form(max_length=8)],
    summary: Annotated[str, Form(max_length=5000)] = "",
    alert_id: Annotated[str, Form(max_length=36)] = "",
    is_drill: Annotated[str, Form()] = "",
) -> Response:
    with db.unit_of_work() as session:
        incident = service.open_incident(
            session,
            actor,
            title=title,
            kind=kind,
            severity=severity,
            summary=summary,
            alert_id=alert_id or None,
            is_drill=is_drill == "1",
            now=clock.now(),
        )
    return RedirectResponse(f"{BASE}/incidents/{incident.id}", status_code=303)


def _incident_context(
    db: Database, actor: Actor, settings: Settings, incident_id: str
) -> dict[str, Any]:
    with db.reader() as session:
        incident = service.access_incident(session, actor, incident_id)
        view = service.describe(session, incident, cadence_overrides=settings.crisis_update_minutes)
        alert = session.get(CrisisAlert, incident.alert_id) if incident.alert_id else None
        stmts = statements.list_statements(session, actor, incident_id=incident.id)
        members = review_pages.members(session, actor)
    return {
        "view": view,
        "i": incident,
        "alert": alert,
        "statements": [s for s in stmts if s.incident_id == incident.id],
        "library": [s for s in stmts if s.incident_id is None],
        "members": members,
        "roles": playbooks.ROLE_LABELS,
        "severities": playbooks.SEVERITY_LABELS,
        "can_write": actor.can(Permission.CONTENT_WRITE),
    }


@router.get(BASE + "/incidents/{incident_id}")
def incident_page(
    request: Request,
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    ctx = _incident_context(db, actor, settings, incident_id)
    ctx["now"] = clock.now()
    return render(request, "crisis/incident.html", ctx)


def _back(incident_id: str, anchor: str = "") -> Response:
    return RedirectResponse(f"{BASE}/incidents/{incident_id}{anchor}", status_code=303)


@router.post(BASE + "/incidents/{incident_id}/roles", dependencies=[CSRF])
def incident_role(
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    role: Annotated[str, Form(max_length=40)],
    user_id: Annotated[str, Form(max_length=36)],
) -> Response:
    with db.unit_of_work() as session:
        service.assign_role(
            session, actor, incident_id, role=role, user_id=user_id, now=clock.now()
        )
    return _back(incident_id, "#roles")


@router.post(BASE + "/incidents/{incident_id}/steps/{step_id}", dependencies=[CSRF])
def incident_step(
    request: Request,
    incident_id: str,
    step_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    done: Annotated[str, Form()] = "",
) -> Response:
    """Tick or untick a step. htmx gets the checklist back; a plain form post a redirect."""
    with db.unit_of_work() as session:
        service.tick_step(session, actor, incident_id, step_id, done=done == "1", now=clock.now())
    if request.headers.get("HX-Request"):
        ctx = _incident_context(db, actor, settings, incident_id)
        ctx["now"] = clock.now()
        return render(request, "crisis/_checklist.html", ctx)
    return _back(incident_id, "#checklist")


@router.post(BASE + "/incidents/{incident_id}/updates", dependencies=[CSRF])
def incident_update(
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    text: Annotated[str, Form(max_length=5000)],
    status: Annotated[str, Form(max_length=20)] = "",
    severity: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    with db.unit_of_work() as session:
        service.post_update(
            session,
            actor,
            incident_id,
            text=text,
            status=status or None,
            severity=severity or None,
            now=clock.now(),
        )
    return _back(incident_id, "#timeline")


@router.post(BASE + "/incidents/{incident_id}/notes", dependencies=[CSRF])
def incident_note(
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    text: Annotated[str, Form(max_length=5000)],
) -> Response:
    with db.unit_of_work() as session:
        service.add_note(session, actor, incident_id, text=text, now=clock.now())
    return _back(incident_id, "#timeline")


@router.post(BASE + "/incidents/{incident_id}/close", dependencies=[CSRF])
def incident_close(
    incident_id: str,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    summary: Annotated[str, Form(max_length=5000)],
) -> Response:
    with db.unit_of_work() as session:
        service.close_incident(session, actor, incident_id, summary=summary, now=clock.now())
    return RedirectResponse(f"{BASE}/incidents/{incident_id}/review", status_code=303)


# -- statements ------------------------------------------------------------------------------


@router.post(BASE + "/statements", dependencies=[CSRF])
def statement_create(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    title: Annotated[str, Form(max_length=300)],
    body: Annotated[str, Form(max_length=5000)],
    incident_id: Annotated[str, Form(max_length=36)] = "",
    from_statement: Annotated[str, Form(max_length=36)] = "",
) -> Response:
    with db.unit_of_work() as session:
        if from_statement and incident_id:
            statements.use_statement(session, actor, from_statement, incident_id, now=clock.now())
        else:
            statements.create_statement(
                session,
                actor,
                title=title,
                body=body,
                incident_id=incident_id or None,
                now=clock.now(),
            )
    if incident_id:
        return _back(incident_id, "#statements")
    return RedirectResponse(BASE + "#statements", status_code=303)


@router.post(BASE + "/statements/{statement_id}/approval", dependencies=[CSRF])
def statement_approval(statement_id: str, actor: PageActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        row = statements.request_statement_approval(session, actor, statement_id, now=clock.now())
        incident_id = row.incident_id
    if incident_id:
        return _back(incident_id, "#statements")
    return RedirectResponse(BASE + "#statements", status_code=303)


router.include_router(review_pages.router)
