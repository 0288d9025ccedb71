"""JSON API of the crisis room under /api/v1/crisis: alerts, incidents (open, roles,
checklist, status updates, close), and crisis mode. Scoped to the token's organization."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from groundswell.crisis import service
from groundswell.crisis.tables import CrisisAlert, Incident
from groundswell.governance.service import coordination_settings, set_crisis_mode
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession
from groundswell.identity.domain import Permission
from groundswell.kernel.clock import as_utc

router = APIRouter(prefix="/api/v1/crisis", tags=["crisis"])


class AlertOut(BaseModel):
    id: str
    at: datetime
    topic: str | None
    metric: str
    observed: float
    expected: float
    score: float
    window_minutes: int
    is_drill: bool
    why: dict[str, Any]

    @classmethod
    def of(cls, a: CrisisAlert) -> AlertOut:
        return cls(
            id=a.id,
            at=a.at,
            topic=a.topic or None,
            metric=a.metric,
            observed=a.observed,
            expected=a.expected,
            score=a.score,
            window_minutes=a.window_minutes,
            is_drill=a.is_drill,
            why=a.why,
        )


class IncidentOut(BaseModel):
    id: str
    title: str
    kind: str
    severity: str
    status: str
    summary: str
    is_drill: bool
    alert_id: str | None
    opened_at: datetime
    closed_at: datetime | None
    last_update_at: datetime

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            id=i.id,
            title=i.title,
            kind=i.kind,
            severity=i.severity,
            status=i.status,
            summary=i.summary,
            is_drill=i.is_drill,
            alert_id=i.alert_id,
            opened_at=i.opened_at,
            closed_at=i.closed_at,
            last_update_at=i.last_update_at,
        )


class StepOut(BaseModel):
    id: str
    title: str
    owner_role: str
    due_at: datetime | None
    done_at: datetime | None
    done_by: str | None


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    text: str
    actor_id: str | None


class IncidentDetail(IncidentOut):
    roles: dict[str, str] = Field(description="Role → user id.")
    steps: list[StepOut]
    timeline: list[TimelineOut]
    update_due: datetime | None


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    next_cursor: str | None


class IncidentOpen(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    kind: str = Field(description="Incident type: a playbook (reputation, safety, legal, outage).")
    severity: Literal["sev1", "sev2", "sev3", "sev4"]
    summary: str = Field(default="", max_length=5000)
    alert_id: str | None = None
    is_drill: bool = False


class RoleAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal["incident_commander", "communications_lead", "legal", "scribe"]
    user_id: str


class StepTick(BaseModel):
    model_config = ConfigDict(extra="forbid")

    done: bool = True


class StatusUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    status: Literal["open", "monitoring"] | None = None
    severity: Literal["sev1", "sev2", "sev3", "sev4"] | None = None


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    summary: str = Field(min_length=1, max_length=5000)


class CrisisModeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: bool
    reason: str = Field(default="", max_length=2000)


class CrisisModeOut(BaseModel):
    on: bool
    reason: str
    changed_at: datetime | None
    changed_by: str | None


def _detail(session: Session, incident: Incident) -> IncidentDetail:
    view = service.describe(session, incident)
    return IncidentDetail(
        **IncidentOut.of(incident).model_dump(),
        roles={role: user.id for role, user in view.roles.items()},
        steps=[
            StepOut(
                id=s.id,
                title=s.title,
                owner_role=s.owner_role,
                due_at=s.due_at,
                done_at=s.done_at,
                done_by=s.done_by,
            )
            for s in view.steps
        ],
        timeline=[
            TimelineOut(at=e.at, kind=e.kind, text=e.text, actor_id=e.actor_id)
            for e in view.timeline
        ],
        update_due=view.update_due,
    )


@router.get("/alerts", summary="Recent alerts of the live detector, newest first")
def list_alerts(
    actor: ApiActor,
    session: ReadSession,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[AlertOut]:
    actor.require(Permission.ORG_READ)
    since = as_utc(since) if since is not None else None  # a naive instant is read as UTC
    return [AlertOut.of(a) for a in service.list_alerts(session, actor, since=since, limit=limit)]


@router.get("/incidents", summary="Incidents, newest first")
def list_incidents(
    actor: ApiActor,
    session: ReadSession,
    status: Annotated[str | None, Query(description="active, open, monitoring or closed")] = None,
    drills: Annotated[bool | None, Query(description="true: drills only; false: real only")] = None,
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> IncidentPage:
    actor.require(Permission.ORG_READ)
    rows, next_cursor = service.list_incidents(
        session, actor, status=status, drills=drills, cursor=cursor, limit=limit
    )
    return IncidentPage(items=[IncidentOut.of(i) for i in rows], next_cursor=next_cursor)


@router.post("/incidents", status_code=201, summary="Open an incident (by hand or from an alert)")
def open_incident(
    body: IncidentOpen, actor: ApiActor, db: DbDep, clock: ClockDep
) -> IncidentDetail:
    with db.unit_of_work() as session:
        incident = service.open_incident(
            session,
            actor,
            title=body.title,
            kind=body.kind,
            severity=body.severity,
            summary=body.summary,
            alert_id=body.alert_id,
            is_drill=body.is_drill,
            now=clock.now(),
        )
        return _detail(session, incident)


@router.get("/incidents/{incident_id}", summary="One incident with roles, checklist, timeline")
def get_incident(incident_id: str, actor: ApiActor, session: ReadSession) -> IncidentDetail:
    actor.require(Permission.ORG_READ)
    return _detail(session, service.access_incident(session, actor, incident_id))


@router.post("/incidents/{incident_id}/roles", summary="Assign a role")
def assign_role(
    incident_id: str, body: RoleAssign, actor: ApiActor, db: DbDep, clock: ClockDep
) -> IncidentDetail:
    with db.unit_of_work() as session:
        service.assign_role(
            session, actor, incident_id, role=body.role, user_id=body.user_id, now=clock.now()
        )
        return _detail(session, service.access_incident(session, actor, incident_id))


@router.post("/incidents/{incident_id}/steps/{step_id}", summary="Tick (or untick) a step")
def tick_step(
    incident_id: str, step_id: str, body: StepTick, actor: ApiActor, db: DbDep, clock: ClockDep
) -> IncidentDetail:
    with db.unit_of_work() as session:
        service.tick_step(session, actor, incident_id, step_id, done=body.done, now=clock.now())
        return _detail(session, service.access_incident(session, actor, incident_id))


@router.post("/incidents/{incident_id}/updates", summary="Post a status update")
def post_update(
    incident_id: str, body: StatusUpdate, actor: ApiActor, db: DbDep, clock: ClockDep
) -> IncidentDetail:
    with db.unit_of_work() as session:
        incident = service.post_update(
            session,
            actor,
            incident_id,
            text=body.text,
            status=body.status,
            severity=body.severity,
            now=clock.now(),
        )
        return _detail(session, incident)


@router.post("/incidents/{incident_id}/close", summary="Close; opens the blameless review")
def close_incident(
    incident_id: str, body: CloseIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> IncidentDetail:
    with db.unit_of_work() as session:
        service.close_incident(session, actor, incident_id, summary=body.summary, now=clock.now())
        return _detail(session, service.access_incident(session, actor, incident_id))


@router.get("/mode", summary="Is crisis mode on?")
def get_mode(actor: ApiActor, session: ReadSession) -> CrisisModeOut:
    actor.require(Permission.ORG_READ)
    gov = coordination_settings(session, actor.organization_id)
    return CrisisModeOut(
        on=gov.crisis_mode,
        reason=gov.crisis_reason,
        changed_at=gov.crisis_changed_at,
        changed_by=gov.crisis_changed_by,
    )


@router.put("/mode", summary="Switch crisis mode (managers, admins, owners)")
def put_mode(body: CrisisModeIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> CrisisModeOut:
    actor.require(Permission.CONTENT_WRITE)
    with db.unit_of_work() as session:
        set_crisis_mode(session, actor, body.on, reason=body.reason, now=clock.now())
        gov = coordination_settings(session, actor.organization_id)
    return CrisisModeOut(
        on=gov.crisis_mode,
        reason=gov.crisis_reason,
        changed_at=gov.crisis_changed_at,
        changed_by=gov.crisis_changed_by,
    )
