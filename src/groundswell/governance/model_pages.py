"""The coordination-model picker (`/governance/model`): the current model, what each model
changes (the model x action table of the chosen one, swapped in with htmx), and a Save
button. Owners switch at once; an admin's switch goes to an owner for approval."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from groundswell.governance import approvals, service
from groundswell.governance.domain import (
    Action,
    CoordinationModel,
    Decision,
    decide,
    persona_names,
    rules_rows,
)
from groundswell.governance.service import ACTION_LABELS
from groundswell.governance.units import has_memberships
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.service import Actor
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
PATH = "/governance/model"


def cell(decision: Decision) -> dict[str, str]:
    """One table cell: text, CSS class and the reason as a tooltip."""
    if not decision.allowed:
        return {"text": "refused", "css": "deny", "title": decision.reason}
    if decision.approvals_needed == 0:
        return {"text": "at once", "css": "allow", "title": decision.reason}
    n = decision.approvals_needed
    return {"text": f"{n} approval{'s' if n != 1 else ''}", "css": "wait", "title": decision.reason}


def table_context(model: CoordinationModel) -> dict[str, Any]:
    return {
        "shown": model,
        "shown_label": service.MODEL_LABELS[model],
        "shown_summary": service.MODEL_SUMMARIES[model],
        "personas": persona_names(),
        "rows": [
            (ACTION_LABELS[action], [cell(d) for d in decisions])
            for action, decisions in rules_rows(model)
        ],
    }


def _page(
    request: Request,
    actor: Actor,
    db: Database,
    *,
    shown: CoordinationModel | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    with db.reader() as session:
        current = service.coordination_settings(session, actor.organization_id)
        me = service.actor_for(session, actor)
        change = decide(
            me, Action.CHANGE_MODEL, service.context_for(session, actor.organization_id)
        )
        units_defined = has_memberships(session, actor.organization_id)
        pending = approvals.pending_for_subject(
            session, actor.organization_id, approvals.MODEL_SUBJECT, (shown or current.model).value
        )
    context: dict[str, Any] = {
        "current": current,
        "current_label": service.MODEL_LABELS[current.model],
        "models": [
            (m, service.MODEL_LABELS[m], service.MODEL_SUMMARIES[m]) for m in CoordinationModel
        ],
        "can_change": change.allowed,
        "needs_approval": change.allowed and change.approvals_needed > 0,
        "change_reason": change.reason,
        "units_defined": units_defined,
        "pending": pending,
        "error": error,
        "notice": request.query_params.get("notice"),
        **table_context(shown or current.model),
    }
    return render(request, "governance/model.html", context, status_code=status)


@router.get(PATH)
def model_page(
    request: Request, actor: PageActor, db: DbDep, model: CoordinationModel | None = None
) -> Response:
    return _page(request, actor, db, shown=model)


@router.get(f"{PATH}/table")
def model_table(request: Request, actor: PageActor, model: CoordinationModel) -> Response:
    """The table of one model (htmx swaps it in when a radio button changes)."""
    return render(request, "governance/_model_table.html", table_context(model))


@router.post(PATH, dependencies=[CSRF])
def model_save(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    model: Annotated[CoordinationModel, Form()],
) -> Response:
    try:
        with db.unit_of_work() as session:
            change = decide(
                service.actor_for(session, actor),
                Action.CHANGE_MODEL,
                service.context_for(session, actor.organization_id),
            )
            if change.allowed and change.approvals_needed > 0:
                approvals.request_model_change(session, actor, model, now=clock.now())
                notice = f"Sent to an owner for approval: switch to {service.MODEL_LABELS[model]}."
            elif service.set_model(session, actor, model, now=clock.now()):
                notice = f"The coordination model is now {service.MODEL_LABELS[model]}."
            else:
                notice = f"The coordination model already is {service.MODEL_LABELS[model]}."
    except GroundswellError as exc:
        return _page(request, actor, db, shown=model, error=exc.message, status=exc.status)
    return RedirectResponse(f"{PATH}?{urlencode({'notice': notice})}", status_code=303)
