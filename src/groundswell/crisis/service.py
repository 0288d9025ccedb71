"""Incidents: open (from an alert or by hand) with the playbook's checklist, roles, status
updates on a cadence, a timeline, closing into a blameless review. Every change is audited;
stakeholders hear about openings, updates and closings through `IncidentNews`.

Services flush, never commit; the edges (api, pages, cli, jobs) own the unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from groundswell.crisis import playbooks
from groundswell.crisis.events import IncidentNews
from groundswell.crisis.tables import (
    CrisisAlert,
    Incident,
    IncidentRole,
    IncidentStep,
    Review,
    TimelineEntry,
)
from groundswell.identity.domain import Permission
from groundswell.identity.notifications import notify
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound
from groundswell.kernel.events import emit
from groundswell.kernel.pagination import paginate

STATUSES = ("open", "monitoring", "closed")
TITLE_MAX = 200
TEXT_MAX = 5000


def audit_change(
    session: Session,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session,
        actor.audit,
        action,
        object_type,
        object_id,
        before=before,
        after=after,
        clock=FrozenClock(now),
    )


def add_timeline(
    session: Session,
    incident: Incident,
    kind: str,
    text: str,
    *,
    at: datetime,
    actor_id: str | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident.id, at=at, kind=kind, text=text[:TEXT_MAX], actor_id=actor_id
    )
    session.add(entry)
    session.flush()
    return entry


def _news(session: Session, incident: Incident, what: str, text: str, now: datetime) -> None:
    emit(
        session,
        IncidentNews(
            organization_id=incident.organization_id,
            incident_id=incident.id,
            what=what,
            title=incident.title,
            severity=incident.severity,
            status=incident.status,
            is_drill=incident.is_drill,
            text=text,
        ),
        clock=FrozenClock(now),
    )


def check_text(value: str, name: str, maximum: int = TEXT_MAX, *, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{name} is required.")
    if len(value) > maximum:
        raise InvalidInput(f"{name} is too long (at most {maximum} characters).")
    return value


# -- reading ---------------------------------------------------------------------------------


def access_incident(session: Session, actor: Actor, incident_id: str) -> Incident:
    """The incident if it belongs to the actor's organization; NotFound otherwise."""
    incident = session.get(Incident, incident_id)
    if incident is None or incident.organization_id != actor.organization_id:
        raise NotFound("No such incident.")
    return incident


def access_alert(session: Session, actor: Actor, alert_id: str) -> CrisisAlert:
    alert = session.get(CrisisAlert, alert_id)
    if alert is None or alert.organization_id != actor.organization_id:
        raise NotFound("No such alert.")
    return alert


def list_incidents(
    session: Session,
    actor: Actor,
    *,
    status: str | None = None,
    drills: bool | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[Sequence[Incident], str | None]:
    """Incidents newest first; `status` "active" means open or monitoring; `drills` None
    lists both, True only drills, False only real incidents."""
    stmt: Select[Incident] = select(Incident).where(
        Incident.organization_id == actor.organization_id
    )
    if status == "active":
        stmt = stmt.where(Incident.status != "closed")
    elif status:
        if status not in STATUSES:
            raise InvalidInput(f"status must be active or one of {', '.join(STATUSES)}.")
        stmt = stmt.where(Incident.status == status)
    if drills is not None:
        stmt = stmt.where(Incident.is_drill.is_(drills))
    return paginate(
        session, stmt, key=Incident.opened_at, id_=Incident.id, limit=limit, cursor=cursor
    )


def list_alerts(
    session: Session, actor: Actor, *, since: datetime | None = None, limit: int = 50
) -> list[CrisisAlert]:
    stmt = select(CrisisAlert).where(CrisisAlert.organization_id == actor.organization_id)
    if since is not None:
        stmt = stmt.where(CrisisAlert.at >= since)
    return list(session.scalars(stmt.order_by(CrisisAlert.at.desc()).limit(limit)))


def incident_for_alert(session: Session, alert_id: str) -> Incident | None:
    return session.scalars(
        select(Incident).where(Incident.alert_id == alert_id).order_by(Incident.opened_at)
    ).first()


@dataclass
class IncidentView:
    incident: Incident
    roles: dict[str, User]
    steps: list[IncidentStep]
    timeline: list[TimelineEntry]
    people: dict[str, User]
    update_due: datetime | None

    @property
    def steps_done(self) -> int:
        return sum(1 for s in self.steps if s.done_at is not None)


def describe(
    session: Session, incident: Incident, *, cadence_overrides: dict[str, int] | None = None
) -> IncidentView:
    roles = session.scalars(
        select(IncidentRole).where(IncidentRole.incident_id == incident.id)
    ).all()
    steps = list(
        session.scalars(
            select(IncidentStep)
            .where(IncidentStep.incident_id == incident.id)
            .order_by(IncidentStep.position)
        )
    )
    timeline = list(
        session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident.id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
    )
    people = {
        u.id: u
        for u in session.scalars(
            select(User).where(User.organization_id == incident.organization_id)
        )
    }
    due = (
        None
        if incident.status == "closed"
        else incident.last_update_at + playbooks.cadence(incident.severity, cadence_overrides)
    )
    return IncidentView(
        incident=incident,
        roles={r.role: people[r.user_id] for r in roles if r.user_id in people},
        steps=steps,
        timeline=timeline,
        people=people,
        update_due=due,
    )


# -- changes ---------------------------------------------------------------------------------


def member_of(session: Session, actor: Actor, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None or user.organization_id != actor.organization_id or not user.is_active:
        raise InvalidInput("Pick an active member of your organization.")
    return user


def open_incident(
    session: Session,
    actor: Actor,
    *,
    title: str,
    kind: str,
    severity: str,
    summary: str = "",
    alert_id: str | None = None,
    is_drill: bool = False,
    now: datetime,
) -> Incident:
    """Open an incident with the playbook of `kind` at `severity`; the opener becomes its
    incident commander. From an alert, the incident inherits the alert's drill mark and the
    alert starts the timeline."""
    actor.require(Permission.CONTENT_WRITE)
    title = check_text(title, "Title", TITLE_MAX)
    summary = check_text(summary, "Summary", required=False)
    book = playbooks.playbooks().get(kind)
    if book is None:
        raise InvalidInput(
            f"Unknown incident type {kind!r}; pick one of {', '.join(playbooks.kinds())}."
        )
    if severity not in playbooks.SEVERITIES:
        raise InvalidInput(f"Severity must be one of {', '.join(playbooks.SEVERITIES)}.")
    alert = access_alert(session, actor, alert_id) if alert_id else None
    if alert is not None:
        is_drill = is_drill or alert.is_drill
    incident = Incident(
        organization_id=actor.organization_id,
        title=title,
        kind=kind,
        severity=severity,
        status="open",
        summary=summary,
        is_drill=is_drill,
        alert_id=alert.id if alert else None,
        playbook=kind,
        opened_by=actor.user_id,
        opened_at=now,
        last_update_at=now,
    )
    session.add(incident)
    session.flush()
    for position, step in enumerate(book.steps_for(severity)):
        session.add(
            IncidentStep(
                incident_id=incident.id,
                position=position,
                title=step.title,
                owner_role=step.owner,
                due_at=playbooks.due_at(step, now),
            )
        )
    session.add(
        IncidentRole(
            incident_id=incident.id,
            role="incident_commander",
            user_id=actor.user_id,
            assigned_at=now,
        )
    )
    if alert is not None:
        add_timeline(
            session,
            incident,
            "alert",
            f"Alert: {alert.why.get('summary', alert.metric)}",
            at=alert.at,
        )
    drill = " (drill)" if is_drill else ""
    add_timeline(
        session,
        incident,
        "opened",
        f"Opened{drill} by {actor.email}: {playbooks.SEVERITY_LABELS[severity]}, "
        f"playbook {book.title!r}; {actor.email} is incident commander.",
        at=now,
        actor_id=actor.user_id,
    )
    audit_change(
        session,
        actor,
        "crisis.incident.open",
        "crisis_incident",
        incident.id,
        now,
        after={
            "title": title,
            "kind": kind,
            "severity": severity,
            "alert_id": incident.alert_id,
            "is_drill": is_drill,
        },
    )
    _news(session, incident, "opened", summary or title, now)
    return incident


def _require_active(incident: Incident) -> None:
    if incident.status == "closed":
        raise Conflict("This incident is closed; its review is where the work continues.")


def assign_role(
    session: Session, actor: Actor, incident_id: str, *, role: str, user_id: str, now: datetime
) -> IncidentRole:
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id)
    _require_active(incident)
    if role not in playbooks.ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(playbooks.ROLES)}.")
    user = member_of(session, actor, user_id)
    row = session.get(IncidentRole, (incident.id, role))
    before = {"user_id": row.user_id} if row else None
    if row is None:
        row = IncidentRole(incident_id=incident.id, role=role, user_id=user.id, assigned_at=now)
        session.add(row)
    else:
        row.user_id = user.id
        row.assigned_at = now
    label = playbooks.ROLE_LABELS[role]
    add_timeline(
        session,
        incident,
        "role",
        f"{label}: {user.name} ({user.email})",
        at=now,
        actor_id=actor.user_id,
    )
    notify(
        session,
        organization_id=incident.organization_id,
        user_ids=[user.id],
        kind="crisis.role",
        title=f"You are {label.lower()} of incident {incident.title!r}",
        link=f"/crisis/incidents/{incident.id}",
        now=now,
    )
    audit_change(
        session,
        actor,
        "crisis.incident.assign_role",
        "crisis_incident",
        incident.id,
        now,
        before=before,
        after={"role": role, "user_id": user.id},
    )
    return row


def tick_step(
    session: Session, actor: Actor, incident_id: str, step_id: str, *, done: bool, now: datetime
) -> IncidentStep:
    """Mark a checklist step done (who and when) or not done again."""
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id)
    _require_active(incident)
    step = session.get(IncidentStep, step_id)
    if step is None or step.incident_id != incident.id:
        raise NotFound("No such step in this incident.")
    if (step.done_at is not None) == done:
        return step
    step.done_at = now if done else None
    step.done_by = actor.user_id if done else None
    verb = "Done" if done else "Reopened"
    add_timeline(session, incident, "step", f"{verb}: {step.title}", at=now, actor_id=actor.user_id)
    audit_change(
        session,
        actor,
        "crisis.incident.step",
        "crisis_incident",
        incident.id,
        now,
        after={"step_id": step.id, "done": done},
    )
    return step


def post_update(
    session: Session,
    actor: Actor,
    incident_id: str,
    *,
    text: str,
    status: str | None = None,
    severity: str | None = None,
    now: datetime,
) -> Incident:
    """A status update: resets the update clock, may change status (open/monitoring) and
    severity, and goes to the stakeholders."""
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id)
    _require_active(incident)
    text = check_text(text, "The update")
    before = {"status": incident.status, "severity": incident.severity}
    if status:
        if status not in ("open", "monitoring"):
            raise InvalidInput("Status must be open or monitoring (close the incident to end it).")
        incident.status = status
    if severity:
        if severity not in playbooks.SEVERITIES:
            raise InvalidInput(f"Severity must be one of {', '.join(playbooks.SEVERITIES)}.")
        incident.severity = severity
    incident.last_update_at = now
    incident.reminded_for = None
    changes = [
        f"{k} {before[k]} → {v}"
        for k, v in (("status", incident.status), ("severity", incident.severity))
        if before[k] != v
    ]
    suffix = f" ({'; '.join(changes)})" if changes else ""
    add_timeline(
        session,
        incident,
        "update",
        f"Status update{suffix}: {text}",
        at=now,
        actor_id=actor.user_id,
    )
    audit_change(
        session,
        actor,
        "crisis.incident.update",
        "crisis_incident",
        incident.id,
        now,
        before=before,
        after={"status": incident.status, "severity": incident.severity, "text": text},
    )
    _news(session, incident, "update", text, now)
    return incident


def add_note(
    session: Session, actor: Actor, incident_id: str, *, text: str, now: datetime
) -> TimelineEntry:
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id)
    text = check_text(text, "The note")
    entry = add_timeline(session, incident, "note", text, at=now, actor_id=actor.user_id)
    audit_change(
        session,
        actor,
        "crisis.incident.note",
        "crisis_incident",
        incident.id,
        now,
        after={"text": text},
    )
    return entry


def close_incident(
    session: Session, actor: Actor, incident_id: str, *, summary: str, now: datetime
) -> Review:
    """Close the incident and open its blameless review, prefilled with `summary`."""
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id)
    _require_active(incident)
    summary = check_text(summary, "What happened")
    before = {"status": incident.status}
    incident.status = "closed"
    incident.closed_at = now
    add_timeline(session, incident, "closed", f"Closed: {summary}", at=now, actor_id=actor.user_id)
    review = Review(
        organization_id=incident.organization_id,
        incident_id=incident.id,
        what_happened=summary,
        action_items=[],
        created_at=now,
        updated_at=now,
    )
    session.add(review)
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.incident.close",
        "crisis_incident",
        incident.id,
        now,
        before=before,
        after={"status": "closed", "summary": summary, "review_id": review.id},
    )
    _news(session, incident, "closed", summary, now)
    return review
