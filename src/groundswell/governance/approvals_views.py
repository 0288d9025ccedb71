"""Reading approval requests: who may decide one, the queues (waiting for me, asked by me,
decided) and one request as the pages, the API and the CLI show it.

Visibility: a person sees a request they asked for, voted on, or may decide; managers, admins
and owners (who read the audit log) see every request of their organization. Anyone else gets
"not found"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from groundswell.governance import domain, service
from groundswell.governance.domain import Action, CoordinationModel, Finding
from groundswell.governance.tables import ApprovalRequestRow, ApprovalVote
from groundswell.governance.training import is_trained
from groundswell.governance.units import unit_roles_for
from groundswell.identity.domain import Permission, Role
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.errors import NotFound
from groundswell.kernel.pagination import check_limit, paginate

MODEL_SUBJECT = "governance.model"
QUEUE_MAX = 200  # the "waiting for me" queue shows at most this many, oldest first


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


class Verdict(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


class Box(StrEnum):
    """The three queues of the approvals page."""

    FOR_ME = "for_me"
    MINE = "mine"
    DECIDED = "decided"


class VoteView(BaseModel):
    approver: str
    verdict: Verdict
    comment: str
    created_at: datetime


class ApprovalView(BaseModel):
    id: str
    action: Action
    subject_type: str
    subject_id: str
    summary: str
    reason: str
    requester: str
    requester_id: str | None
    status: ApprovalStatus
    approvals_needed: int
    approvals: int
    created_at: datetime
    expires_at: datetime
    decided_at: datetime | None
    model: CoordinationModel
    crisis: bool
    account_unit: str | None
    findings: list[Finding]
    votes: list[VoteView]
    can_decide: bool  # this viewer may approve or reject it now
    why_not: str | None  # why not, when pending and the viewer is not the requester
    can_withdraw: bool
    overdue: bool  # pending but past its expiry (the expiry job will mark it)


def domain_request(row: ApprovalRequestRow, approved_by: Sequence[str]) -> domain.ApprovalRequest:
    return domain.ApprovalRequest(
        requester_id=row.requester_id or "",
        action=Action(row.action),
        context=domain.Context.model_validate(row.context),
        approvals_needed=row.approvals_needed,
        approved_by=tuple(approved_by),
    )


def approve_votes(session: Session, request_id: str) -> tuple[str, ...]:
    """Who approved the request so far (user ids, in order)."""
    return tuple(
        i
        for i in session.scalars(
            select(ApprovalVote.approver_id)
            .where(
                ApprovalVote.request_id == request_id,
                ApprovalVote.verdict == Verdict.APPROVE.value,
            )
            .order_by(ApprovalVote.created_at, ApprovalVote.id)
        )
        if i is not None
    )


def governance_actors(
    session: Session, organization_id: str, users: Sequence[User]
) -> dict[str, domain.Actor]:
    roles = unit_roles_for(session, organization_id, [(u.id, Role(u.role)) for u in users])
    return {
        u.id: domain.Actor(
            id=u.id,
            role=Role(u.role),
            units=roles[u.id],
            trained=is_trained(session, organization_id, u.id),
        )
        for u in users
    }


def eligible_approvers(session: Session, row: ApprovalRequestRow) -> list[User]:
    """Active members of the organization who may give the next approval."""
    users = list(
        session.scalars(
            select(User)
            .where(User.organization_id == row.organization_id, User.is_active.is_(True))
            .order_by(User.email)
        )
    )
    request = domain_request(row, approve_votes(session, row.id))
    people = governance_actors(session, row.organization_id, users)
    return [u for u in users if domain.approve(people[u.id], request).allowed]


def _views(
    session: Session, actor: Actor, rows: Sequence[ApprovalRequestRow], now: datetime
) -> list[ApprovalView]:
    if not rows:
        return []
    me = service.actor_for(session, actor)
    votes: dict[str, list[ApprovalVote]] = {}
    for vote in session.scalars(
        select(ApprovalVote)
        .where(ApprovalVote.request_id.in_([r.id for r in rows]))
        .order_by(ApprovalVote.created_at, ApprovalVote.id)
    ):
        votes.setdefault(vote.request_id, []).append(vote)
    views = []
    for row in rows:
        mine = votes.get(row.id, [])
        approved_by = [
            v.approver_id for v in mine if v.verdict == Verdict.APPROVE and v.approver_id
        ]
        pending = row.status == ApprovalStatus.PENDING.value
        overdue = pending and row.expires_at <= now
        verdict = domain.approve(me, domain_request(row, approved_by))
        can_decide = pending and not overdue and verdict.allowed
        context = domain.Context.model_validate(row.context)
        views.append(
            ApprovalView(
                id=row.id,
                action=Action(row.action),
                subject_type=row.subject_type,
                subject_id=row.subject_id,
                summary=row.summary,
                reason=row.reason,
                requester=row.requester_label,
                requester_id=row.requester_id,
                status=ApprovalStatus(row.status),
                approvals_needed=row.approvals_needed,
                approvals=len(approved_by),
                created_at=row.created_at,
                expires_at=row.expires_at,
                decided_at=row.decided_at,
                model=context.model,
                crisis=context.crisis,
                account_unit=context.account_unit,
                findings=list(context.findings),
                votes=[
                    VoteView(
                        approver=v.approver_label,
                        verdict=Verdict(v.verdict),
                        comment=v.comment,
                        created_at=v.created_at,
                    )
                    for v in mine
                ],
                can_decide=can_decide,
                why_not=None
                if can_decide or not pending or row.requester_id == actor.user_id
                else ("This request is past its expiry." if overdue else verdict.reason),
                can_withdraw=pending and row.requester_id == actor.user_id,
                overdue=overdue,
            )
        )
    return views


def _sees_everything(actor: Actor) -> bool:
    return actor.can(Permission.AUDIT_READ)


def access_request(
    session: Session, actor: Actor, request_id: str, *, now: datetime
) -> ApprovalView:
    """One request the actor may see (see the module's visibility rule); 404 otherwise."""
    actor.require(Permission.ORG_READ)
    row = session.execute(
        select(ApprovalRequestRow).where(
            ApprovalRequestRow.id == request_id,
            ApprovalRequestRow.organization_id == actor.organization_id,
        )
    ).scalar_one_or_none()
    missing = NotFound(f"No approval request {request_id!r} in your organization.")
    if row is None:
        raise missing
    view = _views(session, actor, [row], now)[0]
    voted = session.scalar(
        select(ApprovalVote.id).where(
            ApprovalVote.request_id == row.id, ApprovalVote.approver_id == actor.user_id
        )
    )
    involved = row.requester_id == actor.user_id or voted is not None or view.can_decide
    if not (involved or _sees_everything(actor)):
        raise missing
    return view


def list_requests(
    session: Session,
    actor: Actor,
    box: Box,
    *,
    now: datetime,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[ApprovalView], str | None]:
    """One queue, with a cursor for the next page.

    `for_me`: pending requests the actor may decide now, oldest first (at most `QUEUE_MAX`,
    no cursor). `mine`: the actor's requests, newest first. `decided`: decided requests the
    actor may see, most recently decided first."""
    actor.require(Permission.ORG_READ)
    check_limit(limit)
    org = ApprovalRequestRow.organization_id == actor.organization_id
    if box is Box.FOR_ME:
        rows = session.scalars(
            select(ApprovalRequestRow)
            .where(
                org,
                ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
                ApprovalRequestRow.expires_at > now,
                or_(
                    ApprovalRequestRow.requester_id.is_(None),
                    ApprovalRequestRow.requester_id != actor.user_id,
                ),
            )
            .order_by(ApprovalRequestRow.created_at, ApprovalRequestRow.id)
            .limit(QUEUE_MAX)
        ).all()
        return [v for v in _views(session, actor, rows, now) if v.can_decide][:limit], None
    if box is Box.MINE:
        stmt = select(ApprovalRequestRow).where(
            org, ApprovalRequestRow.requester_id == actor.user_id
        )
        page, next_cursor = paginate(
            session,
            stmt,
            key=ApprovalRequestRow.created_at,
            id_=ApprovalRequestRow.id,
            limit=limit,
            cursor=cursor,
        )
        return _views(session, actor, page, now), next_cursor
    stmt = select(ApprovalRequestRow).where(
        org, ApprovalRequestRow.status != ApprovalStatus.PENDING.value
    )
    if not _sees_everything(actor):
        voted = exists().where(
            ApprovalVote.request_id == ApprovalRequestRow.id,
            ApprovalVote.approver_id == actor.user_id,
        )
        stmt = stmt.where(or_(ApprovalRequestRow.requester_id == actor.user_id, voted))
    page, next_cursor = paginate(
        session,
        stmt,
        key=ApprovalRequestRow.decided_at,
        id_=ApprovalRequestRow.id,
        limit=limit,
        cursor=cursor,
    )
    return _views(session, actor, page, now), next_cursor
