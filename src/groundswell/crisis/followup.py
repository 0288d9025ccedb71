"""Follow-up of incidents: reminders when a status update is overdue, who hears about new
alerts, and the room's figures (real incidents only: drills never count)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.crisis import playbooks
from groundswell.crisis.service import add_timeline
from groundswell.crisis.tables import Incident, IncidentRole
from groundswell.identity.domain import Role
from groundswell.identity.notifications import notify
from groundswell.identity.tables import User


def remind_overdue(
    session: Session, *, now: datetime, cadence_overrides: dict[str, int] | None = None
) -> int:
    """Notify the commander of every active incident whose status update is overdue, once per
    deadline (compare-and-set on `reminded_for`). Returns how many reminders were sent."""
    sent = 0
    active = session.scalars(select(Incident).where(Incident.status != "closed")).all()
    for incident in active:
        deadline = incident.last_update_at + playbooks.cadence(incident.severity, cadence_overrides)
        if now < deadline or incident.reminded_for == deadline:
            continue
        commander = session.get(IncidentRole, (incident.id, "incident_commander"))
        incident.reminded_for = deadline
        session.flush()
        if commander is None:
            continue
        late = int((now - deadline).total_seconds() // 60)
        notify(
            session,
            organization_id=incident.organization_id,
            user_ids=[commander.user_id],
            kind="crisis.update_due",
            title=f"Status update overdue: {incident.title}",
            body=f"The last update was at {incident.last_update_at:%H:%M} UTC; "
            f"one was due {late} minutes ago.",
            link=f"/crisis/incidents/{incident.id}",
            now=now,
        )
        add_timeline(
            session,
            incident,
            "reminder",
            "Status update overdue: the commander was reminded.",
            at=now,
        )
        sent += 1
    return sent


def alert_watchers(session: Session, organization_id: str) -> list[str]:
    """Who hears about new alerts in-app: owners, admins and managers."""
    roles = [Role.OWNER.value, Role.ADMIN.value, Role.MANAGER.value]
    return list(
        session.scalars(
            select(User.id).where(
                User.organization_id == organization_id,
                User.is_active.is_(True),
                User.role.in_(roles),
            )
        )
    )


@dataclass(frozen=True)
class Metrics:
    """Real incidents only: drills never count."""

    active: int
    opened_30d: int
    median_minutes_to_close: float | None


def metrics(session: Session, organization_id: str, *, now: datetime) -> Metrics:
    from_ = now - timedelta(days=30)
    real = (Incident.organization_id == organization_id, Incident.is_drill.is_(False))
    active = session.scalar(
        select(func.count()).select_from(Incident).where(*real, Incident.status != "closed")
    )
    opened = session.scalar(
        select(func.count()).select_from(Incident).where(*real, Incident.opened_at >= from_)
    )
    closed = session.execute(
        select(Incident.opened_at, Incident.closed_at).where(
            *real, Incident.closed_at.is_not(None), Incident.closed_at >= from_
        )
    ).all()
    durations = sorted((c - o).total_seconds() / 60 for o, c in closed if c is not None)
    median = None
    if durations:
        mid = len(durations) // 2
        median = durations[mid] if len(durations) % 2 else (durations[mid - 1] + durations[mid]) / 2
    return Metrics(int(active or 0), int(opened or 0), median)
