"""The guidelines training gate: a person may publish or reply only after reading the current
guidelines and passing the quiz for the current major policy version.

`is_trained(session, organization_id, user_id)` is what the coordination-model decisions read
(`governance.service.actor_for`). The guidelines (`guidelines.json`) and the quiz (`quiz.json`:
multiple-choice questions, a pass mark) are data shipped with the package.

Passing writes one attestation row per person and major version (audited); a new major version
of the policy makes `is_trained` false again until the person passes again.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.governance.policies import current_version
from groundswell.governance.policy_tables import GuidelinesAttestation
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.events import Event, emit

QUIZ_FILE = "quiz.json"
GUIDELINES_FILE = "guidelines.json"


# ---------------------------------------------------------------- the data


class GuidelineSection(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    points: list[str] = Field(min_length=1)


class Guidelines(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str
    intro: str
    sections: list[GuidelineSection] = Field(min_length=1)


class Question(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,79}$")
    guideline: str
    question: str
    choices: list[str] = Field(min_length=2)
    answer: int = Field(ge=0, description="Index of the right choice.")
    explanation: str

    @model_validator(mode="after")
    def _answer_is_a_choice(self) -> Question:
        if self.answer >= len(self.choices):
            raise ValueError(f"question {self.id}: answer {self.answer} is not a choice")
        return self


class Quiz(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    pass_mark: int = Field(ge=1, description="Right answers needed to pass.")
    questions: list[Question] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Quiz:
        ids = [q.id for q in self.questions]
        if len(set(ids)) != len(ids):
            raise ValueError("question ids must be unique")
        if self.pass_mark > len(self.questions):
            raise ValueError("the pass mark is above the number of questions")
        return self


@cache
def quiz() -> Quiz:
    data = resources.files("groundswell.governance").joinpath(QUIZ_FILE).read_bytes()
    return Quiz.model_validate_json(data)


@cache
def guidelines() -> Guidelines:
    data = resources.files("groundswell.governance").joinpath(GUIDELINES_FILE).read_bytes()
    return Guidelines.model_validate_json(data)


class Answer(BaseModel):
    question_id: str
    chosen: int | None
    correct: bool


class QuizResult(BaseModel):
    score: int
    total: int
    pass_mark: int
    passed: bool
    answers: list[Answer]

    @property
    def wrong(self) -> list[str]:
        return [a.question_id for a in self.answers if not a.correct]


def grade(given: dict[str, int], the_quiz: Quiz | None = None) -> QuizResult:
    """Score answers (question id -> chosen index); a missing answer counts as wrong. Pure."""
    the_quiz = the_quiz or quiz()
    unknown = sorted(set(given) - {q.id for q in the_quiz.questions})
    if unknown:
        raise InvalidInput(f"Unknown quiz question(s): {', '.join(unknown)}.")
    answers = [
        Answer(question_id=q.id, chosen=given.get(q.id), correct=given.get(q.id) == q.answer)
        for q in the_quiz.questions
    ]
    score = sum(a.correct for a in answers)
    return QuizResult(
        score=score,
        total=len(answers),
        pass_mark=the_quiz.pass_mark,
        passed=score >= the_quiz.pass_mark,
        answers=answers,
    )


# ---------------------------------------------------------------- the gate


class GuidelinesAttested(Event):
    """A person passed the guidelines quiz for a major policy version."""

    name = "governance.guidelines_attested"
    organization_id: str
    user_id: str
    policy_major: int


class TrainingStatus(BaseModel):
    """Where one person stands: the current version, whether they attested to its major
    version, and whether they had attested to an earlier one (a new major version asks again)."""

    version: str
    major: int
    trained: bool
    attested_at: datetime | None
    score: int | None
    earlier_major: int | None


class Coverage(BaseModel):
    """How many active members attested to the current major version."""

    major: int
    trained: int
    members: int


class _At:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


def is_trained(session: Session, organization_id: str, user_id: str) -> bool:
    """True only when the user attested to the organization's CURRENT major policy version."""
    major = current_version(session, organization_id).major
    found = session.scalar(
        select(GuidelinesAttestation.id).where(
            GuidelinesAttestation.organization_id == organization_id,
            GuidelinesAttestation.user_id == user_id,
            GuidelinesAttestation.policy_major == major,
        )
    )
    return found is not None


def status(session: Session, actor: Actor) -> TrainingStatus:
    current = current_version(session, actor.organization_id)
    rows = session.scalars(
        select(GuidelinesAttestation)
        .where(
            GuidelinesAttestation.organization_id == actor.organization_id,
            GuidelinesAttestation.user_id == actor.user_id,
        )
        .order_by(GuidelinesAttestation.policy_major.desc())
    ).all()
    mine = next((r for r in rows if r.policy_major == current.major), None)
    earlier = next((r.policy_major for r in rows if r.policy_major < current.major), None)
    return TrainingStatus(
        version=current.version,
        major=current.major,
        trained=mine is not None,
        attested_at=mine.attested_at if mine else None,
        score=mine.score if mine else None,
        earlier_major=earlier,
    )


def coverage(session: Session, actor: Actor) -> Coverage:
    """Trained members out of active members (for people who may read the member list)."""
    actor.require(Permission.USERS_READ)
    org = actor.organization_id
    major = current_version(session, org).major
    members = session.scalar(
        select(func.count()).where(User.organization_id == org, User.is_active.is_(True))
    )
    trained = session.scalar(
        select(func.count())
        .select_from(GuidelinesAttestation)
        .join(User, User.id == GuidelinesAttestation.user_id)
        .where(
            GuidelinesAttestation.organization_id == org,
            GuidelinesAttestation.policy_major == major,
            User.is_active.is_(True),
        )
    )
    return Coverage(major=major, trained=trained or 0, members=members or 0)


def take_quiz(
    session: Session, actor: Actor, given: dict[str, int], *, now: datetime
) -> QuizResult:
    """Grade the actor's answers; on a pass, attest them to the current major version
    (once per major version; passing again later changes nothing). Flushes."""
    # Every role owns its attestation; the permission only makes a read-only token refuse.
    actor.require(Permission.TOKENS_OWN)
    result = grade(given)
    if not result.passed:
        return result
    org = actor.organization_id
    current = current_version(session, org)
    existing = session.scalar(
        select(GuidelinesAttestation).where(
            GuidelinesAttestation.user_id == actor.user_id,
            GuidelinesAttestation.policy_major == current.major,
        )
    )
    if existing is not None:
        return result
    row = GuidelinesAttestation(
        organization_id=org,
        user_id=actor.user_id,
        policy_major=current.major,
        policy_version=current.version,
        score=result.score,
        total=result.total,
        attested_at=now,
    )
    session.add(row)
    session.flush()
    clock = _At(now)
    audit.record(
        session,
        actor.audit,
        "governance.guidelines.attested",
        "guidelines_attestation",
        row.id,
        after={
            "user_id": actor.user_id,
            "policy_version": current.version,
            "policy_major": current.major,
            "score": result.score,
            "total": result.total,
        },
        clock=clock,
    )
    emit(
        session,
        GuidelinesAttested(organization_id=org, user_id=actor.user_id, policy_major=current.major),
        clock=clock,
    )
    return result
