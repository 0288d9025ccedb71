"""The guidelines training gate: the quiz as data, grading, attestation per major version, and
a new major version asking again (while a minor one does not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from groundswell.governance import policy_versions, service, training
from groundswell.governance.domain import Action
from groundswell.governance.policy import Policy, starter_policy
from groundswell.governance.policy_tables import GuidelinesAttestation
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.tables import AuditEntry
from tests.builders import Person, make_org, make_user

GUIDELINES = {"intellectual_property", "privacy", "confidentiality", "respect", "disclosure"}


def right_answers() -> dict[str, int]:
    return {q.id: q.answer for q in training.quiz().questions}


def wrong(answers: dict[str, int], how_many: int) -> dict[str, int]:
    out = dict(answers)
    for q in training.quiz().questions[:how_many]:
        out[q.id] = (q.answer + 1) % len(q.choices)
    return out


def save_policy(db: Database, owner: Person, clock: FrozenClock, *, major: bool, tag: str) -> None:
    data = starter_policy().model_dump(mode="json")
    data["rules"][0]["terms"] = [*data["rules"][0]["terms"], tag]
    clock.advance(timedelta(minutes=1))
    with db.unit_of_work() as session:
        policy_versions.save_version(
            session,
            owner.actor,
            Policy.model_validate(data),
            major=major,
            note=f"add {tag}",
            now=clock.now(),
        )


def test_the_quiz_and_guidelines_are_sound_data() -> None:
    quiz = training.quiz()
    assert 5 <= len(quiz.questions) <= 8
    assert len(quiz.questions) // 2 < quiz.pass_mark <= len(quiz.questions)
    assert all(len(q.choices) >= 3 and q.explanation for q in quiz.questions)
    assert {q.guideline for q in quiz.questions} <= GUIDELINES
    # the right answer is not always in the same place
    assert len({q.answer for q in quiz.questions}) > 1
    assert {s.id for s in training.guidelines().sections} == GUIDELINES


def test_grade_counts_right_answers_and_names_the_wrong_ones() -> None:
    quiz = training.quiz()
    perfect = training.grade(right_answers())
    assert (perfect.score, perfect.total, perfect.passed) == (len(quiz.questions),) * 2 + (True,)
    misses = len(quiz.questions) - quiz.pass_mark + 1
    failed = training.grade(wrong(right_answers(), misses))
    assert not failed.passed
    assert failed.score == quiz.pass_mark - 1
    assert failed.wrong == [q.id for q in quiz.questions[:misses]]
    just = training.grade(wrong(right_answers(), misses - 1))
    assert just.passed
    assert just.score == quiz.pass_mark
    unanswered = training.grade({})
    assert unanswered.score == 0
    assert len(unanswered.wrong) == len(quiz.questions)
    with pytest.raises(InvalidInput, match="Unknown quiz question"):
        training.grade({"made.up": 0})


def test_failing_records_nothing_and_passing_attests_once(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    org = owner.actor.organization_id
    with db.unit_of_work() as session:
        result = training.take_quiz(
            session, agent.actor, wrong(right_answers(), 3), now=clock.now()
        )
        assert not result.passed
        assert not training.is_trained(session, org, agent.actor.user_id)
    with db.unit_of_work() as session:
        result = training.take_quiz(session, agent.actor, right_answers(), now=clock.now())
        assert result.passed
        assert training.is_trained(session, org, agent.actor.user_id)
        assert not training.is_trained(session, org, owner.actor.user_id)
    with db.unit_of_work() as session:  # passing again changes nothing
        training.take_quiz(session, agent.actor, right_answers(), now=clock.now())
    with db.reader() as session:
        rows = session.scalars(select(GuidelinesAttestation)).all()
        assert [(r.user_id, r.policy_major, r.policy_version, r.score, r.total) for r in rows] == [
            (
                agent.actor.user_id,
                1,
                "1.0",
                len(training.quiz().questions),
                len(training.quiz().questions),
            )
        ]
        audits = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "governance.guidelines.attested")
        ).all()
        assert len(audits) == 1
        assert audits[0].actor_id == agent.actor.user_id
        status = training.status(session, agent.actor)
        assert status.trained
        assert status.attested_at == clock.now()


def test_a_major_version_asks_again_a_minor_one_does_not(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    org, user = owner.actor.organization_id, agent.actor.user_id
    with db.unit_of_work() as session:
        training.take_quiz(session, agent.actor, right_answers(), now=clock.now())

    save_policy(db, owner, clock, major=False, tag="minorword")
    with db.reader() as session:
        assert training.is_trained(session, org, user)  # 1.1: still trained

    save_policy(db, owner, clock, major=True, tag="majorword")
    with db.reader() as session:
        assert not training.is_trained(session, org, user)  # 2.0: asked again
        status = training.status(session, agent.actor)
        assert (status.version, status.trained, status.earlier_major) == ("2.0", False, 1)
        # the gate the coordination model reads
        assert not service.actor_for(session, agent.actor).trained
        decision = service.authorize(session, agent.actor, Action.REPLY_PUBLIC).decision
        assert not decision.allowed

    with db.unit_of_work() as session:
        training.take_quiz(session, agent.actor, right_answers(), now=clock.now())
    with db.reader() as session:
        assert training.is_trained(session, org, user)
        assert service.actor_for(session, agent.actor).trained
        majors = session.scalars(
            select(GuidelinesAttestation.policy_major).order_by(GuidelinesAttestation.policy_major)
        ).all()
        assert majors == [1, 2]


def test_coverage_counts_trained_active_members(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    make_user(db, owner, Role.CONTRIBUTOR)
    with db.unit_of_work() as session:
        training.take_quiz(session, agent.actor, right_answers(), now=clock.now())
    with db.reader() as session:
        cover = training.coverage(session, owner.actor)
        assert (cover.major, cover.trained, cover.members) == (1, 1, 3)
