"""The guidelines training page: read the guidelines and the current policy summary, take the
quiz, and see which answers were wrong (with why) until you pass. Passing attests you to the
current major policy version."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from groundswell.governance import training
from groundswell.governance.policies import current_policy
from groundswell.governance.policy_pages import summary
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/governance/training"
FIELD_PREFIX = "q."


def parse_answers(form: dict[str, str]) -> dict[str, int]:
    """`q.<question id>` -> chosen index; anything else (or not a number) is ignored, so an
    unanswered or tampered question simply counts as wrong."""
    answers: dict[str, int] = {}
    known = {q.id for q in training.quiz().questions}
    for key, value in form.items():
        question = key[len(FIELD_PREFIX) :]
        if key.startswith(FIELD_PREFIX) and question in known and value.isdigit():
            answers[question] = int(value[:3])
    return answers


def _page(
    request: Request,
    actor: Actor,
    db: Database,
    *,
    result: training.QuizResult | None = None,
    given: dict[str, int] | None = None,
) -> Response:
    with db.reader() as session:
        status = training.status(session, actor)
        policy = current_policy(session, actor.organization_id)
        coverage = training.coverage(session, actor) if actor.can(Permission.USERS_READ) else None
    context: dict[str, Any] = {
        "status": status,
        "guidelines": training.guidelines(),
        "quiz": training.quiz(),
        "policy": policy,
        "summary": summary(policy),
        "coverage": coverage,
        "result": result,
        "wrong": set(result.wrong) if result else set(),
        "given": given or {},
        "passed": request.query_params.get("passed") == "1",
    }
    return render(request, "governance/training.html", context)


@router.get(BASE)
def training_page(request: Request, actor: PageActor, db: DbDep) -> Response:
    return _page(request, actor, db)


def _submit(actor: Actor, db: Database, clock: Clock, given: dict[str, int]) -> training.QuizResult:
    with db.unit_of_work() as session:
        return training.take_quiz(session, actor, given, now=clock.now())


@router.post(BASE, dependencies=[CSRF])
async def training_submit(
    request: Request, actor: PageActor, db: DbDep, clock: ClockDep
) -> Response:
    form = await request.form()
    given = parse_answers({k: v for k, v in form.items() if isinstance(v, str)})
    result = await run_in_threadpool(_submit, actor, db, clock, given)
    if result.passed:
        return RedirectResponse(f"{BASE}?passed=1", status_code=303)
    return await run_in_threadpool(_page, request, actor, db, result=result, given=given)
