"""Holding statements: prepared public wording, drafted ahead of time (the library) or during
an incident. A statement goes public only once approved: `request_statement_approval` asks
governance (subject type ``crisis.statement``) under the organization's model, crisis mode
included; `ApprovalGranted` / `ApprovalRejected` (handled in `crisis.handlers`) decide it.
When the model needs nobody's approval for this person, the statement is approved at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from groundswell.crisis.service import access_incident, add_timeline, audit_change, check_text
from groundswell.crisis.tables import HoldingStatement, Incident
from groundswell.governance.approvals import request_approval
from groundswell.governance.domain import Action
from groundswell.governance.service import authorize
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, Forbidden, NotFound

SUBJECT_TYPE = "crisis.statement"
STATUSES = ("draft", "pending", "approved", "rejected")


def access_statement(session: Session, actor: Actor, statement_id: str) -> HoldingStatement:
    row = session.get(HoldingStatement, statement_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound("No such holding statement.")
    return row


def list_statements(
    session: Session, actor: Actor, *, incident_id: str | None = None
) -> list[HoldingStatement]:
    """The library (no incident) and, given `incident_id`, that incident's statements too."""
    stmt = select(HoldingStatement).where(HoldingStatement.organization_id == actor.organization_id)
    if incident_id is not None:
        stmt = stmt.where(
            or_(HoldingStatement.incident_id.is_(None), HoldingStatement.incident_id == incident_id)
        )
    return list(session.scalars(stmt.order_by(HoldingStatement.created_at.desc())))


def create_statement(
    session: Session,
    actor: Actor,
    *,
    title: str,
    body: str,
    incident_id: str | None = None,
    now: datetime,
) -> HoldingStatement:
    actor.require(Permission.CONTENT_WRITE)
    incident = access_incident(session, actor, incident_id) if incident_id else None
    row = HoldingStatement(
        organization_id=actor.organization_id,
        incident_id=incident.id if incident else None,
        title=check_text(title, "Title", 200),
        body=check_text(body, "The statement"),
        status="draft",
        created_by=actor.user_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    if incident is not None:
        add_timeline(
            session,
            incident,
            "statement",
            f"Statement drafted: {row.title}",
            at=now,
            actor_id=actor.user_id,
        )
    audit_change(
        session,
        actor,
        "crisis.statement.create",
        "crisis_statement",
        row.id,
        now,
        after={"title": row.title, "incident_id": row.incident_id},
    )
    return row


def edit_statement(
    session: Session, actor: Actor, statement_id: str, *, title: str, body: str, now: datetime
) -> HoldingStatement:
    """Change a draft (or a rejected statement, which becomes a draft again)."""
    actor.require(Permission.CONTENT_WRITE)
    row = access_statement(session, actor, statement_id)
    if row.status in ("pending", "approved"):
        raise Conflict(f"A {row.status} statement cannot change; draft a new one.")
    before = {"title": row.title, "body": row.body, "status": row.status}
    row.title = check_text(title, "Title", 200)
    row.body = check_text(body, "The statement")
    row.status = "draft"
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.statement.edit",
        "crisis_statement",
        row.id,
        now,
        before=before,
        after={"title": row.title, "body": row.body, "status": row.status},
    )
    return row


def request_statement_approval(
    session: Session, actor: Actor, statement_id: str, *, now: datetime
) -> HoldingStatement:
    """Ask for the approvals publishing this statement needs now (crisis mode: at least one,
    under any model). Approved at once when nobody's approval is needed."""
    actor.require(Permission.CONTENT_WRITE)
    row = access_statement(session, actor, statement_id)
    if row.status not in ("draft", "rejected"):
        raise Conflict(f"This statement is already {row.status}.")
    authorization = authorize(session, actor, Action.PUBLISH, text=row.body)
    if not authorization.decision.allowed:
        raise Forbidden(authorization.decision.reason)
    if authorization.blocked:
        found = "; ".join(f.message for f in authorization.findings)
        raise Forbidden(f"The policy blocks this wording: {found}")
    if authorization.decision.approvals_needed == 0:
        _decide(session, row, approved=True, at=now, note="approved (no approval needed)")
    else:
        request = request_approval(
            session,
            actor,
            action=Action.PUBLISH,
            subject_type=SUBJECT_TYPE,
            subject_id=row.id,
            summary=f"Holding statement: {row.title}",
            authorization=authorization,
            now=now,
        )
        row.status = "pending"
        row.approval_request_id = request.id
        session.flush()
    audit_change(
        session,
        actor,
        "crisis.statement.request_approval",
        "crisis_statement",
        row.id,
        now,
        after={"status": row.status, "approval_request_id": row.approval_request_id},
    )
    return row


def _decide(
    session: Session, row: HoldingStatement, *, approved: bool, at: datetime, note: str
) -> None:
    row.status = "approved" if approved else "rejected"
    row.decided_at = at
    session.flush()
    if row.incident_id is not None:
        incident = session.get(Incident, row.incident_id)
        if incident is not None:
            add_timeline(session, incident, "statement", f"Statement {note}: {row.title}", at=at)


def settle(
    session: Session,
    organization_id: str,
    statement_id: str,
    request_id: str,
    *,
    approved: bool,
    at: datetime,
    comment: str = "",
) -> bool:
    """Apply governance's decision on a statement's approval request (from its events).
    Ignores requests that are not the statement's current one. Returns True when applied."""
    row = session.get(HoldingStatement, statement_id)
    if (
        row is None
        or row.organization_id != organization_id
        or row.approval_request_id != request_id
        or row.status != "pending"
    ):
        return False
    note = "approved" if approved else "rejected" + (f" ({comment})" if comment else "")
    _decide(session, row, approved=approved, at=at, note=note)
    audit.record(
        session,
        audit.AuditActor(
            id=None, label="system (governance approval)", organization_id=organization_id
        ),
        "crisis.statement.approved" if approved else "crisis.statement.rejected",
        "crisis_statement",
        row.id,
        after={"status": row.status, "approval_request_id": request_id, "comment": comment},
        clock=FrozenClock(at),
    )
    return True


def use_statement(
    session: Session, actor: Actor, statement_id: str, incident_id: str, *, now: datetime
) -> HoldingStatement:
    """Bring a library statement into an incident (a copy, so the library keeps its own)."""
    actor.require(Permission.CONTENT_WRITE)
    source = access_statement(session, actor, statement_id)
    return create_statement(
        session, actor, title=source.title, body=source.body, incident_id=incident_id, now=now
    )
