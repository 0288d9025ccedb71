"""Conversation use cases: the next-response clock, the breaching view, permissions, saved
replies with variables, customer merges, re-routing a conversation to another team."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from groundswell.care import customers, saved_replies, service, sla
from groundswell.care.tables import CareConversation, CareCustomerIdentity
from groundswell.identity.domain import Role
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Forbidden, InvalidInput, NotFound
from groundswell.kernel.settings import Settings
from tests.builders import make_org, make_user
from tests.care.care_helpers import add_mention, conversation, make_team, set_policy, take

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_next_response_clock_starts_when_the_customer_writes_again(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    set_policy(db, owner, NOW, first=60, next_=30, resolution=600)
    org = owner.actor.organization_id
    first = take(db, settings, add_mention(db, org, external_id="a1", created_at=NOW), NOW)
    assert first is not None
    answered = NOW + timedelta(minutes=20)
    with db.unit_of_work() as session:
        c = session.get(CareConversation, first.conversation_id)
        assert c is not None
        hours, policy = sla.clock_for(session, c)
        sla.we_answered(c, answered, hours, policy)  # what the sender does once a reply is out
    c = conversation(db, first.conversation_id)
    assert c.first_responded_at == answered
    assert c.sla_target == "resolution"
    assert c.sla_due_at == NOW + timedelta(minutes=600)

    again = NOW + timedelta(minutes=40)
    follow_up = add_mention(db, org, external_id="a2", in_reply_to="a1", created_at=again)
    assert take(db, settings, follow_up, again) is not None
    c = conversation(db, first.conversation_id)
    assert c.next_response_due_at == again + timedelta(minutes=30)
    assert c.sla_target == "next_response"
    assert c.sla_due_at == again + timedelta(minutes=30)
    assert c.sla_warn_at == again + timedelta(minutes=22, seconds=30)


def test_breaching_view_lists_soonest_first(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    set_policy(db, owner, NOW, first=30, min_priority=0)
    set_policy(db, owner, NOW, first=240, min_priority=50)
    soon = take(db, settings, add_mention(db, org, handle="@a", priority=10, created_at=NOW), NOW)
    later = take(
        db,
        settings,
        add_mention(db, org, handle="@b", priority=60, created_at=NOW),
        NOW,
    )
    assert soon is not None
    assert later is not None
    with db.reader() as session:
        page = service.list_conversations(
            session, owner.actor, view="breaching", now=NOW + timedelta(minutes=10)
        )
        assert [c.id for c in page.items] == [soon.conversation_id]
        page = service.list_conversations(
            session, owner.actor, view="breaching", now=NOW + timedelta(hours=3, minutes=30)
        )
        assert [c.id for c in page.items] == [soon.conversation_id, later.conversation_id]
        first = service.list_conversations(
            session, owner.actor, view="breaching", now=NOW + timedelta(hours=4), limit=1
        )
        assert first.next_cursor is not None
        rest = service.list_conversations(
            session,
            owner.actor,
            view="breaching",
            now=NOW + timedelta(hours=4),
            limit=1,
            cursor=first.next_cursor,
        )
        assert [c.id for c in rest.items] == [later.conversation_id]
        with pytest.raises(InvalidInput):
            service.list_conversations(session, owner.actor, view="everything")
        found = service.list_conversations(session, owner.actor, q="B")
        assert [c.customer_handle for c in found.items] == ["@b"]


def test_permissions(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    other = make_org(db, name="Other")
    contributor = make_user(db, owner, Role.CONTRIBUTOR)
    agent = make_user(db, owner, Role.AGENT)
    message = take(db, settings, add_mention(db, owner.actor.organization_id, created_at=NOW), NOW)
    assert message is not None
    cid = message.conversation_id
    with db.unit_of_work() as session:
        with pytest.raises(NotFound):
            service.access_conversation(session, other.actor, cid)
        with pytest.raises(Forbidden):
            service.assign(session, contributor.actor, cid, agent.actor.user_id, now=NOW)
        mine = service.assign(session, contributor.actor, cid, contributor.actor.user_id, now=NOW)
        assert mine.assignee_id == contributor.actor.user_id
        with pytest.raises(InvalidInput):
            service.assign(session, owner.actor, cid, other.actor.user_id, now=NOW)
        with pytest.raises(InvalidInput):
            service.set_status(session, agent.actor, cid, "snoozed", now=NOW)


def test_saved_reply_variables(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    message = take(
        db,
        settings,
        add_mention(db, owner.actor.organization_id, handle="@ana", name="Ana", created_at=NOW),
        NOW,
    )
    assert message is not None
    with db.unit_of_work() as session:
        saved = saved_replies.save_saved_reply(
            session,
            owner.actor,
            name="Sorry",
            shortcut="sorry",
            body="Hi {customer.name} ({customer.handle}), {agent.name} here on "
            "{conversation.source}. {unknown} stays; {{braces}} too.",
            now=NOW,
        )
        c = service.access_conversation(session, owner.actor, message.conversation_id)
        text = service.render_saved_reply(saved, c, agent_name="Bo")
        assert text == "Hi Ana (@ana), Bo here on masto. {unknown} stays; {braces} too."
        assert saved_replies.access_saved_reply(session, owner.actor, "sorry").id == saved.id


def test_merge_customers_across_sources(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    m1 = take(db, settings, add_mention(db, org, source="masto", created_at=NOW), NOW)
    m2 = take(db, settings, add_mention(db, org, source="bsky", created_at=NOW), NOW)
    assert m1 is not None
    assert m2 is not None
    keep = conversation(db, m1.conversation_id).customer_id
    gone = conversation(db, m2.conversation_id).customer_id
    assert keep is not None
    assert gone is not None
    with db.unit_of_work() as session:
        customers.merge_customers(session, owner.actor, gone, keep, now=NOW)
    assert conversation(db, m2.conversation_id).customer_id == keep
    with db.reader() as session:
        sources = session.scalars(
            select(CareCustomerIdentity.source).where(CareCustomerIdentity.customer_id == keep)
        ).all()
    assert sorted(sources) == ["bsky", "masto"]
    # A new mention from the merged identity lands on the surviving customer.
    later = NOW + timedelta(days=3)
    m3 = take(db, settings, add_mention(db, org, source="bsky", created_at=later), later)
    assert m3 is not None
    assert conversation(db, m3.conversation_id).customer_id == keep
    with db.reader() as session:
        past = customers.history(session, owner.actor, keep)
    assert {c.id for c in past} == {m1.conversation_id, m2.conversation_id, m3.conversation_id}


def test_moving_to_a_team_applies_its_policy(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    team_id = make_team(db, owner, NOW, name="VIP")
    set_policy(db, owner, NOW, first=60)
    set_policy(db, owner, NOW, first=10, team=team_id)
    message = take(db, settings, add_mention(db, owner.actor.organization_id, created_at=NOW), NOW)
    assert message is not None
    assert conversation(db, message.conversation_id).sla_due_at == NOW + timedelta(minutes=60)
    with db.unit_of_work() as session:
        c = service.update(
            session,
            owner.actor,
            message.conversation_id,
            team_id=team_id,
            tags=["vip", " vip ", ""],
            priority=95,
            now=NOW,
        )
        assert c.tags == ["vip"]
    c = conversation(db, message.conversation_id)
    assert c.team_id == team_id
    assert c.priority == 95
    # Running deadlines keep their instants; the warning follows the team's policy.
    assert c.sla_due_at == NOW + timedelta(minutes=60)
