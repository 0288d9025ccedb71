"""Policy changes proposed for approval: when `decide(EDIT_POLICY)` allows someone to change
the policy only with approvals (hub managers outside command and control), their change is
kept as a draft and an approval request is opened (`governance.approvals`). When the request
is granted the draft becomes the new current version, authored by the proposer; a rejection,
expiry or withdrawal closes the draft and says why.

Importing this module subscribes its handlers (listed in `kernel/handlers_index.py`)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.governance import approvals
from groundswell.governance.domain import Action
from groundswell.governance.events import (
    ApprovalExpired,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalWithdrawn,
)
from groundswell.governance.policy import Policy, dump_policy, parse_policy
from groundswell.governance.policy_tables import PolicyDraft
from groundswell.governance.policy_versions import (
    changes_from_current,
    clean_note,
    store_version,
)
from groundswell.governance.service import authorize
from groundswell.governance.tables import ApprovalRequestRow
from groundswell.identity.domain import Permission
from groundswell.identity.notifications import notify
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, Forbidden, GroundswellError
from groundswell.kernel.events import bus

SUBJECT = "governance.policy_draft"
PENDING, APPLIED, REJECTED, EXPIRED, WITHDRAWN, VOID = (
    "pending",
    "applied",
    "rejected",
    "expired",
    "withdrawn",
    "void",
)


class DraftInfo(BaseModel):
    id: str
    author: str
    note: str
    major: bool
    status: str
    version: str | None
    outcome: str
    created_at: datetime
    request_id: str | None


def propose(
    session: Session, actor: Actor, policy: Policy, *, major: bool, note: str, now: datetime
) -> PolicyDraft:
    """Keep `policy` as a draft and ask for the approvals `decide(EDIT_POLICY)` requires.
    `Conflict` when the actor needs no approval (save directly instead)."""
    actor.require(Permission.CONTENT_WRITE)
    authorization = authorize(session, actor, Action.EDIT_POLICY)
    decision = authorization.decision
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.approvals_needed == 0:
        raise Conflict("You may save the policy directly: no approval is needed.")
    note = clean_note(note)
    changes = changes_from_current(session, actor.organization_id, policy)
    draft = PolicyDraft(
        organization_id=actor.organization_id,
        document=dump_policy(policy),
        major=major,
        note=note,
        author_id=actor.user_id,
        author_label=actor.email,
        status=PENDING,
        outcome="",
        created_at=now,
    )
    session.add(draft)
    session.flush()
    kind = "major" if major else "minor"
    request = approvals.request_approval(
        session,
        actor,
        action=Action.EDIT_POLICY,
        subject_type=SUBJECT,
        subject_id=draft.id,
        summary=f"Policy change ({kind}): {note}",
        authorization=authorization,
        now=now,
    )
    audit.record(
        session,
        actor.audit,
        "governance.policy.proposed",
        "policy_draft",
        draft.id,
        after={
            "major": major,
            "note": note,
            "changes": [c.line for c in changes],
            "request_id": request.id,
        },
        clock=FrozenClock(now),
    )
    return draft


def list_drafts(session: Session, actor: Actor, *, limit: int = 20) -> list[DraftInfo]:
    """Recent proposals of the actor's organization, newest first, with their request."""
    actor.require(Permission.ORG_READ)
    rows = session.scalars(
        select(PolicyDraft)
        .where(PolicyDraft.organization_id == actor.organization_id)
        .order_by(PolicyDraft.created_at.desc(), PolicyDraft.id.desc())
        .limit(limit)
    ).all()
    requests = dict(
        session.execute(
            select(ApprovalRequestRow.subject_id, ApprovalRequestRow.id).where(
                ApprovalRequestRow.organization_id == actor.organization_id,
                ApprovalRequestRow.subject_type == SUBJECT,
                ApprovalRequestRow.subject_id.in_([r.id for r in rows]),
            )
        ).all()
    )
    return [
        DraftInfo(
            id=r.id,
            author=r.author_label,
            note=r.note,
            major=r.major,
            status=r.status,
            version=r.version,
            outcome=r.outcome,
            created_at=r.created_at,
            request_id=requests.get(r.id),
        )
        for r in rows
    ]


def _pending_draft(session: Session, organization_id: str, draft_id: str) -> PolicyDraft | None:
    return session.scalar(
        select(PolicyDraft).where(
            PolicyDraft.id == draft_id,
            PolicyDraft.organization_id == organization_id,
            PolicyDraft.status == PENDING,
        )
    )


def _decided_at(session: Session, request_id: str, draft: PolicyDraft) -> datetime:
    """When the request was decided (the moment the change takes effect)."""
    moment = session.scalar(
        select(ApprovalRequestRow.decided_at).where(ApprovalRequestRow.id == request_id)
    )
    return moment or draft.created_at


def _tell_author(session: Session, draft: PolicyDraft, title: str, now: datetime) -> None:
    if draft.author_id:
        notify(
            session,
            organization_id=draft.organization_id,
            user_ids=[draft.author_id],
            kind="governance.policy",
            title=title,
            body=draft.outcome,
            link="/governance/policy",
            now=now,
        )


@bus.subscribe(ApprovalGranted)
def apply_granted_draft(session: Session, event: ApprovalGranted) -> None:
    """The approvals arrived: the draft becomes the current version (authored by the
    proposer). If it no longer changes anything, it is closed as void."""
    if event.subject_type != SUBJECT:
        return
    draft = _pending_draft(session, event.organization_id, event.subject_id)
    if draft is None:
        return
    now = _decided_at(session, event.request_id, draft)
    by = audit.AuditActor(None, f"approval {event.request_id}", event.organization_id)
    try:
        row = store_version(
            session,
            by,
            draft.organization_id,
            parse_policy(draft.document, "policy draft"),
            major=draft.major,
            note=draft.note,
            author_id=draft.author_id,
            author_label=draft.author_label,
            now=now,
        )
    except GroundswellError as exc:
        draft.status, draft.outcome, draft.decided_at = VOID, exc.message, now
        session.flush()
        _tell_author(session, draft, "Your approved policy change was not applied", now)
        return
    draft.status, draft.version, draft.decided_at = APPLIED, row.version, now
    draft.outcome = f"Approved; saved as version {row.version}."
    session.flush()
    _tell_author(session, draft, f"Your policy change is live as version {row.version}", now)


def _close(
    session: Session,
    organization_id: str,
    draft_id: str,
    request_id: str,
    status: str,
    outcome: str,
) -> None:
    draft = _pending_draft(session, organization_id, draft_id)
    if draft is None:
        return
    now = _decided_at(session, request_id, draft)
    draft.status, draft.outcome, draft.decided_at = status, outcome, now
    session.flush()
    audit.record(
        session,
        audit.AuditActor(None, f"approval {request_id}", organization_id),
        f"governance.policy.{status}",
        "policy_draft",
        draft.id,
        after={"status": status, "outcome": outcome},
        clock=FrozenClock(now),
    )


@bus.subscribe(ApprovalRejected)
def close_rejected_draft(session: Session, event: ApprovalRejected) -> None:
    if event.subject_type == SUBJECT:
        outcome = f"Rejected: {event.comment}" if event.comment else "Rejected."
        _close(
            session, event.organization_id, event.subject_id, event.request_id, REJECTED, outcome
        )


@bus.subscribe(ApprovalExpired)
def close_expired_draft(session: Session, event: ApprovalExpired) -> None:
    if event.subject_type == SUBJECT:
        outcome = "Nobody decided in time; propose it again if it is still needed."
        _close(session, event.organization_id, event.subject_id, event.request_id, EXPIRED, outcome)


@bus.subscribe(ApprovalWithdrawn)
def close_withdrawn_draft(session: Session, event: ApprovalWithdrawn) -> None:
    if event.subject_type == SUBJECT:
        outcome = "Withdrawn by the proposer."
        _close(
            session, event.organization_id, event.subject_id, event.request_id, WITHDRAWN, outcome
        )
