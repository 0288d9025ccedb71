"""A hub manager's policy change (outside command and control) waits for an owner's or
admin's approval: granted, it becomes the current version authored by the manager; rejected,
the draft is closed with the reason; nobody approves their own change."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.governance import approvals, policies, policy_drafts, policy_versions
from groundswell.governance.policy import Policy, starter_policy
from groundswell.governance.policy_tables import PolicyDraft, PolicyVersion
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden
from groundswell.kernel.events import Dispatcher
from tests.builders import Person, csrf_from, login, make_org, make_user


def changed(term: str) -> Policy:
    data = starter_policy().model_dump(mode="json")
    data["rules"][0]["terms"] = [*data["rules"][0]["terms"], term]
    return Policy.model_validate(data)


def propose(db: Database, who: Person, clock: FrozenClock, term: str) -> tuple[str, str]:
    with db.unit_of_work() as session:
        draft = policy_drafts.propose(
            session, who.actor, changed(term), major=True, note=f"add {term}", now=clock.now()
        )
        request = approvals.pending_for_subject(
            session, who.actor.organization_id, policy_drafts.SUBJECT, draft.id
        )
        assert request is not None
        return draft.id, request.id


def test_a_granted_proposal_becomes_the_current_version(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    draft_id, request_id = propose(db, manager, clock, "zorblax")
    with db.reader() as session:
        assert policies.current_version(session, owner.actor.organization_id).id is None
    with pytest.raises(Forbidden), db.unit_of_work() as session:
        approvals.approve(session, manager.actor, request_id, now=clock.now())
    clock.advance(timedelta(hours=1))
    with db.unit_of_work() as session:
        approvals.approve(session, owner.actor, request_id, comment="fine", now=clock.now())
    Dispatcher(db, clock=clock).dispatch_pending()
    with db.reader() as session:
        version = session.scalars(select(PolicyVersion)).one()
        assert (version.version, version.author_label, version.note) == (
            "2.0",
            manager.email,
            "add zorblax",
        )
        assert version.created_at == clock.now()
        draft = session.get(PolicyDraft, draft_id)
        assert draft is not None
        assert (draft.status, draft.version) == ("applied", "2.0")
        titles = session.scalars(
            select(Notification.title).where(Notification.user_id == manager.actor.user_id)
        ).all()
        assert "Your policy change is live as version 2.0" in titles
        info = policy_drafts.list_drafts(session, owner.actor)
        assert [(d.status, d.request_id) for d in info] == [("applied", request_id)]
    Dispatcher(db, clock=clock).dispatch_pending()  # delivered once: nothing more happens
    with db.reader() as session:
        assert len(session.scalars(select(PolicyVersion)).all()) == 1


def test_a_rejected_proposal_is_closed_with_the_reason(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    draft_id, request_id = propose(db, manager, clock, "zorblax")
    with db.unit_of_work() as session:
        approvals.reject(session, owner.actor, request_id, comment="too broad", now=clock.now())
    Dispatcher(db, clock=clock).dispatch_pending()
    with db.reader() as session:
        draft = session.get(PolicyDraft, draft_id)
        assert draft is not None
        assert (draft.status, draft.outcome) == ("rejected", "Rejected: too broad")
        assert session.scalars(select(PolicyVersion)).all() == []


def test_who_may_propose(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    with pytest.raises(Conflict), db.unit_of_work() as session:  # owners save directly
        policy_drafts.propose(
            session, owner.actor, changed("x1"), major=False, note="n", now=clock.now()
        )
    with pytest.raises(Forbidden), db.unit_of_work() as session:
        policy_drafts.propose(
            session, agent.actor, changed("x1"), major=False, note="n", now=clock.now()
        )


def test_the_editor_proposes_for_a_hub_manager(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    login(client, manager)
    page = client.get("/governance/policy")
    assert "Propose for approval" in page.text
    answer = client.post(
        "/governance/policy",
        data={
            "csrf_token": csrf_from(page.text),
            "document": policy_versions.json_text(changed("zorblax").model_dump(mode="json")),
            "change": "minor",
            "note": "Add zorblax",
        },
        follow_redirects=False,
    )
    assert answer.headers["location"] == "/governance/policy?proposed=1"
    after = client.get(answer.headers["location"])
    assert "sent for approval" in after.text
    assert "Proposed changes" in after.text
    assert "approval request" in after.text
