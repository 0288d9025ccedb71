"""Mentions become conversation messages: routing decides, threads and authors group,
idempotent per mention; the MentionMatched handler does it through the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import groundswell.care.handlers  # subscribes the MentionMatched handler
from groundswell.care import admin, service
from groundswell.care.tables import CareConversation, CareCustomer, CareMessage
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher, emit
from groundswell.kernel.settings import Settings
from groundswell.listening.pipeline import MentionMatched
from tests.builders import make_org, make_user
from tests.care.care_helpers import add_mention, conversation, make_team, set_policy, take

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def _count(db: Database, table: type) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_complaint_opens_a_conversation_once(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    set_policy(db, owner, NOW, first=60, resolution=480)
    mention = add_mention(db, owner.actor.organization_id, created_at=NOW - timedelta(minutes=5))
    message = take(db, settings, mention, NOW)
    assert message is not None
    assert message.direction == "inbound"
    assert message.external_id == mention.external_id
    c = conversation(db, message.conversation_id)
    assert c.status == "new"
    assert c.customer_handle == "@ana"
    assert c.created_at == NOW - timedelta(minutes=5)
    # No team: the clock runs around the clock.
    assert c.first_response_due_at == NOW + timedelta(minutes=55)
    assert c.resolution_due_at == NOW - timedelta(minutes=5) + timedelta(minutes=480)
    assert c.sla_target == "first_response"
    assert c.sla_due_at == c.first_response_due_at
    assert c.sla_warn_at == NOW - timedelta(minutes=5) + timedelta(minutes=45)
    # Idempotent per mention.
    assert take(db, settings, mention, NOW) is None
    assert _count(db, CareMessage) == 1
    assert _count(db, CareConversation) == 1


def test_routing_defaults_leave_praise_in_listening(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    praise = add_mention(
        db, org, text="Love the new menu", labels=["praise"], priority=10, created_at=NOW
    )
    assert take(db, settings, praise, NOW) is None
    question = add_mention(db, org, text="Open on Sunday?", labels=["question"], created_at=NOW)
    assert take(db, settings, question, NOW) is not None
    urgent = add_mention(db, org, handle="@bo", labels=[], priority=75, created_at=NOW)
    assert take(db, settings, urgent, NOW) is not None


def test_replies_thread_and_authors_group_within_the_window(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    first = add_mention(db, org, external_id="100", created_at=NOW)
    m1 = take(db, settings, first, NOW)
    assert m1 is not None
    # A reply in the thread (even by someone else, even praise) joins the conversation.
    answer = add_mention(
        db,
        org,
        handle="@cy",
        external_id="101",
        in_reply_to="100",
        labels=["praise"],
        priority=0,
        created_at=NOW + timedelta(minutes=1),
    )
    m2 = take(db, settings, answer, NOW + timedelta(minutes=1))
    assert m2 is not None
    assert m2.conversation_id == m1.conversation_id
    # The same author, no thread, within the window: same conversation.
    again = add_mention(db, org, external_id="102", created_at=NOW + timedelta(hours=2))
    m3 = take(db, settings, again, NOW + timedelta(hours=2))
    assert m3 is not None
    assert m3.conversation_id == m1.conversation_id
    # Outside the window (a day by default): a new conversation.
    later = (
        NOW + timedelta(hours=2, minutes=1) + timedelta(minutes=settings.care_author_window_minutes)
    )
    m4 = take(db, settings, add_mention(db, org, external_id="103", created_at=later), later)
    assert m4 is not None
    assert m4.conversation_id != m1.conversation_id
    # Same handle on another source is another identity.
    m5 = take(db, settings, add_mention(db, org, source="bsky", created_at=NOW), NOW)
    assert m5 is not None
    assert m5.conversation_id != m1.conversation_id
    assert _count(db, CareCustomer) == 3  # @ana on two sources, @cy
    c = conversation(db, m1.conversation_id)
    assert c.last_inbound_at == NOW + timedelta(hours=2)


def test_rules_set_team_priority_tags_and_round_robin_assigns(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    a = make_user(db, owner, Role.AGENT)
    b = make_user(db, owner, Role.AGENT)
    team_id = make_team(db, owner, NOW, name="Billing", assignment="round_robin")
    with db.unit_of_work() as session:
        admin.set_member(session, owner.actor, team_id, a.email, capacity=5, now=NOW)
        admin.set_member(session, owner.actor, team_id, b.email, capacity=5, now=NOW)
        admin.save_rule(
            session,
            owner.actor,
            name="Refunds to billing",
            conditions={"words": ["refund"]},
            actions={"team_id": team_id, "priority": 80, "tags": ["refund"]},
            now=NOW,
        )
    got = []
    for i in range(3):
        mention = add_mention(
            db, org, handle=f"@p{i}", text=f"I want a refund #{i}", created_at=NOW
        )
        message = take(db, settings, mention, NOW + timedelta(seconds=i))
        assert message is not None
        got.append(conversation(db, message.conversation_id))
    assert all(c.team_id == team_id and c.priority == 80 and c.tags == ["refund"] for c in got)
    assignees = [c.assignee_id for c in got]
    assert set(assignees[:2]) == {a.actor.user_id, b.actor.user_id}
    assert assignees[2] == assignees[0]  # round robin comes back to the first
    assert all(c.status == "open" for c in got)
    with db.reader() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.user_id == a.actor.user_id)
        ).all()
    assert "care.assigned" in kinds


def test_the_mention_matched_handler_opens_the_conversation(
    db: Database, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groundswell.care.handlers, "handler_clock", FrozenClock(NOW))
    owner = make_org(db)
    org = owner.actor.organization_id
    mention = add_mention(db, org, created_at=NOW)
    with db.unit_of_work() as session:
        for query_id in ("q1", "q2"):  # one mention, two matching queries: one message
            emit(
                session,
                MentionMatched(
                    organization_id=org,
                    mention_id=mention.id,
                    query_id=query_id,
                    query_name="brand",
                    topic="brand",
                    source=mention.source,
                    external_id=mention.external_id,
                ),
            )
    Dispatcher(db).dispatch_pending()
    assert _count(db, CareMessage) == 1
    with db.reader() as session:
        page = service.list_conversations(session, owner.actor)
    assert [c.customer_handle for c in page.items] == ["@ana"]


def test_old_posts_open_nothing_but_still_join_their_thread(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    first = take(db, settings, add_mention(db, org, external_id="200", created_at=NOW), NOW)
    assert first is not None
    later = NOW + timedelta(days=10)
    old = add_mention(db, org, handle="@old", external_id="201", created_at=NOW)
    assert take(db, settings, old, later) is None
    assert _count(db, CareCustomer) == 1  # no customer record for a post nobody answers
    old_reply = add_mention(
        db, org, handle="@ana", external_id="202", in_reply_to="200", created_at=NOW
    )
    joined = take(db, settings, old_reply, later)
    assert joined is not None
    assert joined.conversation_id == first.conversation_id
