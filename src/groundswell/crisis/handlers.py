"""Event handlers of the crisis room: stakeholders hear about incidents (`IncidentNews`),
crisis-mode changes reach the timeline of every active incident (`CrisisModeChanged`), and
holding statements follow their approval (`ApprovalGranted` / `ApprovalRejected` on
``crisis.statement``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.crisis import notify, service, statements
from groundswell.crisis.events import IncidentNews
from groundswell.crisis.tables import Incident
from groundswell.governance.events import (
    ApprovalExpired,
    ApprovalGranted,
    ApprovalRejected,
    CrisisModeChanged,
)
from groundswell.governance.service import coordination_settings
from groundswell.governance.tables import ApprovalRequestRow
from groundswell.kernel.events import bus
from groundswell.kernel.settings import get_settings


def _now() -> datetime:
    return datetime.now(UTC)


@bus.subscribe(IncidentNews, name="crisis.notify_stakeholders")
def notify_stakeholders(session: Session, event: IncidentNews) -> None:
    notify.deliver(session, get_settings(), event, now=_now())


@bus.subscribe(CrisisModeChanged, name="crisis.timeline_crisis_mode")
def timeline_crisis_mode(session: Session, event: CrisisModeChanged) -> None:
    text = (
        f"Crisis mode ON: every public reply and post needs approval. Reason: {event.reason}"
        if event.on
        else "Crisis mode OFF: the coordination model decides again."
    )
    active = session.scalars(
        select(Incident).where(
            Incident.organization_id == event.organization_id, Incident.status != "closed"
        )
    ).all()
    # The instant governance recorded the switch, so the timeline agrees with its audit row.
    at = coordination_settings(session, event.organization_id).crisis_changed_at or _now()
    for incident in active:
        service.add_timeline(session, incident, "mode", text, at=at)


def _decided_at(session: Session, request_id: str) -> datetime:
    row = session.get(ApprovalRequestRow, request_id)
    return (row.decided_at if row is not None else None) or _now()


@bus.subscribe(ApprovalGranted, name="crisis.statement_approved")
def statement_approved(session: Session, event: ApprovalGranted) -> None:
    if event.subject_type != statements.SUBJECT_TYPE:
        return
    statements.settle(
        session,
        event.organization_id,
        event.subject_id,
        event.request_id,
        approved=True,
        at=_decided_at(session, event.request_id),
    )


@bus.subscribe(ApprovalRejected, name="crisis.statement_rejected")
def statement_rejected(session: Session, event: ApprovalRejected) -> None:
    if event.subject_type != statements.SUBJECT_TYPE:
        return
    statements.settle(
        session,
        event.organization_id,
        event.subject_id,
        event.request_id,
        approved=False,
        at=_decided_at(session, event.request_id),
        comment=event.comment,
    )


@bus.subscribe(ApprovalExpired, name="crisis.statement_expired")
def statement_expired(session: Session, event: ApprovalExpired) -> None:
    if event.subject_type != statements.SUBJECT_TYPE:
        return
    statements.settle(
        session,
        event.organization_id,
        event.subject_id,
        event.request_id,
        approved=False,
        at=_decided_at(session, event.request_id),
        comment="nobody decided in time",
    )
