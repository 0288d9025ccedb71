"""Approvals: request, approve or reject with a comment, chains, eligibility from the pure
`approve`, no self-approval, notifications, events, audit, expiry, visibility."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from groundswell.governance import approvals, service
from groundswell.governance.approvals_views import (
    ApprovalStatus,
    Box,
    access_request,
    list_requests,
)
from groundswell.governance.domain import Action, CoordinationModel
from groundswell.governance.events import (
    ApprovalExpired,
    ApprovalGranted,
    ApprovalRejected,
    ApprovalRequested,
)
from groundswell.governance.jobs import expire_approvals
from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role
from groundswell.identity.notifications import unread_count
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.kernel.jobs import JOBS
from groundswell.kernel.jobs_index import JOB_MODULES
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from tests.builders import Person, make_org, make_user
from tests.governance.gov_helpers import add_unit, ask, join, trained_user

CC = CoordinationModel.COMMAND_AND_CONTROL


def _events(db: Database, name: str) -> list[dict[str, object]]:
    with db.reader() as session:
        return list(
            session.scalars(select(OutboxEvent.payload).where(OutboxEvent.event_type == name))
        )


def _status(db: Database, person: Person, request_id: str, clock: FrozenClock) -> ApprovalStatus:
    with db.reader() as session:
        return access_request(session, person.actor, request_id, now=clock.now()).status


@pytest.fixture
def cc_team(db: Database, clock: FrozenClock) -> dict[str, Person]:
    """Command & control; a hub with a manager and an agent; a trained contributor in the
    north region; an untrained manager in the hub."""
    now = clock.now()
    owner = make_org(db)
    people = {
        "owner": owner,
        "manager": trained_user(db, owner, Role.MANAGER, now),
        "agent": trained_user(db, owner, Role.AGENT, now),
        "contributor": trained_user(db, owner, Role.CONTRIBUTOR, now),
        "untrained": make_user(db, owner, Role.MANAGER),
    }
    add_unit(db, owner, "hub", UnitKind.HUB, now)
    add_unit(db, owner, "north", UnitKind.REGION, now)
    join(db, owner, "hub", people["manager"], Role.MANAGER, now)
    join(db, owner, "hub", people["agent"], Role.AGENT, now)
    join(db, owner, "hub", people["untrained"], Role.MANAGER, now)
    join(db, owner, "north", people["contributor"], Role.CONTRIBUTOR, now)
    with db.unit_of_work() as session:
        service.set_model(session, owner.actor, CC, now=now)
    return people


def test_contributor_reply_waits_and_a_hub_manager_approves(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    contributor, manager = cc_team["contributor"], cc_team["manager"]
    request_id = ask(db, contributor, clock.now())
    with db.reader() as session:
        row = approvals.pending_for_subject(
            session, contributor.actor.organization_id, "care.reply", "m1"
        )
        assert row is not None
        assert row.id == request_id
        assert row.approvals_needed == 1
        # Eligible approvers were told: the owner and the trained hub manager, nobody else.
        told = set(
            session.scalars(
                select(Notification.user_id).where(Notification.kind == "approval.requested")
            )
        )
        assert told == {cc_team["owner"].actor.user_id, manager.actor.user_id}
        queue, _ = list_requests(session, manager.actor, Box.FOR_ME, now=clock.now())
        assert [v.id for v in queue] == [request_id]
        mine, _ = list_requests(session, contributor.actor, Box.FOR_ME, now=clock.now())
        assert mine == []  # never your own
    with db.unit_of_work() as session:
        approvals.approve(session, manager.actor, request_id, comment="Good", now=clock.now())
    assert _status(db, contributor, request_id, clock) is ApprovalStatus.APPROVED
    granted = _events(db, ApprovalGranted.name)
    assert granted == [
        {
            "organization_id": contributor.actor.organization_id,
            "request_id": request_id,
            "action": "reply_public",
            "subject_type": "care.reply",
            "subject_id": "m1",
        }
    ]
    assert len(_events(db, ApprovalRequested.name)) == 1
    with db.reader() as session:
        assert unread_count(session, contributor.actor.user_id) == 1
        assert (
            approvals.pending_for_subject(
                session, contributor.actor.organization_id, "care.reply", "m1"
            )
            is None
        )
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.action.like("approval.%"))
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == ["approval.request", "approval.approve"]


@pytest.mark.parametrize("who", ["contributor", "agent", "untrained"])
def test_ineligible_people_cannot_approve(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person], who: str
) -> None:
    request_id = ask(db, cc_team["contributor"], clock.now())
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        approvals.approve(session, cc_team[who].actor, request_id, now=clock.now())
    assert _status(db, cc_team["owner"], request_id, clock) is ApprovalStatus.PENDING


def test_nobody_approves_their_own_request(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    # In crisis mode even an owner's reply waits for an approval: not their own.
    with db.unit_of_work() as session:
        service.set_crisis_mode(
            session, cc_team["owner"].actor, True, reason="Drill", now=clock.now()
        )
    request_id = ask(db, cc_team["owner"], clock.now())
    with db.unit_of_work() as session, pytest.raises(Forbidden, match="own request"):
        approvals.approve(session, cc_team["owner"].actor, request_id, now=clock.now())
    with db.reader() as session:
        view = access_request(session, cc_team["owner"].actor, request_id, now=clock.now())
    assert not view.can_decide
    assert view.can_withdraw


def test_reject_needs_a_comment_and_tells_the_requester(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    contributor, manager = cc_team["contributor"], cc_team["manager"]
    request_id = ask(db, contributor, clock.now())
    with db.unit_of_work() as session, pytest.raises(InvalidInput, match="why"):
        approvals.reject(session, manager.actor, request_id, comment=" ", now=clock.now())
    with db.unit_of_work() as session:
        approvals.reject(
            session, manager.actor, request_id, comment="Tone it down", now=clock.now()
        )
    assert _status(db, contributor, request_id, clock) is ApprovalStatus.REJECTED
    assert [e["comment"] for e in _events(db, ApprovalRejected.name)] == ["Tone it down"]
    with db.reader() as session:
        view = access_request(session, contributor.actor, request_id, now=clock.now())
        note = session.scalars(
            select(Notification).where(Notification.user_id == contributor.actor.user_id)
        ).one()
    assert [(v.approver, v.verdict.value, v.comment) for v in view.votes] == [
        (manager.email, "reject", "Tone it down")
    ]
    assert "Tone it down" in note.title
    assert note.link == f"/governance/approvals/{request_id}"
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already rejected"):
        approvals.approve(session, cc_team["owner"].actor, request_id, now=clock.now())


def test_a_chain_of_two_approvals_from_different_people(db: Database, clock: FrozenClock) -> None:
    now = clock.now()
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    manager = trained_user(db, owner, Role.MANAGER, now)
    # Crisis mode plus a warning finding would still be one approval; a data export by a hub
    # manager needs one; build a two-approval chain by hand through the authorization.
    with db.reader() as session:
        auth = service.authorize(session, manager.actor, Action.EXPORT_DATA)
    two = auth.model_copy(
        update={"decision": auth.decision.model_copy(update={"approvals_needed": 2})}
    )
    with db.unit_of_work() as session:
        request_id = approvals.request_approval(
            session,
            manager.actor,
            action=Action.EXPORT_DATA,
            subject_type="export",
            subject_id="e1",
            summary="Export all mentions",
            authorization=two,
            now=now,
        ).id
    with db.unit_of_work() as session:
        approvals.approve(session, owner.actor, request_id, now=now)
    with db.unit_of_work() as session, pytest.raises(Forbidden, match="already approved"):
        approvals.approve(session, owner.actor, request_id, now=now)
    assert _status(db, owner, request_id, clock) is ApprovalStatus.PENDING
    assert _events(db, ApprovalGranted.name) == []
    with db.unit_of_work() as session:
        approvals.approve(session, admin.actor, request_id, now=now)
    assert _status(db, owner, request_id, clock) is ApprovalStatus.APPROVED
    assert len(_events(db, ApprovalGranted.name)) == 1


def test_one_open_request_per_subject_and_no_request_without_need(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    ask(db, cc_team["contributor"], clock.now())
    with pytest.raises(Conflict, match="already waits"):
        ask(db, cc_team["contributor"], clock.now())
    with pytest.raises(Conflict, match="no approval"):
        ask(db, cc_team["manager"], clock.now(), subject_id="m2")  # hub managers speak at once
    with pytest.raises(Forbidden, match="Blocked"):
        ask(
            db,
            cc_team["contributor"],
            clock.now(),
            subject_id="m3",
            text="card 4111 1111 1111 1111",
        )


def test_requests_expire_by_the_job(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GROUNDSWELL_APPROVAL_EXPIRY_HOURS", "2")
    contributor, manager = cc_team["contributor"], cc_team["manager"]
    request_id = ask(db, contributor, clock.now())
    clock.advance(timedelta(hours=1, minutes=59))
    assert expire_approvals(db, clock) == 0
    clock.advance(timedelta(minutes=1))
    with db.unit_of_work() as session, pytest.raises(Conflict, match="expired"):
        approvals.approve(session, manager.actor, request_id, now=clock.now())
    with db.reader() as session:
        queue, _ = list_requests(session, manager.actor, Box.FOR_ME, now=clock.now())
    assert queue == []
    assert expire_approvals(db, clock) == 1
    assert expire_approvals(db, clock) == 0  # idempotent
    assert _status(db, contributor, request_id, clock) is ApprovalStatus.EXPIRED
    assert [e["request_id"] for e in _events(db, ApprovalExpired.name)] == [request_id]
    with db.reader() as session:
        kinds = list(
            session.scalars(
                select(Notification.kind).where(Notification.user_id == contributor.actor.user_id)
            )
        )
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "approval.expire")
        ).one()
    assert kinds == ["approval.expired"]
    assert entry.actor_label == "system"
    # Expired: the subject may be asked for again.
    ask(db, contributor, clock.now())


def test_withdraw(db: Database, clock: FrozenClock, cc_team: dict[str, Person]) -> None:
    request_id = ask(db, cc_team["contributor"], clock.now())
    with db.unit_of_work() as session, pytest.raises(NotFound):
        approvals.withdraw(session, cc_team["manager"].actor, request_id, now=clock.now())
    with db.unit_of_work() as session:
        approvals.withdraw(session, cc_team["contributor"].actor, request_id, now=clock.now())
    assert _status(db, cc_team["owner"], request_id, clock) is ApprovalStatus.WITHDRAWN


def test_visibility_and_queues(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    owner = cc_team["owner"]
    request_id = ask(db, cc_team["contributor"], clock.now())
    bystander = trained_user(db, owner, Role.CONTRIBUTOR, clock.now())
    stranger = make_org(db, "Globex")
    with db.reader() as session:
        with pytest.raises(NotFound):
            access_request(session, bystander.actor, request_id, now=clock.now())
        with pytest.raises(NotFound):
            access_request(session, stranger.actor, request_id, now=clock.now())
        assert access_request(session, cc_team["manager"].actor, request_id, now=clock.now())
        with pytest.raises(NotFound):
            access_request(session, cc_team["agent"].actor, request_id, now=clock.now())
        mine, _ = list_requests(session, cc_team["contributor"].actor, Box.MINE, now=clock.now())
        assert [v.id for v in mine] == [request_id]
    with db.unit_of_work() as session:
        approvals.approve(session, cc_team["manager"].actor, request_id, now=clock.now())
    with db.reader() as session:
        for person, seen in ((cc_team["contributor"], 1), (cc_team["manager"], 1), (bystander, 0)):
            decided, _ = list_requests(session, person.actor, Box.DECIDED, now=clock.now())
            assert len(decided) == seen


def test_admin_model_change_takes_effect_when_an_owner_approves(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    with db.unit_of_work() as session:
        row = approvals.request_model_change(
            session, admin.actor, CoordinationModel.DECENTRALIZED, now=clock.now()
        )
        request_id = row.id
    with db.reader() as session:
        assert service.current_model(session, owner.actor.organization_id) is not (
            CoordinationModel.DECENTRALIZED
        )
    with db.unit_of_work() as session:
        approvals.approve(session, owner.actor, request_id, now=clock.now())
    with db.reader() as session:
        assert (
            service.current_model(session, owner.actor.organization_id)
            is CoordinationModel.DECENTRALIZED
        )


def test_the_expiry_job_is_registered_for_every_worker() -> None:
    assert "groundswell.governance.jobs" in JOB_MODULES
    assert JOBS["governance.expire_approvals"].run is expire_approvals


def test_two_approvers_at_once_grant_exactly_once(
    db: Database, clock: FrozenClock, cc_team: dict[str, Person]
) -> None:
    request_id = ask(db, cc_team["contributor"], clock.now())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(person: Person) -> None:
        barrier.wait()
        try:
            with db.unit_of_work() as session:
                approvals.approve(session, person.actor, request_id, now=clock.now())
            outcomes.append("approved")
        except (Conflict, Forbidden) as exc:
            outcomes.append(type(exc).__name__)

    threads = [
        threading.Thread(target=decide, args=(cc_team[who],)) for who in ("owner", "manager")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["Conflict", "approved"]
    assert len(_events(db, ApprovalGranted.name)) == 1
