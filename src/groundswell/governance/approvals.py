"""Approvals: a person asks for an action that waits for others (`request_approval`), eligible
approvers approve or reject it with a comment, and it expires when nobody decides in time.

Contracts:
- The number of approvals comes from the `Decision` of `authorize` (kept on the request with
  its `Context`); who may approve comes from the pure `governance.domain.approve`, judged in
  that stored context with the approver's current roles, units and training. Nobody approves
  their own request, nor the same one twice.
- One open request per subject (`subject_type`, `subject_id`): asking again while one is
  pending is a conflict. Other rooms act on `ApprovalGranted` / `ApprovalRejected` /
  `ApprovalExpired` / `ApprovalWithdrawn` for their own `subject_type` only.
- Functions flush, never commit; every change is audited and announced; eligible approvers are
  notified in-app on request, the requester on every decision.
- A change of coordination model asked by an admin (`request_model_change`) takes effect when
  the request is granted, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.governance import domain, service
from groundswell.governance.approvals_views import (
    MODEL_SUBJECT,
    ApprovalStatus,
    Verdict,
    approve_votes,
    domain_request,
    eligible_approvers,
)
from groundswell.governance.domain import Action, CoordinationModel
from groundswell.governance.events import (
    ApprovalExpired,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
    ApprovalWithdrawn,
)
from groundswell.governance.service import Authorization
from groundswell.governance.tables import ApprovalRequestRow, ApprovalVote
from groundswell.identity.domain import Permission
from groundswell.identity.notifications import notify
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.kernel.events import Event, emit
from groundswell.kernel.settings import get_settings

__all__ = [
    "MODEL_SUBJECT",
    "ApprovalStatus",
    "approve",
    "expire_due",
    "pending_for_subject",
    "reject",
    "request_approval",
    "request_model_change",
    "withdraw",
]

COMMENT_MAX = 2000
SUMMARY_MAX = 500


class _Kind(StrEnum):
    REQUESTED = "approval.requested"
    APPROVED = "approval.approved"
    REJECTED = "approval.rejected"
    EXPIRED = "approval.expired"


def link(request_id: str) -> str:
    return f"/governance/approvals/{request_id}"


def _at(now: datetime) -> FrozenClock:
    return FrozenClock(now)


def _subject_event(row: ApprovalRequestRow) -> dict[str, str]:
    return {
        "organization_id": row.organization_id,
        "request_id": row.id,
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
    }


def _snapshot(row: ApprovalRequestRow) -> dict[str, object]:
    return {
        "action": row.action,
        "subject_type": row.subject_type,
        "subject_id": row.subject_id,
        "status": row.status,
        "approvals_needed": row.approvals_needed,
    }


def pending_for_subject(
    session: Session, organization_id: str, subject_type: str, subject_id: str
) -> ApprovalRequestRow | None:
    """The open request about one subject, if any."""
    return session.execute(
        select(ApprovalRequestRow)
        .where(
            ApprovalRequestRow.organization_id == organization_id,
            ApprovalRequestRow.subject_type == subject_type,
            ApprovalRequestRow.subject_id == subject_id,
            ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
        )
        .order_by(ApprovalRequestRow.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def request_approval(
    session: Session,
    actor: Actor,
    *,
    action: Action,
    subject_type: str,
    subject_id: str,
    summary: str,
    authorization: Authorization,
    now: datetime,
    expires_in: timedelta | None = None,
) -> ApprovalRequestRow:
    """Ask for the approvals `authorization.decision` says the action needs. Refused when
    the decision refuses, or needs no approval; a conflict while the subject already waits.
    `expires_in` defaults to `GROUNDSWELL_APPROVAL_EXPIRY_HOURS`."""
    service.require_scope(actor, Permission.CONTENT_WRITE)
    decision = authorization.decision
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.approvals_needed == 0:
        raise Conflict("This needs no approval: go ahead.")
    subject_type, subject_id, summary = subject_type.strip(), subject_id.strip(), summary.strip()
    if not subject_type or len(subject_type) > 60 or not subject_id or len(subject_id) > 200:
        raise InvalidInput("An approval names its subject: a type (≤ 60) and an id (≤ 200).")
    if not summary:
        raise InvalidInput("Say what is to be approved (a short summary).")
    existing = pending_for_subject(session, actor.organization_id, subject_type, subject_id)
    if existing is not None:
        raise Conflict(f"This already waits for approval (request {existing.id}).")
    expiry = expires_in or timedelta(hours=get_settings().approval_expiry_hours)
    row = ApprovalRequestRow(
        organization_id=actor.organization_id,
        requester_id=actor.user_id,
        requester_label=actor.email,
        action=action.value,
        subject_type=subject_type,
        subject_id=subject_id,
        summary=summary[:SUMMARY_MAX],
        reason=decision.reason,
        context=authorization.context.model_dump(mode="json"),
        approvals_needed=decision.approvals_needed,
        status=ApprovalStatus.PENDING.value,
        created_at=now,
        expires_at=now + expiry,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "approval.request",
        "approval",
        row.id,
        after=_snapshot(row) | {"reason": row.reason},
        clock=_at(now),
    )
    emit(
        session,
        ApprovalRequested(**_subject_event(row), approvals_needed=row.approvals_needed),
        clock=_at(now),
    )
    approvers = eligible_approvers(session, row)
    notify(
        session,
        organization_id=row.organization_id,
        user_ids=[u.id for u in approvers],
        kind=_Kind.REQUESTED.value,
        title=f"{actor.email} asks for your approval: {row.summary}",
        body=row.reason,
        link=link(row.id),
        now=now,
    )
    return row


def request_model_change(
    session: Session, actor: Actor, model: CoordinationModel, *, now: datetime
) -> ApprovalRequestRow:
    """Ask an owner to approve switching the coordination model (an admin's change)."""
    service.require_scope(actor, Permission.SETTINGS_MANAGE)
    context = service.context_for(session, actor.organization_id)
    if context.model is model:
        raise Conflict(f"The coordination model already is {service.MODEL_LABELS[model]}.")
    decision = domain.decide(service.actor_for(session, actor), Action.CHANGE_MODEL, context)
    return request_approval(
        session,
        actor,
        action=Action.CHANGE_MODEL,
        subject_type=MODEL_SUBJECT,
        subject_id=model.value,
        summary=f"Switch the coordination model to {service.MODEL_LABELS[model]}",
        authorization=Authorization(decision=decision, findings=(), context=context),
        now=now,
    )


def _open(session: Session, actor: Actor, request_id: str, now: datetime) -> ApprovalRequestRow:
    """The request, locked for this transaction, if it may still be decided."""
    service.require_scope(actor, Permission.CONTENT_WRITE)
    row = session.execute(
        select(ApprovalRequestRow)
        .where(
            ApprovalRequestRow.id == request_id,
            ApprovalRequestRow.organization_id == actor.organization_id,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"No approval request {request_id!r} in your organization.")
    if row.status != ApprovalStatus.PENDING.value:
        raise Conflict(f"This request is already {row.status}.")
    if row.expires_at <= now:
        raise Conflict(
            f"This request expired on {row.expires_at:%Y-%m-%d %H:%M} UTC; the requester may "
            "ask again."
        )
    return row


def _vote(
    session: Session,
    row: ApprovalRequestRow,
    actor: Actor,
    verdict: Verdict,
    comment: str,
    now: datetime,
) -> None:
    session.add(
        ApprovalVote(
            organization_id=row.organization_id,
            request_id=row.id,
            approver_id=actor.user_id,
            approver_label=actor.email,
            verdict=verdict.value,
            comment=comment,
            created_at=now,
        )
    )


def _clean_comment(comment: str) -> str:
    comment = comment.strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(f"Keep the comment under {COMMENT_MAX} characters.")
    return comment


def _tell_requester(
    session: Session, row: ApprovalRequestRow, kind: _Kind, title: str, body: str, now: datetime
) -> None:
    if row.requester_id:
        notify(
            session,
            organization_id=row.organization_id,
            user_ids=[row.requester_id],
            kind=kind.value,
            title=title,
            body=body,
            link=link(row.id),
            now=now,
        )


def approve(
    session: Session, approver: Actor, request_id: str, *, comment: str = "", now: datetime
) -> ApprovalRequestRow:
    """Give one approval. When it is the last one needed the request becomes `approved` and
    `ApprovalGranted` is emitted (a model change then takes effect)."""
    comment = _clean_comment(comment)
    row = _open(session, approver, request_id, now)
    verdict = domain.approve(
        service.actor_for(session, approver), domain_request(row, approve_votes(session, row.id))
    )
    if not verdict.allowed:
        raise Forbidden(verdict.reason)
    _vote(session, row, approver, Verdict.APPROVE, comment, now)
    granted = verdict.approvals_needed == 0
    if granted:
        row.status = ApprovalStatus.APPROVED.value
        row.decided_at = now
    session.flush()
    audit.record(
        session,
        approver.audit,
        "approval.approve",
        "approval",
        row.id,
        after=_snapshot(row) | {"comment": comment, "approvals_left": verdict.approvals_needed},
        clock=_at(now),
    )
    note = f" — {comment}" if comment else ""
    if not granted:
        _tell_requester(
            session,
            row,
            _Kind.APPROVED,
            f"{approver.email} approved “{row.summary}”; "
            f"{verdict.approvals_needed} more approval(s) needed",
            comment,
            now,
        )
        return row
    emit(session, ApprovalGranted(**_subject_event(row)), clock=_at(now))
    if row.subject_type == MODEL_SUBJECT:
        service.apply_model(
            session,
            approver.audit,
            row.organization_id,
            CoordinationModel(row.subject_id),
            user_id=row.requester_id,
            now=now,
        )
    _tell_requester(
        session, row, _Kind.APPROVED, f"Approved: {row.summary}{note}"[:300], comment, now
    )
    return row


def reject(
    session: Session, approver: Actor, request_id: str, *, comment: str, now: datetime
) -> ApprovalRequestRow:
    """Reject the request, saying why (the comment is required). Anyone who may approve it
    may reject it, except someone who already approved it."""
    comment = _clean_comment(comment)
    if not comment:
        raise InvalidInput("Say why you reject it: the requester reads your comment.")
    row = _open(session, approver, request_id, now)
    verdict = domain.approve(
        service.actor_for(session, approver), domain_request(row, approve_votes(session, row.id))
    )
    if not verdict.allowed:
        raise Forbidden(verdict.reason)
    _vote(session, row, approver, Verdict.REJECT, comment, now)
    row.status = ApprovalStatus.REJECTED.value
    row.decided_at = now
    session.flush()
    audit.record(
        session,
        approver.audit,
        "approval.reject",
        "approval",
        row.id,
        after=_snapshot(row) | {"comment": comment},
        clock=_at(now),
    )
    emit(session, ApprovalRejected(**_subject_event(row), comment=comment), clock=_at(now))
    _tell_requester(
        session, row, _Kind.REJECTED, f"Rejected: {row.summary} — {comment}"[:300], comment, now
    )
    return row


def withdraw(
    session: Session, actor: Actor, request_id: str, *, now: datetime
) -> ApprovalRequestRow:
    """The requester takes back a pending request."""
    service.require_scope(actor, Permission.CONTENT_WRITE)
    row = session.execute(
        select(ApprovalRequestRow)
        .where(
            ApprovalRequestRow.id == request_id,
            ApprovalRequestRow.organization_id == actor.organization_id,
        )
        .with_for_update()
    ).scalar_one_or_none()
    if row is None or row.requester_id != actor.user_id:
        raise NotFound(f"No approval request {request_id!r} of yours.")
    if row.status != ApprovalStatus.PENDING.value:
        raise Conflict(f"This request is already {row.status}.")
    row.status = ApprovalStatus.WITHDRAWN.value
    row.decided_at = now
    session.flush()
    audit.record(
        session,
        actor.audit,
        "approval.withdraw",
        "approval",
        row.id,
        after=_snapshot(row),
        clock=_at(now),
    )
    emit(session, ApprovalWithdrawn(**_subject_event(row)), clock=_at(now))
    return row


def expire_due(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Mark pending requests past their expiry as expired (claiming rows so that two
    workers never expire the same one twice), emit `ApprovalExpired`, tell the requesters."""
    rows = list(
        session.execute(
            select(ApprovalRequestRow)
            .where(
                ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
                ApprovalRequestRow.expires_at <= now,
            )
            .order_by(ApprovalRequestRow.expires_at, ApprovalRequestRow.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    events: list[Event] = []
    for row in rows:
        row.status = ApprovalStatus.EXPIRED.value
        row.decided_at = now
        session.flush()
        audit.record(
            session,
            audit.SYSTEM,
            "approval.expire",
            "approval",
            row.id,
            after=_snapshot(row),
            organization_id=row.organization_id,
            clock=_at(now),
        )
        events.append(ApprovalExpired(**_subject_event(row)))
        _tell_requester(
            session,
            row,
            _Kind.EXPIRED,
            f"Expired without a decision: {row.summary}"[:300],
            "Nobody decided in time. Ask again if it is still needed.",
            now,
        )
    for event in events:
        emit(session, event, clock=_at(now))
    return len(rows)
