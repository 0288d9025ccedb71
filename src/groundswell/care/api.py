"""JSON API of the care room under /api/v1/care: conversations (list, show, assign, status,
resolve, notes, replies, undo, retry), teams and members, SLA policies, routing rules, saved
replies, customer merges. Every route is scoped to the token's organization."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from groundswell.care import admin, customers, notify, saved_replies, schemas, service
from groundswell.care.from_mention import open_from_mention
from groundswell.care.schemas import (
    AssignIn,
    ConversationDetail,
    ConversationList,
    ConversationOut,
    ConversationPatch,
    CustomerOut,
    MemberIn,
    MemberOut,
    MergeIn,
    MessageOut,
    PolicyIn,
    PolicyOut,
    RuleIn,
    RuleOut,
    SavedReplyIn,
    SavedReplyOut,
    StatusIn,
    TeamIn,
    TeamOut,
    TextIn,
)
from groundswell.governance.vault import Vault
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession, SettingsDep
from groundswell.identity.tables import User

router = APIRouter(prefix="/api/v1/care", tags=["care"])

Id = Annotated[str, Path(min_length=1, max_length=200)]


class Rendered(BaseModel):
    text: str


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=1000)
    secret: str = Field(
        min_length=notify.SECRET_MIN, max_length=500, description="Kept encrypted; never shown."
    )
    events: list[str] = Field(
        default_factory=list, description="care.sla_warning, care.sla_breached; empty: all."
    )


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


@router.get("/conversations", summary="The inbox: one page of conversations")
def list_conversations(
    actor: ApiActor,
    session: ReadSession,
    clock: ClockDep,
    view: Annotated[
        str,
        Query(
            max_length=60,
            description="all, mine, unassigned, breaching, direct (direct messages) or team:<id>",
        ),
    ] = "all",
    status: Annotated[
        str | None,
        Query(max_length=30, description="One status, or `any`; default: every unresolved one."),
    ] = None,
    q: Annotated[str | None, Query(max_length=200, description="Search text.")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationList:
    page = service.list_conversations(
        session, actor, view=view, status=status, q=q, cursor=cursor, limit=limit, now=clock.now()
    )
    return ConversationList(
        items=schemas.conversations_out(session, page.items), next_cursor=page.next_cursor
    )


@router.get("/conversations/{conversation_id}", summary="A conversation with its messages")
def show_conversation(
    conversation_id: Id, actor: ApiActor, session: ReadSession
) -> ConversationDetail:
    conversation = service.access_conversation(session, actor, conversation_id)
    return schemas.detail(session, conversation, service.messages(session, actor, conversation_id))


@router.patch("/conversations/{conversation_id}", summary="Change priority, tags or team")
def patch_conversation(
    conversation_id: Id, body: ConversationPatch, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ConversationOut:
    with db.unit_of_work() as session:
        row = service.update(
            session,
            actor,
            conversation_id,
            priority=body.priority,
            tags=body.tags,
            team_id=body.team_id,
            now=clock.now(),
        )
        return schemas.conversations_out(session, [row])[0]


@router.post("/conversations/{conversation_id}/assign", summary="Assign (or unassign)")
def assign(
    conversation_id: Id, body: AssignIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ConversationOut:
    with db.unit_of_work() as session:
        row = service.assign(session, actor, conversation_id, body.assignee_id, now=clock.now())
        return schemas.conversations_out(session, [row])[0]


@router.post("/conversations/{conversation_id}/status", summary="Change the status")
def set_status(
    conversation_id: Id, body: StatusIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> ConversationOut:
    with db.unit_of_work() as session:
        row = service.set_status(
            session,
            actor,
            conversation_id,
            body.status,
            snooze_until=body.snooze_until,
            now=clock.now(),
        )
        return schemas.conversations_out(session, [row])[0]


@router.post("/conversations/{conversation_id}/resolve", summary="Resolve")
def resolve(conversation_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> ConversationOut:
    with db.unit_of_work() as session:
        row = service.resolve(session, actor, conversation_id, now=clock.now())
        return schemas.conversations_out(session, [row])[0]


@router.post(
    "/conversations/from-mention/{mention_id}",
    summary="The conversation holding a mention, opened for it if none does",
    description="Takes a listening mention into care as the pipeline would (its thread's or "
    "author's conversation, else a new one routed by the rules), even where routing would "
    "have left it in listening. 201 when the mention was taken now, 200 when a conversation "
    "already held it; 404 for a mention of another organization.",
)
def from_mention(
    mention_id: Annotated[int, Path(ge=1)],
    actor: ApiActor,
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    response: Response,
) -> ConversationOut:
    with db.unit_of_work() as session:
        found = open_from_mention(session, actor, mention_id, now=clock.now(), settings=settings)
        response.status_code = 201 if found.taken else 200
        return schemas.conversations_out(session, [found.conversation])[0]


@router.post(
    "/conversations/{conversation_id}/notes", status_code=201, summary="Add an internal note"
)
def add_note(
    conversation_id: Id, body: TextIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> MessageOut:
    with db.unit_of_work() as session:
        note = service.add_note(session, actor, conversation_id, body.text, now=clock.now())
        return schemas.message_out(note)


@router.post(
    "/conversations/{conversation_id}/replies",
    status_code=201,
    summary="Reply to the customer",
    description="Checked by governance first: 422 `reply_blocked` with `findings` when the "
    "policy blocks it; the reply is `queued` (sent after the undo window) or "
    "`awaiting_approval` when the coordination model asks for one.",
)
def reply(
    conversation_id: Id, body: TextIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> MessageOut:
    with db.unit_of_work() as session:
        message = service.reply(session, actor, conversation_id, body.text, now=clock.now())
        return schemas.message_out(message)


@router.post("/messages/{message_id}/undo", summary="Undo a reply inside its undo window")
def undo(message_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> MessageOut:
    with db.unit_of_work() as session:
        return schemas.message_out(service.undo_reply(session, actor, message_id, now=clock.now()))


@router.post("/messages/{message_id}/retry", summary="Send a failed reply again")
def retry(message_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> MessageOut:
    with db.unit_of_work() as session:
        return schemas.message_out(service.retry_reply(session, actor, message_id, now=clock.now()))


@router.get("/customers/{customer_id}", summary="A customer with their identities")
def show_customer(customer_id: Id, actor: ApiActor, session: ReadSession) -> CustomerOut:
    return schemas.customer_out(session, service.access_customer(session, actor, customer_id))


@router.get("/customers/{customer_id}/conversations", summary="A customer's history")
def customer_history(customer_id: Id, actor: ApiActor, session: ReadSession) -> ConversationList:
    rows = customers.history(session, actor, customer_id)
    return ConversationList(items=schemas.conversations_out(session, rows), next_cursor=None)


@router.post("/customers/{customer_id}/merge", summary="Merge a customer into another")
def merge_customer(
    customer_id: Id, body: MergeIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> CustomerOut:
    with db.unit_of_work() as session:
        kept = customers.merge_customers(session, actor, customer_id, body.into, now=clock.now())
        return schemas.customer_out(session, kept)


# --- set-up -----------------------------------------------------------------------------------


@router.get("/teams", summary="Teams")
def list_teams(actor: ApiActor, session: ReadSession) -> list[TeamOut]:
    return [schemas.team_out(t) for t in admin.list_teams(session, actor)]


@router.post("/teams", status_code=201, summary="Create a team")
def create_team(body: TeamIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> TeamOut:
    with db.unit_of_work() as session:
        return schemas.team_out(
            admin.save_team(session, actor, **body.model_dump(), now=clock.now())
        )


@router.put("/teams/{team_id}", summary="Replace a team's settings")
def update_team(team_id: Id, body: TeamIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> TeamOut:
    with db.unit_of_work() as session:
        team = admin.save_team(
            session, actor, **body.model_dump(), team_id=team_id, now=clock.now()
        )
        return schemas.team_out(team)


@router.get("/teams/{team_id}/members", summary="Members of a team")
def list_members(team_id: Id, actor: ApiActor, session: ReadSession) -> list[MemberOut]:
    return [schemas.member_out(m) for m in admin.members(session, actor, team_id)]


@router.put("/teams/{team_id}/members/{user}", summary="Add or change a member")
def put_member(
    team_id: Id, user: Id, body: MemberIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> MemberOut:
    with db.unit_of_work() as session:
        row = admin.set_member(session, actor, team_id, user, **body.model_dump(), now=clock.now())
        return schemas.member_out(row)


@router.delete("/teams/{team_id}/members/{user}", status_code=204, summary="Remove a member")
def delete_member(team_id: Id, user: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> None:
    with db.unit_of_work() as session:
        admin.remove_member(session, actor, team_id, user, now=clock.now())


@router.get("/sla-policies", summary="SLA policies (targets per priority band)")
def list_policies(actor: ApiActor, session: ReadSession) -> list[PolicyOut]:
    return [schemas.policy_out(p) for p in admin.list_policies(session, actor)]


@router.post("/sla-policies", summary="Set the targets of one priority band")
def set_policy(body: PolicyIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> PolicyOut:
    with db.unit_of_work() as session:
        return schemas.policy_out(
            admin.set_policy(session, actor, **body.model_dump(), now=clock.now())
        )


@router.get("/rules", summary="Routing rules, in evaluation order")
def list_rules(actor: ApiActor, session: ReadSession) -> list[RuleOut]:
    return [schemas.rule_out(r) for r in admin.list_rules(session, actor)]


@router.post("/rules", status_code=201, summary="Add a routing rule")
def create_rule(body: RuleIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> RuleOut:
    with db.unit_of_work() as session:
        return schemas.rule_out(
            admin.save_rule(session, actor, **body.model_dump(), now=clock.now())
        )


@router.put("/rules/{rule_id}", summary="Replace a routing rule")
def update_rule(rule_id: Id, body: RuleIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> RuleOut:
    with db.unit_of_work() as session:
        row = admin.save_rule(session, actor, **body.model_dump(), rule_id=rule_id, now=clock.now())
        return schemas.rule_out(row)


@router.delete("/rules/{rule_id}", status_code=204, summary="Delete a routing rule")
def delete_rule(rule_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> None:
    with db.unit_of_work() as session:
        admin.delete_rule(session, actor, rule_id, now=clock.now())


@router.get("/saved-replies", summary="Saved replies")
def list_saved_replies(actor: ApiActor, session: ReadSession) -> list[SavedReplyOut]:
    return [schemas.saved_reply_out(s) for s in saved_replies.list_saved_replies(session, actor)]


@router.post("/saved-replies", status_code=201, summary="Add a saved reply")
def create_saved_reply(
    body: SavedReplyIn, actor: ApiActor, db: DbDep, clock: ClockDep
) -> SavedReplyOut:
    with db.unit_of_work() as session:
        row = saved_replies.save_saved_reply(session, actor, **body.model_dump(), now=clock.now())
        return schemas.saved_reply_out(row)


@router.delete("/saved-replies/{reply_id}", status_code=204, summary="Delete a saved reply")
def delete_saved_reply(reply_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> None:
    with db.unit_of_work() as session:
        saved_replies.delete_saved_reply(session, actor, reply_id, now=clock.now())


@router.get(
    "/saved-replies/{reply_id}/render",
    summary="A saved reply filled in for one conversation",
)
def render_saved_reply(
    reply_id: Id,
    actor: ApiActor,
    session: ReadSession,
    conversation_id: Annotated[str, Query(min_length=1, max_length=200)],
) -> Rendered:
    saved = saved_replies.access_saved_reply(session, actor, reply_id)
    conversation = service.access_conversation(session, actor, conversation_id)
    me = session.get(User, actor.user_id)
    name = me.name if me is not None and me.name else actor.email
    return Rendered(text=service.render_saved_reply(saved, conversation, agent_name=name))


@router.get("/webhooks", summary="Signed webhooks for care events (admins)")
def list_webhooks(actor: ApiActor, session: ReadSession) -> list[WebhookOut]:
    return [
        WebhookOut(
            id=h.id, url=h.url, events=list(h.events), active=h.active, created_at=h.created_at
        )
        for h in notify.list_webhooks(session, actor)
    ]


@router.post("/webhooks", status_code=201, summary="Register a signed webhook (admins)")
def add_webhook(
    body: WebhookIn, actor: ApiActor, db: DbDep, clock: ClockDep, settings: SettingsDep
) -> WebhookOut:
    with db.unit_of_work() as session:
        h = notify.add_webhook(
            session,
            actor,
            Vault.open(settings.data_dir),
            url=body.url,
            secret=body.secret,
            events=body.events,
            now=clock.now(),
        )
        return WebhookOut(
            id=h.id, url=h.url, events=list(h.events), active=h.active, created_at=h.created_at
        )


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook (admins)")
def remove_webhook(webhook_id: Id, actor: ApiActor, db: DbDep, clock: ClockDep) -> None:
    with db.unit_of_work() as session:
        notify.remove_webhook(session, actor, webhook_id, now=clock.now())
