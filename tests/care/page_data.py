"""Conversations for the page, presence, CSAT and metrics tests, written straight into the
care tables (the service's own tests cover how they come to be)."""

from __future__ import annotations

from datetime import datetime, timedelta

from groundswell.care.tables import (
    CareConversation,
    CareCustomer,
    CareMessage,
    CareSavedReply,
    CareTeam,
)
from groundswell.kernel.db import Database
from groundswell.listening.tables import ListeningSource
from tests.builders import Person


def make_team(db: Database, owner: Person, name: str, now: datetime) -> str:
    with db.unit_of_work() as session:
        team = CareTeam(
            organization_id=owner.actor.organization_id,
            name=name,
            timezone="UTC",
            business_hours="mon-sun 00:00-24:00",
            holidays=[],
            languages=[],
            created_at=now,
            updated_at=now,
        )
        session.add(team)
        session.flush()
        return team.id


def make_conversation(
    db: Database,
    owner: Person,
    *,
    now: datetime,
    text: str = "My flight was cancelled and nobody answers the phone",
    handle: str = "@traveller",
    source: str = "mastodon",
    status: str = "new",
    assignee_id: str | None = None,
    team_id: str | None = None,
    priority: int = 50,
    age: timedelta = timedelta(minutes=20),
    due_in: timedelta | None = timedelta(minutes=40),
    first_responded_after: timedelta | None = None,
    resolved_after: timedelta | None = None,
    channel: str = "public",
) -> str:
    created = now - age
    with db.unit_of_work() as session:
        customer = CareCustomer(
            organization_id=owner.actor.organization_id,
            name=handle.lstrip("@").title(),
            notes="",
            created_at=created,
        )
        session.add(customer)
        session.flush()
        first_due = None if due_in is None else now + due_in
        conversation = CareConversation(
            organization_id=owner.actor.organization_id,
            source=source,
            thread_key=f"{handle}-{created.isoformat()}-{text[:10]}",
            channel=channel,
            customer_id=customer.id,
            status=status,
            assignee_id=assignee_id,
            team_id=team_id,
            priority=priority,
            tags=[],
            preview=text[:300],
            customer_name=handle.lstrip("@").title(),
            customer_handle=handle,
            created_at=created,
            updated_at=created,
            last_inbound_at=created,
            first_response_due_at=first_due,
            first_responded_at=None
            if first_responded_after is None
            else created + first_responded_after,
            resolved_at=None if resolved_after is None else created + resolved_after,
            sla_target="first_response" if first_due else None,
            sla_due_at=first_due,
            sla_warn_at=None if first_due is None else first_due - (first_due - created) / 4,
        )
        session.add(conversation)
        session.flush()
        session.add(
            CareMessage(
                organization_id=owner.actor.organization_id,
                conversation_id=conversation.id,
                direction="inbound",
                author_label=handle,
                text=text,
                created_at=created,
            )
        )
        return conversation.id


def add_reply_source(db: Database, owner: Person, now: datetime, name: str = "mastodon") -> None:
    """A configured source whose connector can post replies (nothing is sent in these tests:
    replies wait in their undo window or for approval)."""
    with db.unit_of_work() as session:
        session.add(
            ListeningSource(
                organization_id=owner.actor.organization_id,
                name=name,
                connector="mastodon",
                options={"instance": "http://127.0.0.1:9"},
                status="active",
                created_at=now,
                error_count=0,
                stored_count=0,
            )
        )


def add_saved_reply(db: Database, owner: Person, now: datetime, name: str, body: str) -> str:
    with db.unit_of_work() as session:
        row = CareSavedReply(
            organization_id=owner.actor.organization_id,
            name=name,
            shortcut=name.lower()[:10],
            body=body,
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
        return row.id
