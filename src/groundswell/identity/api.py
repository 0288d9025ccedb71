"""JSON API of identity: who am I, users, API tokens, the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from groundswell.identity import audit_views, service
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession
from groundswell.identity.domain import Permission
from groundswell.identity.schemas import (
    AuditEntryOut,
    Me,
    TokenCreate,
    TokenCreated,
    TokenOut,
    UserCreate,
    UserOut,
)
from groundswell.identity.tables import ApiToken, User
from groundswell.kernel.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["identity"])


def user_out(user: User) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut.model_validate(token, from_attributes=True)


@router.get("/me", summary="The signed-in actor")
def me(actor: ApiActor, session: ReadSession) -> Me:
    user = service.access_user_self(session, actor)
    org = service.organization_of(session, actor)
    return Me(
        id=user.id,
        email=user.email,
        name=user.name,
        role=actor.role,
        organization_id=org.id,
        organization_name=org.name,
        permissions=sorted(p.value for p in Permission if actor.can(p)),
    )


@router.get("/users", summary="Users of your organization")
def list_users(actor: ApiActor, session: ReadSession) -> list[UserOut]:
    return [user_out(u) for u in service.list_users(session, actor)]


@router.post("/users", status_code=201, summary="Create a user")
def create_user(body: UserCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> UserOut:
    with db.unit_of_work() as session:
        user = service.create_user(
            session,
            actor,
            email=body.email,
            name=body.name,
            role=body.role,
            password=body.password,
            clock=clock,
        )
        return user_out(user)


@router.get("/users/{user_id}", summary="One user")
def get_user(user_id: str, actor: ApiActor, session: ReadSession) -> UserOut:
    return user_out(service.access_user(session, actor, user_id))


@router.post(
    "/users/{user_id}/deactivate",
    summary="Deactivate a user (signs them out, revokes their tokens)",
)
def deactivate_user(user_id: str, actor: ApiActor, db: DbDep, clock: ClockDep) -> UserOut:
    with db.unit_of_work() as session:
        return user_out(service.deactivate_user(session, actor, user_id, clock=clock))


@router.get("/tokens", summary="Your API tokens")
def list_tokens(actor: ApiActor, session: ReadSession) -> list[TokenOut]:
    return [token_out(t) for t in service.list_tokens(session, actor)]


@router.post("/tokens", status_code=201, summary="Create an API token (the secret is shown once)")
def create_token(body: TokenCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> TokenCreated:
    with db.unit_of_work() as session:
        token, secret = service.create_token(
            session,
            actor,
            name=body.name,
            scopes=body.scopes,
            expires_in_days=body.expires_in_days,
            clock=clock,
        )
        return TokenCreated(**token_out(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", status_code=204, summary="Revoke an API token")
def revoke_token(token_id: str, actor: ApiActor, db: DbDep, clock: ClockDep) -> Response:
    with db.unit_of_work() as session:
        service.revoke_token(session, actor, token_id, clock=clock)
    return Response(status_code=204)


@router.get("/audit", summary="The audit log of your organization, newest first")
def list_audit(
    request: Request,
    actor: ApiActor,
    session: ReadSession,
    action: Annotated[str | None, Query(max_length=100)] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    actor_label: Annotated[str | None, Query(alias="actor", max_length=320)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[AuditEntryOut]:
    filters = audit_views.AuditFilters(
        action=action, object_type=object_type, actor=actor_label, since=since, until=until
    )
    rows, next_cursor = audit_views.page(session, actor, filters, cursor=cursor, limit=limit)
    return Page[AuditEntryOut](
        items=[audit_views.entry_out(r) for r in rows], next_cursor=next_cursor
    )
