"""Units: the hub, business units and regions, members with a role per unit (never above the
organization role), audited, scoped to the organization; the one-team default."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from groundswell.governance import units
from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role
from groundswell.identity.tables import User
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.kernel.tables import AuditEntry
from tests.builders import make_org, make_user
from tests.governance.gov_helpers import add_unit, join


def test_create_units_and_members(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    now = clock.now()
    add_unit(db, owner, "hub", UnitKind.HUB, now, name="Social team")
    add_unit(db, owner, "emea", UnitKind.REGION, now)
    join(db, owner, "emea", agent, Role.AGENT, now)
    join(db, owner, "hub", agent, Role.CONTRIBUTOR, now)
    with db.reader() as session:
        listed = units.list_units(session, agent.actor)
        assert [(u.key, u.kind) for u in listed] == [
            ("hub", UnitKind.HUB),
            ("emea", UnitKind.REGION),
        ]
        assert [(m.email, m.role) for m in listed[1].members] == [(agent.email, Role.AGENT)]
        assert units.unit_roles(
            session, owner.actor.organization_id, agent.actor.user_id, Role.AGENT
        ) == {
            "hub": Role.CONTRIBUTOR,
            "emea": Role.AGENT,
        }
        actions = list(
            session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("unit.%")))
        )
    assert actions == ["unit.create", "unit.create", "unit.member.set", "unit.member.set"]


def test_changing_and_removing_a_member_is_audited(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    now = clock.now()
    add_unit(db, owner, "retail", UnitKind.BUSINESS_UNIT, now)
    join(db, owner, "retail", manager, Role.AGENT, now)
    join(db, owner, "retail", manager, Role.MANAGER, now)
    with db.unit_of_work() as session:
        units.remove_member(session, owner.actor, "retail", manager.email, now=now)
    with db.reader() as session:
        assert units.list_units(session, owner.actor)[0].members == []
        rows = list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.action.like("unit.member.%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert [r.action for r in rows] == ["unit.member.set", "unit.member.set", "unit.member.remove"]
    assert rows[1].before == {"role": "agent"}
    assert rows[2].before is not None
    assert rows[2].before["user"] == manager.email


def test_a_unit_role_never_exceeds_the_organization_role(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    contributor = make_user(db, owner, Role.CONTRIBUTOR)
    add_unit(db, owner, "north", UnitKind.REGION, clock.now())
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="never exceeds"):
        units.set_member(
            session, owner.actor, "north", contributor.email, Role.MANAGER, now=clock.now()
        )
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="unit role is"):
        units.set_member(
            session, owner.actor, "north", contributor.email, Role.ADMIN, now=clock.now()
        )


def test_a_lowered_organization_role_caps_the_unit_role(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    add_unit(db, owner, "north", UnitKind.REGION, clock.now())
    join(db, owner, "north", manager, Role.MANAGER, clock.now())
    with db.unit_of_work() as session:
        row = session.get(User, manager.actor.user_id)
        assert row is not None
        row.role = Role.AGENT.value
    with db.reader() as session:
        member = units.list_units(session, owner.actor)[0].members[0]
    assert (member.role, member.effective_role) == (Role.MANAGER, Role.AGENT)


def test_only_admins_manage_units(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        units.create_unit(session, manager.actor, name="X", kind=UnitKind.REGION, now=clock.now())


def test_keys_the_hub_and_duplicates(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    with db.unit_of_work() as session:
        unit = units.create_unit(
            session, owner.actor, name="Retail Banking!", kind=UnitKind.BUSINESS_UNIT, now=now
        )
        assert unit.key == "retail-banking"
        hub = units.create_unit(session, owner.actor, name="Central", kind=UnitKind.HUB, now=now)
        assert hub.key == "hub"
    with db.unit_of_work() as session, pytest.raises(Conflict, match="hub already exists"):
        units.create_unit(session, owner.actor, name="Other hub", kind=UnitKind.HUB, now=now)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="hub"):
        units.create_unit(session, owner.actor, name="hub", kind=UnitKind.REGION, now=now)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="key"):
        units.create_unit(
            session, owner.actor, name="Y", kind=UnitKind.REGION, key="Bad Key", now=now
        )
    with db.unit_of_work() as session, pytest.raises(Conflict, match="taken"):
        units.create_unit(
            session, owner.actor, name="Retail banking", kind=UnitKind.REGION, now=now
        )


def test_units_are_scoped_to_the_organization(db: Database, clock: FrozenClock) -> None:
    acme = make_org(db, "Acme")
    other = make_org(db, "Globex")
    stranger = make_user(db, other, Role.AGENT)
    add_unit(db, acme, "north", UnitKind.REGION, clock.now())
    with db.reader() as session:
        assert units.list_units(session, other.actor) == []
        with pytest.raises(NotFound):
            units.access_unit(session, other.actor, "north")
    with db.unit_of_work() as session, pytest.raises(NotFound):
        units.set_member(session, acme.actor, "north", stranger.email, Role.AGENT, now=clock.now())


def test_one_team_until_units_have_members(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    org = owner.actor.organization_id
    with db.reader() as session:
        assert units.unit_roles(session, org, agent.actor.user_id, Role.AGENT) == {
            "hub": Role.AGENT
        }
    add_unit(db, owner, "north", UnitKind.REGION, clock.now())
    join(db, owner, "north", owner, Role.MANAGER, clock.now())
    with db.reader() as session:
        assert units.unit_roles(session, org, agent.actor.user_id, Role.AGENT) == {}


def test_delete_unit(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    add_unit(db, owner, "north", UnitKind.REGION, clock.now())
    join(db, owner, "north", agent, Role.AGENT, clock.now())
    with db.unit_of_work() as session:
        units.delete_unit(session, owner.actor, "north", now=clock.now())
    with db.reader() as session:
        assert units.list_units(session, owner.actor) == []
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "unit.delete")).one()
    assert entry.before is not None
    assert entry.before["members"] == 1


def test_unit_key_for_accounts(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    add_unit(db, owner, "retail", UnitKind.BUSINESS_UNIT, clock.now(), name="Retail Banking")
    org = owner.actor.organization_id
    with db.reader() as session:
        assert units.unit_key_for(session, org, "Retail Banking") == "retail"
        assert units.unit_key_for(session, org, "RETAIL") == "retail"
        assert units.unit_key_for(session, org, "") is None
        assert units.unit_key_for(session, org, "unknown") == "unknown"
