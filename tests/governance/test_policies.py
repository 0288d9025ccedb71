"""Stored policy versions: current policy and engine, saving (gated by decide(EDIT_POLICY),
audited, announced), the version history with authors, and the diff between versions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from groundswell.governance import policies, policy_versions, service
from groundswell.governance.domain import CoordinationModel
from groundswell.governance.policy import Policy, starter_policy
from groundswell.governance.policy_tables import PolicyVersion
from groundswell.governance.service import ApprovalRequired
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Forbidden, InvalidInput, NotFound
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from tests.builders import Person, make_org, make_user


def with_rule(policy: Policy, rule_id: str, terms: list[str], severity: str = "block") -> Policy:
    data = policy.model_dump(mode="json")
    data["rules"].append(
        {
            "id": rule_id,
            "kind": "terms",
            "guideline": "confidentiality",
            "severity": severity,
            "message": "“{match}” is confidential.",
            "terms": terms,
        }
    )
    return Policy.model_validate(data)


def save(
    db: Database, who: Person, policy: Policy, clock: FrozenClock, *, major: bool = False
) -> str:
    clock.advance(timedelta(minutes=1))
    with db.unit_of_work() as session:
        row = policy_versions.save_version(
            session, who.actor, policy, major=major, note="test change", now=clock.now()
        )
        return row.version


def test_an_organization_without_versions_uses_the_starter_policy(db: Database) -> None:
    owner = make_org(db)
    with db.reader() as session:
        org = owner.actor.organization_id
        assert policies.current_policy(session, org) == starter_policy()
        current = policies.current_version(session, org)
        assert (current.id, current.version) == (None, "1.0")
        engine = policies.current_engine(session, org)
        assert engine is policies.current_engine(session, org)  # cached
        assert policy_versions.list_versions(session, owner.actor).items == []


def test_saving_makes_versions_with_author_note_and_numbers(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    first = with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"])
    assert save(db, owner, first, clock) == "1.1"
    second = with_rule(first, "confidentiality.quux", ["quux"], "warn")
    assert save(db, admin, second, clock, major=True) == "2.0"
    third = with_rule(second, "confidentiality.frob", ["frob"])
    assert save(db, owner, third, clock) == "2.1"

    with db.reader() as session:
        org = owner.actor.organization_id
        page = policy_versions.list_versions(session, owner.actor)
        assert [(v.version, v.author, v.current, v.previous) for v in page.items] == [
            ("2.1", owner.email, True, "2.0"),
            ("2.0", admin.email, False, "1.1"),
            ("1.1", owner.email, False, "starter"),
        ]
        assert all(v.note == "test change" for v in page.items)
        current = policies.current_policy(session, org)
        assert current.version == "2.1.0"  # the stored document carries its number
        assert [r.id for r in current.rules][-3:] == [
            "confidentiality.zorblax",
            "confidentiality.quux",
            "confidentiality.frob",
        ]
        findings = policies.current_engine(session, org).check("the frob is ready")
        assert [(f.rule, f.start, f.end) for f in findings] == [("confidentiality.frob", 4, 8)]
        # one page at a time
        first_page = policy_versions.list_versions(session, owner.actor, limit=2)
        assert [v.version for v in first_page.items] == ["2.1", "2.0"]
        assert first_page.items[-1].previous == "1.1"
        rest = policy_versions.list_versions(
            session, owner.actor, limit=2, cursor=first_page.next_cursor
        )
        assert [v.version for v in rest.items] == ["1.1"]
        assert rest.next_cursor is None


def test_engine_cache_follows_the_current_version(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    with db.reader() as session:
        before = policies.current_engine(session, org)
    save(db, owner, with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"]), clock)
    with db.reader() as session:
        after = policies.current_engine(session, org)
        assert after is not before
        assert after is policies.current_engine(session, org)
        assert after.blocked(after.check("zorblax launches"))


def test_a_save_is_audited_and_announced(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    save(db, owner, with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"]), clock)
    with db.reader() as session:
        row = session.scalars(select(PolicyVersion)).one()
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "governance.policy.saved")
        ).one()
        assert entry.object_id == row.id
        assert entry.actor_id == owner.actor.user_id
        assert entry.after is not None
        assert entry.after["version"] == "1.1"
        assert entry.after["changes"] == ["+ rule confidentiality.zorblax"]
        event = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "governance.policy_version_saved")
        ).one()
        assert event.payload == {
            "organization_id": owner.actor.organization_id,
            "version": "1.1",
            "major": False,
        }


def test_a_major_version_notifies_every_member(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    policy = with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"])
    save(db, owner, policy, clock)  # minor: nobody is told
    with db.reader() as session:
        assert session.scalars(select(Notification)).all() == []
    save(db, owner, with_rule(policy, "confidentiality.quux", ["quux"]), clock, major=True)
    with db.reader() as session:
        notes = session.scalars(select(Notification)).all()
        assert {n.user_id for n in notes} == {owner.actor.user_id, agent.actor.user_id}
        assert all(n.link == "/governance/training" and "2.0" in n.title for n in notes)


@pytest.mark.parametrize(
    ("model", "role", "refusal"),
    [
        (CoordinationModel.EMPOWERED_UNITS, Role.VIEWER, Forbidden),
        (CoordinationModel.EMPOWERED_UNITS, Role.CONTRIBUTOR, Forbidden),
        (CoordinationModel.EMPOWERED_UNITS, Role.AGENT, Forbidden),
        # a hub manager's change needs an owner's or admin's approval
        (CoordinationModel.EMPOWERED_UNITS, Role.MANAGER, ApprovalRequired),
        (CoordinationModel.DECENTRALIZED, Role.MANAGER, ApprovalRequired),
        (CoordinationModel.COMMAND_AND_CONTROL, Role.MANAGER, Forbidden),
    ],
)
def test_only_those_the_model_allows_may_save(
    db: Database,
    clock: FrozenClock,
    model: CoordinationModel,
    role: Role,
    refusal: type[Exception],
) -> None:
    owner = make_org(db)
    person = make_user(db, owner, role)
    with db.unit_of_work() as session:
        service.set_model(session, owner.actor, model, now=clock.now())
    policy = with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"])
    with pytest.raises(refusal), db.unit_of_work() as session:
        policy_versions.save_version(
            session, person.actor, policy, major=False, note="mine", now=clock.now()
        )
    with db.reader() as session:
        assert session.scalars(select(PolicyVersion)).all() == []


def test_nothing_changed_or_no_note_is_refused(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    policy = with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"])
    save(db, owner, policy, clock)
    with pytest.raises(InvalidInput, match="Nothing changed"), db.unit_of_work() as session:
        policy_versions.save_version(
            session, owner.actor, policy, major=False, note="again", now=clock.now()
        )
    with pytest.raises(InvalidInput, match="note"), db.unit_of_work() as session:
        policy_versions.save_version(
            session, owner.actor, starter_policy(), major=False, note="  ", now=clock.now()
        )


def test_diff_names_rules_added_removed_and_changed_fields(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    base = with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"])
    save(db, owner, base, clock)
    data = base.model_dump(mode="json")
    data["rules"] = [r for r in data["rules"] if r["id"] != "competitors.mentions"]
    for rule in data["rules"]:
        if rule["id"] == "confidentiality.zorblax":
            rule["terms"] = ["zorblax", "quux"]
            rule["severity"] = "warn"
    data["networks"]["x"]["max_chars"] = 300
    save(db, owner, Policy.model_validate(data), clock)

    with db.reader() as session:
        result = policy_versions.diff_versions(session, owner.actor, "1.1", "1.2")
        assert (result.old_version, result.new_version) == ("1.1", "1.2")
        assert [c.line for c in result.changes] == [
            "- rule competitors.mentions",
            "~ rule confidentiality.zorblax: severity, terms",
            "~ network x: max_chars",
        ]
        terms = result.changes[1].fields[1]
        assert (terms.added, terms.removed) == (["quux"], [])
        severity = result.changes[1].fields[0]
        assert (severity.before, severity.after) == ("block", "warn")
        from_starter = policy_versions.diff_versions(session, owner.actor, "starter", "1.1")
        assert [c.line for c in from_starter.changes] == ["+ rule confidentiality.zorblax"]
        backwards = policy_versions.diff_versions(session, owner.actor, "1.2", "starter")
        assert "+ rule competitors.mentions" in [c.line for c in backwards.changes]
        with pytest.raises(NotFound):
            policy_versions.diff_versions(session, owner.actor, "1.1", "9.9")


def test_versions_are_scoped_to_the_organization(db: Database, clock: FrozenClock) -> None:
    acme = make_org(db)
    globex = make_org(db, "Globex")
    save(db, acme, with_rule(starter_policy(), "confidentiality.zorblax", ["zorblax"]), clock)
    with db.reader() as session:
        assert policy_versions.list_versions(session, globex.actor).items == []
        with pytest.raises(NotFound):
            policy_versions.access_version(session, globex.actor, "1.1")
        acme_id = session.scalars(select(PolicyVersion.id)).one()
        with pytest.raises(NotFound):
            policy_versions.access_version(session, globex.actor, acme_id)
        assert policies.current_policy(session, globex.actor.organization_id) == starter_policy()


def test_parse_document_reads_json_and_toml_and_names_the_problem() -> None:
    policy = policy_versions.parse_document(
        'name = "Mini"\nversion = "1.0.0"\n\n[[rules]]\nid = "r.one"\nkind = "terms"\n'
        'severity = "warn"\nmessage = "no {match}"\nterms = ["foo"]\n'
    )
    assert [r.id for r in policy.rules] == ["r.one"]
    assert policy_versions.parse_document(policy.model_dump_json()) == policy
    with pytest.raises(InvalidInput, match=r"not valid JSON.*line 1"):
        policy_versions.parse_document('{"name": ')
    with pytest.raises(InvalidInput, match="not valid TOML"):
        policy_versions.parse_document("name = ")
    with pytest.raises(InvalidInput, match=r"rules\.0\.terms.*(list|array)"):
        policy_versions.parse_document(
            '{"name":"x","version":"1.0.0","rules":[{"id":"a","kind":"terms",'
            '"severity":"warn","message":"m","terms":"oops"}]}'
        )
    with pytest.raises(InvalidInput, match="empty"):
        policy_versions.parse_document("   ")
