"""JSON API of the social media policy and the guidelines training, under
/api/v1/governance/policy and /api/v1/governance/training. Every route is scoped to the
token's organization; saving a version follows `decide(EDIT_POLICY)` (see `policy_versions`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from groundswell.governance import policy_drafts, policy_versions, training
from groundswell.governance.policies import current_engine, current_policy, current_version
from groundswell.governance.policy_drafts import DraftInfo
from groundswell.governance.policy_versions import PolicyDiff, VersionInfo
from groundswell.identity.deps import ApiActor, ClockDep, DbDep, ReadSession
from groundswell.identity.domain import Permission
from groundswell.kernel.pagination import Page

router = APIRouter(prefix="/api/v1/governance", tags=["policy and training"])

VersionRef = Annotated[
    str, Path(max_length=40, description="`major.minor` (e.g. 1.2), a version id, or `starter`.")
]


class CurrentPolicyOut(BaseModel):
    version: str
    stored: bool = Field(description="False while the organization uses the starter policy.")
    policy: dict[str, Any]


class VersionOut(BaseModel):
    info: VersionInfo
    policy: dict[str, Any]


class VersionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: dict[str, Any] | str = Field(
        description="The policy document: a JSON object, or JSON/TOML text."
    )
    major: bool = Field(
        default=False, description="A major version asks everyone to attest to the guidelines."
    )
    note: str = Field(min_length=1, max_length=policy_versions.MAX_NOTE_CHARS)


class CheckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=20_000)
    network: str | None = Field(default=None, max_length=50)
    advocacy: bool = False


class FindingOut(BaseModel):
    rule: str
    severity: str
    start: int
    end: int
    message: str


class CheckOut(BaseModel):
    version: str
    findings: list[FindingOut]
    blocked: bool


class QuestionOut(BaseModel):
    id: str
    guideline: str
    question: str
    choices: list[str]


class QuizOut(BaseModel):
    pass_mark: int
    questions: list[QuestionOut]


class QuizIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    answers: dict[str, int] = Field(description="Question id -> index of the chosen answer.")


class QuizResultOut(BaseModel):
    passed: bool
    score: int
    total: int
    pass_mark: int
    wrong: list[str]
    trained: bool


@router.get("/policy", summary="The organization's current policy")
def get_current(actor: ApiActor, session: ReadSession) -> CurrentPolicyOut:
    actor.require(Permission.ORG_READ)
    current = current_version(session, actor.organization_id)
    policy = current_policy(session, actor.organization_id)
    return CurrentPolicyOut(
        version=current.version, stored=current.id is not None, policy=policy.model_dump()
    )


@router.get("/policy/versions", summary="Saved policy versions, newest first")
def list_versions(
    actor: ApiActor,
    session: ReadSession,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Page[VersionInfo]:
    return policy_versions.list_versions(session, actor, limit=limit, cursor=cursor)


@router.get("/policy/versions/{ref}", summary="One saved version with its document")
def get_version(actor: ApiActor, session: ReadSession, ref: VersionRef) -> VersionOut:
    row = policy_versions.access_version(session, actor, ref)
    current_id = current_version(session, actor.organization_id).id
    info = VersionInfo(
        id=row.id,
        version=row.version,
        major=row.major,
        minor=row.minor,
        author=row.author_label,
        author_id=row.author_id,
        note=row.note,
        created_at=row.created_at,
        current=row.id == current_id,
        previous=policy_versions.previous_version(session, actor, row),
    )
    _, policy = policy_versions.policy_of(session, actor, ref)
    return VersionOut(info=info, policy=policy.model_dump())


@router.post("/policy/versions", status_code=201, summary="Save a new policy version")
def create_version(body: VersionCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> VersionOut:
    text = body.policy if isinstance(body.policy, str) else policy_versions.json_text(body.policy)
    policy = policy_versions.parse_document(text, "policy")
    with db.unit_of_work() as session:
        row = policy_versions.save_version(
            session, actor, policy, major=body.major, note=body.note, now=clock.now()
        )
        ref = row.version
    with db.reader() as session:
        return get_version(actor, session, ref)


@router.post(
    "/policy/drafts",
    status_code=202,
    summary="Propose a policy change for approval (when your saves need one)",
)
def propose_version(body: VersionCreate, actor: ApiActor, db: DbDep, clock: ClockDep) -> DraftInfo:
    text = body.policy if isinstance(body.policy, str) else policy_versions.json_text(body.policy)
    policy = policy_versions.parse_document(text, "policy")
    with db.unit_of_work() as session:
        draft = policy_drafts.propose(
            session, actor, policy, major=body.major, note=body.note, now=clock.now()
        )
        draft_id = draft.id
    with db.reader() as session:
        return next(d for d in policy_drafts.list_drafts(session, actor) if d.id == draft_id)


@router.get("/policy/drafts", summary="Recent proposed policy changes and their outcome")
def list_drafts(actor: ApiActor, session: ReadSession) -> list[DraftInfo]:
    return policy_drafts.list_drafts(session, actor)


@router.get("/policy/diff", summary="What changed between two versions")
def diff(
    actor: ApiActor,
    session: ReadSession,
    old: Annotated[str, Query(max_length=40, description="`major.minor` or `starter`.")],
    new: Annotated[str, Query(max_length=40, description="`major.minor` or `starter`.")],
) -> PolicyDiff:
    return policy_versions.diff_versions(session, actor, old, new)


@router.post("/policy/check", summary="Check a text against the current policy")
def check(body: CheckIn, actor: ApiActor, session: ReadSession) -> CheckOut:
    actor.require(Permission.ORG_READ)
    engine = current_engine(session, actor.organization_id)
    network = body.network if body.network in engine.networks else None
    findings = engine.check(body.text, network=network, advocacy=body.advocacy)
    return CheckOut(
        version=current_version(session, actor.organization_id).version,
        findings=[FindingOut(**f.model_dump(mode="json")) for f in findings],
        blocked=engine.blocked(findings),
    )


class TrainingOut(BaseModel):
    version: str
    major: int
    trained: bool
    attested_at: datetime | None
    score: int | None
    earlier_major: int | None


@router.get("/training", summary="Your guidelines training status")
def training_status(actor: ApiActor, session: ReadSession) -> TrainingOut:
    return TrainingOut(**training.status(session, actor).model_dump())


@router.get("/training/quiz", summary="The quiz (without the answers)")
def get_quiz(actor: ApiActor) -> QuizOut:
    actor.require(Permission.ORG_READ)
    quiz = training.quiz()
    return QuizOut(
        pass_mark=quiz.pass_mark,
        questions=[
            QuestionOut(id=q.id, guideline=q.guideline, question=q.question, choices=q.choices)
            for q in quiz.questions
        ],
    )


@router.post("/training/quiz", summary="Answer the quiz; passing attests you")
def answer_quiz(body: QuizIn, actor: ApiActor, db: DbDep, clock: ClockDep) -> QuizResultOut:
    with db.unit_of_work() as session:
        result = training.take_quiz(session, actor, body.answers, now=clock.now())
        trained = training.is_trained(session, actor.organization_id, actor.user_id)
    return QuizResultOut(
        passed=result.passed,
        score=result.score,
        total=result.total,
        pass_mark=result.pass_mark,
        wrong=result.wrong,
        trained=trained,
    )
