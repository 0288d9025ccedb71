"""The `care.sla` job with a fake clock: warns at 75 %, breaches at the exact due instant,
fires `SlaBreached` exactly once, escalates; the clock pauses while pending the customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from groundswell.care import admin, jobs, service
from groundswell.care.tables import CareConversation
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from tests.builders import Person, make_org, make_user
from tests.care.care_helpers import add_mention, conversation, make_team, set_policy, take

# Monday 2 March 2026, 16:30 in Berlin (UTC+1): half an hour before closing.
START = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
HOURS = "mon-fri 09:00-17:00"


def _setup(db: Database, settings: Settings, escalation: str = "reassign") -> tuple[Person, ...]:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    lead = make_user(db, owner, Role.MANAGER)
    team_id = make_team(
        db,
        owner,
        START,
        name="Berlin",
        timezone="Europe/Berlin",
        business_hours=HOURS,
        escalation=escalation,
        lead=lead.email,
        assignment="manual",
    )
    set_policy(db, owner, START, first=60, next_=30, resolution=480, team=team_id)
    with db.unit_of_work() as session:
        admin.save_rule(
            session,
            owner.actor,
            name="All to Berlin",
            conditions={},
            actions={"team_id": team_id, "assignee_id": agent.actor.user_id},
            now=START,
        )
    return owner, agent, lead


def _open(db: Database, settings: Settings, owner: Person) -> str:
    mention = add_mention(db, owner.actor.organization_id, created_at=START)
    message = take(db, settings, mention, START)
    assert message is not None
    return message.conversation_id


def _events(db: Database, name: str) -> int:
    with db.reader() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(OutboxEvent).where(OutboxEvent.event_type == name)
            )
            or 0
        )


def _kinds(db: Database, person: Person) -> list[str]:
    with db.reader() as session:
        return list(
            session.scalars(
                select(Notification.kind).where(Notification.user_id == person.actor.user_id)
            )
        )


def test_breaches_at_the_exact_instant_and_fires_once(db: Database, settings: Settings) -> None:
    owner, agent, lead = _setup(db, settings)
    conversation_id = _open(db, settings, owner)
    c = conversation(db, conversation_id)
    # 30 business minutes on Monday (to 17:00), 30 on Tuesday: 09:30 Berlin = 08:30 UTC.
    due = datetime(2026, 3, 3, 8, 30, tzinfo=UTC)
    assert c.first_response_due_at == due
    assert c.sla_due_at == due
    # 75 % of 60 minutes: 45 minutes, i.e. Tuesday 09:15 Berlin.
    assert c.sla_warn_at == datetime(2026, 3, 3, 8, 15, tzinfo=UTC)

    clock = FrozenClock(datetime(2026, 3, 3, 8, 14, 59, tzinfo=UTC))
    assert jobs.sla_job(db, clock) == 0
    clock.advance(timedelta(seconds=1))
    assert jobs.sla_job(db, clock) == 1  # the warning
    assert "care.sla_warning" in _kinds(db, agent)
    assert jobs.sla_job(db, clock) == 0

    clock = FrozenClock(due - timedelta(seconds=1))
    assert jobs.sla_job(db, clock) == 0
    assert _events(db, "care.sla_breached") == 0
    clock.advance(timedelta(seconds=1))  # exactly the due instant
    assert jobs.sla_job(db, clock) == 1
    assert _events(db, "care.sla_breached") == 1
    for _ in range(3):
        clock.advance(timedelta(minutes=1))
        assert jobs.sla_job(db, clock) == 0
    assert _events(db, "care.sla_breached") == 1

    c = conversation(db, conversation_id)
    assert c.sla_breached_at == due
    assert c.assignee_id == lead.actor.user_id  # escalated: reassigned to the team lead
    assert "care.sla_breached" in _kinds(db, lead)
    assert "care.sla_breached" in _kinds(db, agent)
    with db.reader() as session:
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.object_id == conversation_id)
        ).all()
    assert "care.conversation.escalate" in actions


def test_notify_escalation_keeps_the_assignee(db: Database, settings: Settings) -> None:
    owner, agent, lead = _setup(db, settings, escalation="notify")
    conversation_id = _open(db, settings, owner)
    jobs.sla_job(db, FrozenClock(datetime(2026, 3, 3, 8, 30, tzinfo=UTC)))
    c = conversation(db, conversation_id)
    assert c.assignee_id == agent.actor.user_id
    assert "care.sla_breached" in _kinds(db, lead)


def test_pending_customer_pauses_the_clock(db: Database, settings: Settings) -> None:
    owner, agent, _lead = _setup(db, settings)
    conversation_id = _open(db, settings, owner)
    paused_at = START + timedelta(minutes=10)  # Monday 16:40 Berlin
    with db.unit_of_work() as session:
        service.set_status(session, agent.actor, conversation_id, "pending_customer", now=paused_at)
    # While paused nothing breaches, although the original deadline passes.
    assert jobs.sla_job(db, FrozenClock(datetime(2026, 3, 3, 8, 45, tzinfo=UTC))) == 0
    resumed_at = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tuesday 10:00 Berlin
    with db.unit_of_work() as session:
        service.set_status(session, agent.actor, conversation_id, "open", now=resumed_at)
    c = conversation(db, conversation_id)
    # Paused 20 business minutes on Monday and 60 on Tuesday: 09:30 + 80 min = 10:50 Berlin.
    assert c.paused_at is None
    assert c.first_response_due_at == datetime(2026, 3, 3, 9, 50, tzinfo=UTC)
    assert c.sla_due_at == c.first_response_due_at
    assert jobs.sla_job(db, FrozenClock(datetime(2026, 3, 3, 9, 49, 59, tzinfo=UTC))) == 1  # warn
    assert jobs.sla_job(db, FrozenClock(datetime(2026, 3, 3, 9, 50, tzinfo=UTC))) == 1  # breach
    assert _events(db, "care.sla_breached") == 1


def test_resolving_stops_the_clock_and_snoozed_wake(db: Database, settings: Settings) -> None:
    owner, agent, _lead = _setup(db, settings)
    first = _open(db, settings, owner)
    with db.unit_of_work() as session:
        service.resolve(session, agent.actor, first, now=START + timedelta(minutes=5))
    c = conversation(db, first)
    assert c.status == "resolved"
    assert c.sla_due_at is None
    assert c.csat_token
    assert jobs.sla_job(db, FrozenClock(START + timedelta(days=30))) == 0
    # Snooze another one until Tuesday 08:00 UTC; the job opens it again then.
    second_mention = add_mention(db, owner.actor.organization_id, handle="@zed", created_at=START)
    message = take(db, settings, second_mention, START)
    assert message is not None
    wake = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    with db.unit_of_work() as session:
        service.set_status(
            session,
            agent.actor,
            message.conversation_id,
            "snoozed",
            snooze_until=wake,
            now=START + timedelta(minutes=1),
        )
    assert jobs.wake_snoozed(db, wake - timedelta(seconds=1)) == 0
    assert jobs.wake_snoozed(db, wake) == 1
    with db.reader() as session:
        status = session.scalar(
            select(CareConversation.status).where(CareConversation.id == message.conversation_id)
        )
    assert status == "open"
