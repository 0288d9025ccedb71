"""The stored coordination model, crisis mode and `authorize`: defaults, who may switch,
audit rows and events, and that a switch changes the next decision at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from groundswell.governance import service
from groundswell.governance.domain import Action, CoordinationModel, Severity
from groundswell.governance.events import CoordinationModelChanged, CrisisModeChanged
from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Forbidden, InvalidInput
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from tests.builders import make_org, make_user
from tests.governance.gov_helpers import add_unit, join, trained_user

CC = CoordinationModel.COMMAND_AND_CONTROL
EU = CoordinationModel.EMPOWERED_UNITS
DEC = CoordinationModel.DECENTRALIZED


def _events(db: Database, name: str) -> list[dict[str, object]]:
    with db.reader() as session:
        return list(
            session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == name))
        )


def test_default_model_is_empowered_units(db: Database) -> None:
    owner = make_org(db)
    with db.reader() as session:
        assert service.current_model(session, owner.actor.organization_id) is EU
        assert service.crisis_mode(session, owner.actor.organization_id) is False


def test_owner_switches_the_model_audited_and_announced(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    with db.unit_of_work() as session:
        assert service.set_model(session, owner.actor, CC, now=clock.now()) is True
    with db.unit_of_work() as session:
        assert service.set_model(session, owner.actor, CC, now=clock.now()) is False
    with db.reader() as session:
        assert service.current_model(session, owner.actor.organization_id) is CC
        shown = service.coordination_settings(session, owner.actor.organization_id)
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "governance.model.set")
        ).one()
    assert (shown.model, shown.model_changed_by) == (CC, owner.email)
    assert (entry.before, entry.after) == ({"model": EU.value}, {"model": CC.value})
    assert _events(db, CoordinationModelChanged.name) == [
        {"organization_id": owner.actor.organization_id, "model": CC.value, "previous": EU.value}
    ]


def test_admin_needs_an_owner_and_others_are_refused(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    manager = make_user(db, owner, Role.MANAGER)
    with db.unit_of_work() as session, pytest.raises(service.ApprovalRequired):
        service.set_model(session, admin.actor, DEC, now=clock.now())
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        service.set_model(session, manager.actor, DEC, now=clock.now())
    with db.reader() as session:
        assert service.current_model(session, owner.actor.organization_id) is EU


def test_switching_the_model_changes_the_next_decision(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    add_unit(db, owner, "hub", UnitKind.HUB, now)
    join(db, owner, "hub", contributor, Role.CONTRIBUTOR, now)
    needed = {}
    for model in (DEC, CC):
        with db.unit_of_work() as session:
            service.set_model(session, owner.actor, model, now=now)
        with db.reader() as session:
            auth = service.authorize(session, contributor.actor, Action.REPLY_PUBLIC, text="Hi!")
        assert auth.decision.allowed
        assert auth.context.model is model
        needed[model] = auth.decision.approvals_needed
    assert needed == {DEC: 0, CC: 1}


def test_authorize_runs_the_policy_and_blocking_findings_deny(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    with db.reader() as session:
        clean = service.authorize(session, owner.actor, Action.PUBLISH, text="Hello world")
        card = service.authorize(
            session, owner.actor, Action.PUBLISH, text="My card is 4111 1111 1111 1111"
        )
    assert clean.decision.allowed
    assert clean.findings == ()
    assert card.blocked
    assert not card.decision.allowed
    assert any(f.severity is Severity.BLOCK for f in card.findings)
    assert "no approval can override" in card.decision.reason


def test_authorize_network_limits_and_unknown_networks(db: Database) -> None:
    owner = make_org(db)
    with db.reader() as session:
        long = service.authorize(session, owner.actor, Action.PUBLISH, text="a" * 400, network="x")
        unknown = service.authorize(
            session, owner.actor, Action.PUBLISH, text="a" * 400, network="not-a-network"
        )
    assert long.findings
    assert unknown.findings == ()


def test_untrained_contributor_is_refused(db: Database) -> None:
    owner = make_org(db)
    contributor = make_user(db, owner, Role.CONTRIBUTOR)
    with db.reader() as session:
        auth = service.authorize(session, contributor.actor, Action.REPLY_PUBLIC, text="Hi")
        assert service.actor_for(session, contributor.actor).trained is False
    assert not auth.decision.allowed
    assert "guidelines" in auth.decision.reason


def test_no_stored_model_lets_an_untrained_contributor_speak(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    contributor = make_user(db, owner, Role.CONTRIBUTOR)
    content = (Action.PUBLISH, Action.REPLY_PUBLIC, Action.REPLY_PRIVATE, Action.REPLY_CRISIS)
    for model in CoordinationModel:
        with db.unit_of_work() as session:
            service.set_model(session, owner.actor, model, now=clock.now())
        with db.reader() as session:
            for action in content:
                auth = service.authorize(session, contributor.actor, action, text="Hi")
                assert not auth.decision.allowed, (model, action)


def test_account_unit_resolves_names_and_keys(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    agent = trained_user(db, owner, Role.AGENT, now)
    add_unit(db, owner, "retail", UnitKind.BUSINESS_UNIT, now, name="Retail Banking")
    join(db, owner, "retail", agent, Role.AGENT, now)
    with db.reader() as session:
        own = service.authorize(
            session, agent.actor, Action.REPLY_PUBLIC, text="Hi", account_unit="Retail Banking"
        )
        hub = service.authorize(session, agent.actor, Action.REPLY_PUBLIC, text="Hi")
    assert own.context.account_unit == "retail"
    assert own.decision.approvals_needed == 0
    assert not hub.decision.allowed  # the hub's own account: not this agent's unit


def test_crisis_mode_switch(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    manager = make_user(db, owner, Role.MANAGER)
    agent = make_user(db, owner, Role.AGENT)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        service.set_crisis_mode(session, agent.actor, True, reason="x", now=now)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="why"):
        service.set_crisis_mode(session, manager.actor, True, reason="  ", now=now)
    with db.unit_of_work() as session:
        service.set_crisis_mode(session, manager.actor, True, reason="Outage", now=now)
    org = owner.actor.organization_id
    with db.reader() as session:
        assert service.crisis_mode(session, org)
        shown = service.coordination_settings(session, org)
        # Decentralized would let a trained contributor reply at once; crisis mode does not.
        auth = service.authorize(session, contributor.actor, Action.REPLY_PUBLIC, text="Hi")
    assert (shown.crisis_reason, shown.crisis_changed_by) == ("Outage", manager.email)
    assert auth.context.crisis
    assert auth.decision.approvals_needed >= 1
    with db.unit_of_work() as session:
        service.set_crisis_mode(session, manager.actor, False, reason="", now=now)
    with db.reader() as session:
        assert not service.crisis_mode(session, org)
        audits = list(
            session.scalars(
                select(AuditEntry.after).where(AuditEntry.action == "governance.crisis_mode.set")
            )
        )
    assert audits == [
        {"crisis_mode": True, "reason": "Outage"},
        {"crisis_mode": False, "reason": ""},
    ]
    assert [e["on"] for e in _events(db, CrisisModeChanged.name)] == [True, False]
