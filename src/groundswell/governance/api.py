"""JSON API of coordination under /api/v1/governance: the model (and crisis flag), units and
their members, `authorize` for a draft, and approvals. Every route is scoped to the token's
organization; writes need the token scope the service names (write for approvals, admin for
the model and units)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from groundswell.governance import approvals, service, units
from groundswell.governance.approvals_views import ApprovalView, Box, access_request, list_requests
from groundswell.governance.domain import Action, CoordinationModel
from groundswell.governance.service import Authorization, CoordinationSettings
from groundswell.governance.units import UnitInfo, UnitKind
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession
from groundswell.identity.domain import Role

router = APIRouter(prefix="/api/v1/governance", tags=["governance"])

UnitRef = Annotated[str, Path(max_length=60, description="Unit key or id.")]
UserRef = Annotated[str, Path(max_length=320, description="User email or id.")]
RequestId = Annotated[str, Path(max_length=36)]


class ModelChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: CoordinationModel


class ModelChangeOut(BaseModel):
    applied: bool = Field(description="True: the model changed now (or already was it).")
    settings: CoordinationSettings
    approval_request_id: str | None = Field(
        default=None, description="Set when an owner must approve the change first."
    )


class UnitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: UnitKind
    key: str | None = Field(default=None, max_length=60, description="Default: from the name.")
    description: str = Field(default="", max_length=2000)


class MemberSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = Field(description="manager, agent, contributor or viewer.")


class AuthorizeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Action
    text: str | None = Field(default=None, max_length=100_000)
    network: str | None = Field(default=None, max_length=50)
    account_unit: str | None = Field(default=None, max_length=200)


class Comment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    comment: str = Field(default="", max_length=approvals.COMMENT_MAX)


class ApprovalPage(BaseModel):
    items: list[ApprovalView]
    next_cursor: str | None


@router.get("/model", summary="The coordination model and crisis mode")
def get_model(actor: ApiActor, session: ReadSession) -> CoordinationSettings:
    return service.coordination_settings(session, actor.organization_id)


@router.put(
    "/model",
    summary="Switch the coordination model",
    responses={202: {"description": "An owner must approve the change first."}},
)
def put_model(
    body: ModelChange, actor: ApiActor, db: DbDep, clock: ClockDep, response: Response
) -> ModelChangeOut:
    with db.unit_of_work() as session:
        try:
            service.set_model(session, actor, body.model, now=clock.now())
            request_id = None
        except service.ApprovalRequired:
            row = approvals.request_model_change(session, actor, body.model, now=clock.now())
            request_id = row.id
            response.status_code = 202
        shown = service.coordination_settings(session, actor.organization_id)
    return ModelChangeOut(
        applied=request_id is None, settings=shown, approval_request_id=request_id
    )


@router.post("/authorize", summary="May I take this action on this text now?")
def post_authorize(body: AuthorizeIn, actor: ApiActor, session: ReadSession) -> Authorization:
    return service.authorize(
        session,
        actor,
        body.action,
        text=body.text,
        network=body.network,
        account_unit=body.account_unit,
    )


@router.get("/units", summary="Units and their members")
def get_units(actor: ApiActor, session: ReadSession) -> list[UnitInfo]:
    return units.list_units(session, actor)


@router.post("/units", status_code=201, summary="Add the hub, a business unit or a region")
def post_unit(body: UnitCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> UnitInfo:
    with db.unit_of_work() as session:
        unit = units.create_unit(
            session,
            actor,
            name=body.name,
            kind=body.kind,
            key=body.key,
            description=body.description,
            now=clock.now(),
        )
        return next(u for u in units.list_units(session, actor) if u.id == unit.id)


@router.delete("/units/{unit}", status_code=204, summary="Delete a unit and its memberships")
def delete_unit(unit: UnitRef, actor: ApiActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        units.delete_unit(session, actor, unit, now=clock.now())
    return Response(status_code=204)


@router.put("/units/{unit}/members/{user}", summary="Add a member or change their role")
def put_member(
    unit: UnitRef, user: UserRef, body: MemberSet, actor: ApiActor, db: DbDep, clock: ClockDep
) -> UnitInfo:
    with db.unit_of_work() as session:
        units.set_member(session, actor, unit, user, body.role, now=clock.now())
        found = units.access_unit(session, actor, unit)
        return next(u for u in units.list_units(session, actor) if u.id == found.id)


@router.delete("/units/{unit}/members/{user}", status_code=204, summary="Remove a member")
def delete_member(
    unit: UnitRef, user: UserRef, actor: ApiActor, db: DbDep, clock: ClockDep
) -> Response:
    with db.unit_of_work() as session:
        units.remove_member(session, actor, unit, user, now=clock.now())
    return Response(status_code=204)


@router.get("/approvals", summary="Approval requests: waiting for me, mine, or decided")
def get_approvals(
    actor: ApiActor,
    session: ReadSession,
    clock: ClockDep,
    box: Box = Box.FOR_ME,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ApprovalPage:
    items, next_cursor = list_requests(
        session, actor, box, now=clock.now(), cursor=cursor, limit=limit
    )
    return ApprovalPage(items=items, next_cursor=next_cursor)


@router.get("/approvals/{request_id}", summary="One approval request")
def get_approval(
    request_id: RequestId, actor: ApiActor, session: ReadSession, clock: ClockDep
) -> ApprovalView:
    return access_request(session, actor, request_id, now=clock.now())


def _after(db: DbDep, actor: ApiActor, request_id: str, now: datetime) -> ApprovalView:
    with db.reader() as session:
        return access_request(session, actor, request_id, now=now)


@router.post("/approvals/{request_id}/approve", summary="Approve (one approval)")
def post_approve(
    request_id: RequestId, body: Comment, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ApprovalView:
    with db.unit_of_work() as session:
        approvals.approve(session, actor, request_id, comment=body.comment, now=clock.now())
    return _after(db, actor, request_id, clock.now())


@router.post("/approvals/{request_id}/reject", summary="Reject, saying why")
def post_reject(
    request_id: RequestId, body: Comment, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ApprovalView:
    with db.unit_of_work() as session:
        approvals.reject(session, actor, request_id, comment=body.comment, now=clock.now())
    return _after(db, actor, request_id, clock.now())


@router.post("/approvals/{request_id}/withdraw", summary="Withdraw my pending request")
def post_withdraw(
    request_id: RequestId, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ApprovalView:
    with db.unit_of_work() as session:
        approvals.withdraw(session, actor, request_id, now=clock.now())
    return _after(db, actor, request_id, clock.now())
