"""Crisis mode and holding statements: governance obeys the switch (a contributor's public
reply needs approval), the switch reaches incident timelines, statements follow approvals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from groundswell.crisis import service, statements
from groundswell.crisis.tables import HoldingStatement, TimelineEntry
from groundswell.governance import approvals
from groundswell.governance.domain import Action
from groundswell.governance.events import CrisisModeChanged
from groundswell.governance.service import authorize, crisis_mode, set_crisis_mode
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.handlers_index import import_all_handlers
from groundswell.kernel.settings import Settings
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from tests.builders import make_org, make_user
from tests.governance.gov_helpers import trained_user

import_all_handlers()


def test_a_contributors_reply_needs_approval_during_crisis_mode(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    owner = make_org(db)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, clock.now())
    manager = make_user(db, owner, Role.MANAGER)
    text = "We are sorry to hear that; we are looking into it."
    with db.reader() as session:
        before = {
            p.email: authorize(session, p.actor, Action.REPLY_PUBLIC, text=text).decision
            for p in (contributor, owner)
        }
    assert before[owner.email].allowed
    assert before[owner.email].approvals_needed == 0

    with db.unit_of_work() as session:
        incident = service.open_incident(
            session, manager.actor, title="Outage", kind="outage", severity="sev2", now=clock.now()
        )
        incident_id = incident.id
        set_crisis_mode(session, manager.actor, True, reason="Outage trending", now=clock.now())
    Dispatcher(db, clock=clock).dispatch_pending()

    with db.reader() as session:
        assert crisis_mode(session, owner.actor.organization_id)
        during = {
            p.email: authorize(session, p.actor, Action.REPLY_PUBLIC, text=text).decision
            for p in (contributor, owner)
        }
        events = session.scalars(
            select(OutboxEvent.payload).where(OutboxEvent.event_type == CrisisModeChanged.name)
        ).all()
        timeline = session.scalars(
            select(TimelineEntry).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "mode"
            )
        ).all()
    assert during[contributor.email].allowed
    assert during[contributor.email].approvals_needed >= 1
    assert during[owner.email].approvals_needed >= 1  # under any model, even the owner
    assert events == [
        {"organization_id": owner.actor.organization_id, "on": True, "reason": "Outage trending"}
    ]
    assert len(timeline) == 1
    assert "Crisis mode ON" in timeline[0].text
    assert timeline[0].at == clock.now()

    with db.unit_of_work() as session:
        set_crisis_mode(session, manager.actor, False, reason="", now=clock.now())
    with db.reader() as session:
        after = authorize(session, owner.actor, Action.REPLY_PUBLIC, text=text).decision
    assert after.approvals_needed == 0


def test_holding_statement_is_approved_through_governance(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    agent = trained_user(db, owner, Role.AGENT, clock.now())
    dispatcher = Dispatcher(db, clock=clock)
    with db.unit_of_work() as session:
        incident = service.open_incident(
            session, manager.actor, title="Recall", kind="safety", severity="sev1", now=clock.now()
        )
        incident_id = incident.id
        set_crisis_mode(session, manager.actor, True, reason="Recall", now=clock.now())
        library = statements.create_statement(
            session,
            agent.actor,
            title="We are looking into it",
            body="We know some of you have problems with your battery. We are looking into it now and will update you within the hour.",
            now=clock.now(),
        )
        used = statements.use_statement(
            session, agent.actor, library.id, incident_id, now=clock.now()
        )
        used_id = used.id
    with db.unit_of_work() as session:
        row = statements.request_statement_approval(session, agent.actor, used_id, now=clock.now())
        assert row.status == "pending"
        assert row.approval_request_id
        request_id = row.approval_request_id
        with pytest.raises(Conflict):
            statements.edit_statement(
                session, agent.actor, used_id, title="x", body="y", now=clock.now()
            )
    dispatcher.dispatch_pending()
    clock.advance(timedelta(minutes=3))
    with db.unit_of_work() as session:
        approvals.approve(session, owner.actor, request_id, now=clock.now())
    dispatcher.dispatch_pending()
    with db.reader() as session:
        row = session.get(HoldingStatement, used_id)
        assert row is not None
        assert row.status == "approved"
        assert row.decided_at == clock.now()
        lib = session.get(HoldingStatement, library.id)
        assert lib is not None
        assert lib.status == "draft"
        texts = session.scalars(
            select(TimelineEntry.text).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "statement"
            )
        ).all()
    assert texts == [
        "Statement drafted: We are looking into it",
        "Statement approved: We are looking into it",
    ]
    with db.reader() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"crisis.statement.create", "crisis.statement.request_approval"} <= actions
    assert "crisis.statement.approved" in actions

    # A rejection sends it back to be edited.
    with db.unit_of_work() as session:
        second = statements.create_statement(
            session,
            agent.actor,
            title="Second",
            body="Another careful holding statement.",
            incident_id=incident_id,
            now=clock.now(),
        )
        second_id = second.id
        request_id = statements.request_statement_approval(
            session, agent.actor, second_id, now=clock.now()
        ).approval_request_id
    with db.unit_of_work() as session:
        assert request_id is not None
        approvals.reject(session, owner.actor, request_id, comment="Too vague", now=clock.now())
    dispatcher.dispatch_pending()
    with db.unit_of_work() as session:
        row = session.get(HoldingStatement, second_id)
        assert row is not None
        assert row.status == "rejected"
        statements.edit_statement(
            session, agent.actor, second_id, title="Second", body="Clearer.", now=clock.now()
        )
        assert row.status == "draft"
