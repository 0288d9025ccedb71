"""The brand-account registry's use cases: registration, roles, orphan risks, hand-over,
the deactivation guard, organization isolation, secrets never leaking."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from groundswell.governance import accounts, units
from groundswell.governance.accounts import AccountRole, PersonRef, orphan_risks
from groundswell.governance.tables import AccountCredential, UnitMember
from groundswell.governance.units import UnitKind
from groundswell.governance.vault import ENV_VAR, Vault
from groundswell.identity import service
from groundswell.identity.domain import Role
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.kernel.settings import Settings
from tests.builders import Person, make_org, make_user

SECRET = "Tr0ub4dor&3-brand-password"


@pytest.fixture(autouse=True)
def _no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_VAR, raising=False)


def _p(email: str, active: bool = True) -> PersonRef:
    return PersonRef(id=email, email=email, name=email, active=active)


def _codes(risks: list[accounts.Risk]) -> list[str]:
    return [r.code for r in risks]


# ------------------------------------------------------------------ pure orphan rules


def test_orphan_risks_cases() -> None:
    a, b, c = _p("a@x"), _p("b@x"), _p("c@x")
    assert orphan_risks(a, [b, c]) == []
    assert _codes(orphan_risks(None, [b, c])) == ["no_business_owner"]
    assert _codes(orphan_risks(_p("a@x", False), [b, c])) == ["inactive_business_owner"]
    assert _codes(orphan_risks(a, [b])) == ["single_admin"]
    assert _codes(orphan_risks(a, [])) == ["no_admin"]
    # A deactivated admin does not count: one active admin left, plus the named risk.
    assert _codes(orphan_risks(a, [b, _p("d@x", False)])) == ["single_admin", "inactive_admin"]
    assert _codes(orphan_risks(a, [b, c], _p("e@x", False))) == ["inactive_employee"]
    assert "d@x" in orphan_risks(a, [b, c, _p("d@x", False)])[0].message


# ------------------------------------------------------------------ registry


def _team(db: Database) -> tuple[Person, Person, Person, Person]:
    owner = make_org(db)
    return (
        owner,
        make_user(db, owner, Role.ADMIN),
        make_user(db, owner, Role.MANAGER),
        make_user(db, owner, Role.AGENT),
    )


def test_register_an_account_with_owner_admins_and_audit(db: Database) -> None:
    _owner, admin, manager, agent = _team(db)
    with db.unit_of_work() as session:
        account = accounts.create_account(
            session,
            admin.actor,
            network="Instagram",
            handle="@AcmeCoffee",
            url="https://instagram.com/acmecoffee",
            unit="Marketing DACH",
            purpose="Product news",
            business_owner=manager.email,
            admins=[agent.email, admin.email],
        )
        info = accounts.describe(session, [account])[0]
    assert (info.network, info.handle) == ("instagram", "AcmeCoffee")
    assert info.business_owner is not None
    assert info.business_owner.email == manager.email
    assert sorted(p.email for p in info.admins) == sorted([agent.email, admin.email])
    assert info.risks == []
    with db.reader() as session:
        rows = [r for r in audit.iter_chain(session) if r.action == "brand_account.create"]
        assert len(rows) == 1
        assert rows[0].object_id == account.id
        # The same handle (any case, with or without @) cannot be registered twice.
    with db.unit_of_work() as session, pytest.raises(Conflict):
        accounts.create_account(session, admin.actor, network="instagram", handle="acmecoffee")
    with db.reader() as session:
        assert accounts.access_account(session, agent.actor, "instagram:@acmecoffee").id == (
            account.id
        )


def test_fewer_than_two_admins_is_allowed_with_a_warning(db: Database) -> None:
    owner, admin, _manager, _agent = _team(db)
    with db.unit_of_work() as session:
        account = accounts.create_account(
            session, owner.actor, network="x", handle="acme", admins=[admin.email]
        )
        info = accounts.describe(session, [account])[0]
    assert _codes(info.risks) == ["no_business_owner", "single_admin"]


def test_personal_brand_needs_the_ownership_agreement(db: Database) -> None:
    owner, _admin, _manager, agent = _team(db)
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="agreement"):
        accounts.create_account(
            session, owner.actor, network="linkedin", handle="jane", employee=agent.email
        )
    with db.unit_of_work() as session:
        account = accounts.create_account(
            session,
            owner.actor,
            network="linkedin",
            handle="jane",
            employee=agent.email,
            ownership_agreement="Account stays with Jane; followers are hers.",
        )
        info = accounts.describe(session, [account])[0]
    assert info.personal_brand is not None
    assert info.personal_brand.employee.email == agent.email
    assert "Jane" in info.personal_brand.ownership_agreement


def test_who_may_do_what(db: Database, settings: Settings) -> None:
    owner, admin, manager, agent = _team(db)
    viewer = make_user(db, owner, Role.VIEWER)
    with db.unit_of_work() as session:
        for person in (manager, agent, viewer):
            with pytest.raises(Forbidden):
                accounts.create_account(session, person.actor, network="x", handle="nope")
        account = accounts.create_account(
            session, admin.actor, network="x", handle="acme", admins=[agent.email]
        )
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        # Everyone in the organization may read the registry.
        assert [a.id for a in accounts.list_accounts(session, viewer.actor)] == [account.id]
        with pytest.raises(Forbidden):
            accounts.grant(session, manager.actor, account.id, viewer.email)
        # The account's own admin may set its credentials; a manager who is not may not.
        accounts.set_credential(session, agent.actor, vault, account.id, "password", SECRET)
        with pytest.raises(Forbidden):
            accounts.set_credential(session, manager.actor, vault, account.id, "password", "x")
        with pytest.raises(Forbidden):
            accounts.handover(session, manager.actor, agent.email, admin.email)


def test_grant_and_revoke_roles(db: Database) -> None:
    owner, admin, manager, agent = _team(db)
    with db.unit_of_work() as session:
        account = accounts.create_account(session, owner.actor, network="x", handle="acme")
        accounts.grant(session, owner.actor, "x:acme", admin.email)
        accounts.grant(session, owner.actor, "x:acme", agent.email)
        accounts.grant(session, owner.actor, "x:acme", admin.email)  # twice: no duplicate
        accounts.grant(session, owner.actor, "x:acme", manager.email, AccountRole.OWNER)
        info = accounts.describe(session, [account])[0]
        assert sorted(p.email for p in info.admins) == sorted([admin.email, agent.email])
        assert info.business_owner is not None
        assert info.business_owner.email == manager.email
        assert info.risks == []
        accounts.revoke(session, owner.actor, account.id, agent.email)
        accounts.revoke(session, owner.actor, account.id, manager.email, AccountRole.OWNER)
        with pytest.raises(NotFound):
            accounts.revoke(session, owner.actor, account.id, agent.email)
        info = accounts.describe(session, [account])[0]
        assert _codes(info.risks) == ["no_business_owner", "single_admin"]
    with db.reader() as session:
        actions = [r.action for r in audit.iter_chain(session) if r.object_id == account.id]
    assert actions.count("brand_account.grant_admin") == 2
    assert "brand_account.grant_owner" in actions
    assert "brand_account.revoke_admin" in actions
    assert "brand_account.revoke_owner" in actions


def test_orphan_report_lists_single_admin_deactivated_admin_and_no_owner(db: Database) -> None:
    owner, admin, manager, agent = _team(db)
    other = make_user(db, owner, Role.AGENT)
    with db.unit_of_work() as session:
        healthy = accounts.create_account(
            session,
            owner.actor,
            network="x",
            handle="healthy",
            business_owner=manager.email,
            admins=[admin.email, agent.email],
        )
        one = accounts.create_account(
            session,
            owner.actor,
            network="x",
            handle="one-admin",
            business_owner=manager.email,
            admins=[admin.email],
        )
        gone = accounts.create_account(
            session,
            owner.actor,
            network="x",
            handle="gone-admin",
            business_owner=manager.email,
            admins=[admin.email, other.email],
        )
        ownerless = accounts.create_account(
            session,
            owner.actor,
            network="x",
            handle="no-owner",
            admins=[admin.email, agent.email],
        )
    with db.unit_of_work() as session:
        # Deactivate `other` by force (they still hold gone-admin): the report must show it.
        service.deactivate_user(session, owner.actor, other.email, force_reason="left abruptly")
    with db.reader() as session:
        report = {i.id: _codes(i.risks) for i in accounts.orphan_report(session, owner.actor)}
    assert healthy.id not in report
    assert report[one.id] == ["single_admin"]
    assert report[gone.id] == ["single_admin", "inactive_admin"]
    assert report[ownerless.id] == ["no_business_owner"]


def test_deactivation_is_refused_until_hand_over_or_forced_with_a_reason(db: Database) -> None:
    owner, admin, manager, agent = _team(db)
    with db.unit_of_work() as session:
        accounts.create_account(
            session, owner.actor, network="x", handle="acme", admins=[agent.email, admin.email]
        )
    with db.unit_of_work() as session, pytest.raises(Conflict) as info:
        service.deactivate_user(session, owner.actor, agent.email)
    assert "x:acme" in info.value.message
    assert agent.email in info.value.message
    with db.unit_of_work() as session:
        service.deactivate_user(session, owner.actor, manager.email)  # holds nothing: fine
    with db.unit_of_work() as session:
        service.deactivate_user(session, owner.actor, agent.email, force_reason="left today")
    with db.reader() as session:
        row = [r for r in audit.iter_chain(session) if r.action == "user.deactivate"][-1]
        assert row.after is not None
        assert row.after["forced"] == "left today"
        assert "x:acme" in " ".join(row.after["objections"])


def test_handover_moves_everything_flags_credentials_and_audits(
    db: Database, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    owner, admin, manager, leaver = _team(db)
    successor = make_user(db, owner, Role.AGENT)
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        owned = accounts.create_account(
            session,
            owner.actor,
            network="x",
            handle="owned",
            business_owner=leaver.email,
            admins=[admin.email, successor.email],
        )
        administered = accounts.create_account(
            session,
            owner.actor,
            network="instagram",
            handle="administered",
            business_owner=manager.email,
            admins=[leaver.email, admin.email],
        )
        personal = accounts.create_account(
            session,
            owner.actor,
            network="linkedin",
            handle="leaver-personal",
            employee=leaver.email,
            ownership_agreement="Company keeps the account.",
            admins=[admin.email, manager.email],
            business_owner=manager.email,
        )
        untouched = accounts.create_account(
            session,
            owner.actor,
            network="tiktok",
            handle="untouched",
            business_owner=manager.email,
            admins=[admin.email, manager.email],
        )
        accounts.set_credential(session, leaver.actor, vault, administered.id, "password", SECRET)
        accounts.set_credential(session, admin.actor, vault, owned.id, "api-token", SECRET + "2")
        accounts.set_credential(session, admin.actor, vault, personal.id, "password", SECRET + "3")
        accounts.set_credential(session, admin.actor, vault, untouched.id, "password", "other1")

    with db.reader() as session:
        preview = accounts.handover(
            session, owner.actor, leaver.email, successor.email, apply=False
        )
    kinds = sorted((i.kind, i.account) for i in preview.items)
    assert kinds == [
        ("admin", "instagram:administered"),
        ("business_owner", "x:owned"),
        ("credential", "instagram:administered"),
        ("personal_brand", "linkedin:leaver-personal"),
    ]
    with db.reader() as session:  # the preview changed nothing
        still = session.get(User, leaver.actor.user_id)
        assert still is not None
        assert accounts.holdings_reason(session, still) is not None

    with db.unit_of_work() as session:
        done = accounts.handover(session, owner.actor, leaver.email, successor.email)
    assert done.applied
    assert sorted(done.credentials_flagged) == [
        "instagram:administered/password",
        "linkedin:leaver-personal/password",
        "x:owned/api-token",
    ]
    with db.reader() as session:
        infos = {
            i.id: i
            for i in accounts.describe(session, accounts.list_accounts(session, owner.actor))
        }
        leaver_user = session.get(User, leaver.actor.user_id)
        assert leaver_user is not None
        assert accounts.holdings_reason(session, leaver_user) is None
    new_owner = infos[owned.id].business_owner
    assert new_owner is not None
    assert new_owner.email == successor.email
    assert sorted(p.email for p in infos[administered.id].admins) == sorted(
        [admin.email, successor.email]
    )
    cred = infos[administered.id].credentials[0]
    assert cred.custodian is not None
    assert cred.custodian.email == successor.email
    assert cred.needs_rotation
    assert leaver.email in (cred.rotation_reason or "")
    assert infos[personal.id].credentials[0].needs_rotation
    personal_brand = infos[personal.id].personal_brand
    assert personal_brand is not None
    assert personal_brand.employee.email == leaver.email
    assert not infos[untouched.id].credentials[0].needs_rotation
    # Every secret is still readable (hand-over re-encrypts nothing, loses nothing).
    with db.reader() as session:
        assert accounts.reveal_credential(session, vault, administered.id, "password") == SECRET

    with db.reader() as session:
        rows = list(audit.iter_chain(session))
        assert audit.verify_chain(session).ok
    actions = [r.action for r in rows]
    assert actions.count("brand_account.flag_rotation") == 3
    assert actions.count("brand_account.handover") == 2  # owned, administered
    summary = [r for r in rows if r.action == "user.handover"]
    assert len(summary) == 1
    assert summary[0].object_id == leaver.actor.user_id
    assert summary[0].after is not None
    assert summary[0].after["to"] == successor.email
    dump = json.dumps([[r.before, r.after] for r in rows], default=str)
    assert SECRET not in dump
    assert SECRET not in caplog.text

    # The leaver can now be deactivated without force.
    with db.unit_of_work() as session:
        service.deactivate_user(session, owner.actor, leaver.email)

    # Setting the credential again clears the rotation flag.
    with db.unit_of_work() as session:
        accounts.set_credential(
            session, successor.actor, vault, administered.id, "password", "n3w!"
        )
        again = accounts.describe(
            session, [accounts.access_account(session, owner.actor, administered.id)]
        )
    assert not again[0].credentials[0].needs_rotation


def test_handover_refuses_nonsense(db: Database) -> None:
    owner, admin, _manager, agent = _team(db)
    other_org = make_org(db, "Other")
    with db.unit_of_work() as session:
        with pytest.raises(InvalidInput):
            accounts.handover(session, owner.actor, agent.email, agent.email)
        with pytest.raises(NotFound):
            accounts.handover(session, owner.actor, agent.email, other_org.email)
    with db.unit_of_work() as session:
        service.deactivate_user(session, owner.actor, admin.email)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        accounts.handover(session, owner.actor, agent.email, admin.email)


def test_organizations_never_see_each_others_accounts(db: Database, settings: Settings) -> None:
    acme = make_org(db, "Acme")
    globex = make_org(db, "Globex")
    globex_admin = make_user(db, globex, Role.ADMIN)
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        theirs = accounts.create_account(session, globex.actor, network="x", handle="globex")
        # The same handle may exist in another organization.
        ours = accounts.create_account(session, acme.actor, network="x", handle="globex")
    with db.unit_of_work() as session:
        assert [a.id for a in accounts.list_accounts(session, acme.actor)] == [ours.id]
        for call in (
            lambda: accounts.access_account(session, acme.actor, theirs.id),
            lambda: accounts.grant(session, acme.actor, theirs.id, acme.email),
            lambda: accounts.set_credential(session, acme.actor, vault, theirs.id, "p", "x"),
            lambda: accounts.grant(session, acme.actor, ours.id, globex_admin.email),
            lambda: accounts.create_account(
                session, acme.actor, network="x", handle="y", admins=[globex_admin.email]
            ),
        ):
            with pytest.raises(NotFound):
                call()
        assert accounts.orphan_report(session, acme.actor)[0].id == ours.id


def test_no_secret_in_any_table(db: Database, settings: Settings) -> None:
    """Search every row of every table for the secret, whatever the database."""
    owner, _admin, _manager, _agent = _team(db)
    with db.unit_of_work() as session:
        account = accounts.create_account(session, owner.actor, network="x", handle="acme")
        accounts.set_credential(
            session, owner.actor, Vault.open(settings.data_dir), account.id, "password", SECRET
        )
    from groundswell.kernel.db import Base

    with db.reader() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                assert SECRET not in repr(tuple(row)), table.name
        stored = session.execute(select(AccountCredential.ciphertext)).scalar_one()
    assert Vault.open(settings.data_dir).decrypt(stored) == SECRET
    key = Path(settings.data_dir / "vault.key").read_text().strip()
    with db.reader() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                assert key not in repr(tuple(row)), table.name


def test_handover_moves_unit_roles_capped_at_the_successors_role(db: Database) -> None:
    owner = make_org(db)
    leaver = make_user(db, owner, Role.MANAGER)
    successor = make_user(db, owner, Role.AGENT)
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    with db.unit_of_work() as session:
        hub = units.create_unit(session, owner.actor, name="Hub", kind=UnitKind.HUB, now=now)
        units.set_member(session, owner.actor, hub.id, leaver.email, Role.MANAGER, now=now)
    with db.unit_of_work() as session:
        preview = accounts.handover(
            session, owner.actor, leaver.email, successor.email, apply=False
        )
        assert [(i.kind, i.account) for i in preview.items] == [("unit_role", "unit:hub")]
        # Unit roles never block deactivation on their own; brand accounts do.
        leaver_row = session.get(User, leaver.actor.user_id)
        assert leaver_row is not None
        assert accounts.holdings_reason(session, leaver_row) is None
        accounts.handover(session, owner.actor, leaver.email, successor.email)
    with db.reader() as session:
        members = {
            (m.user_id, m.role)
            for m in session.scalars(select(UnitMember).where(UnitMember.unit_id == hub.id))
        }
        actions = [e.action for e in audit.iter_chain(session)]
    # An agent cannot hold the manager role in a unit: capped at their organization role.
    assert members == {(successor.actor.user_id, Role.AGENT.value)}
    assert "governance_unit.handover" in actions
