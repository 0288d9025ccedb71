"""The policy editor: the current version's summary, the document editor (JSON or TOML, with
validation shown as you type and nothing lost on a bad save), a live check preview in htmx,
the version history and the diff between any two versions."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from groundswell.governance import policy_drafts, policy_versions
from groundswell.governance.domain import Finding, Severity
from groundswell.governance.engine import PolicyEngine
from groundswell.governance.policies import (
    EngineCache,
    current_engine,
    current_policy,
    current_version,
)
from groundswell.governance.policy import Policy, dump_policy
from groundswell.governance.policy_tables import PolicyVersion
from groundswell.identity.deps import ClockDep, DbDep, PageActor, csrf_protect
from groundswell.identity.service import Actor
from groundswell.kernel.db import Database
from groundswell.kernel.errors import GroundswellError
from groundswell.web import render

router = APIRouter(include_in_schema=False)
CSRF = Depends(csrf_protect)
BASE = "/governance/policy"
MAX_SAMPLE_CHARS = 5000
# Drafts typed in the editor, compiled once per distinct text (the preview asks on every pause).
_draft_engines = EngineCache(16)


# ---------------------------------------------------------------- highlighting (pure)


@dataclass(frozen=True)
class Segment:
    """A run of the sample text: plain (`severity` None) or covered by findings."""

    text: str
    severity: str | None = None
    messages: tuple[str, ...] = ()
    marker: bool = False  # an empty span: something is missing here


_RANK = {Severity.BLOCK: 0, Severity.WARN: 1, Severity.INFO: 2}


def segments(text: str, findings: list[Finding]) -> list[Segment]:
    """Cut `text` at every finding boundary; each piece carries the most severe finding that
    covers it and all their messages. Empty spans become markers at their position."""
    cuts = {0, len(text)}
    for f in findings:
        cuts.update((f.start, f.end))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    out: list[Segment] = []
    for start, end in zip(points, [*points[1:], None], strict=True):
        for f in findings:
            if f.start == f.end == start:
                out.append(Segment("", f.severity.value, (f.message,), marker=True))
        if end is None:
            break
        covering = [f for f in findings if f.start <= start and end <= f.end and f.start < f.end]
        piece = text[start:end]
        if not covering:
            out.append(Segment(piece))
            continue
        worst = min(covering, key=lambda f: _RANK[f.severity])
        out.append(Segment(piece, worst.severity.value, tuple(f.message for f in covering)))
    return out


def summary(policy: Policy) -> dict[str, Any]:
    """Counts a reader needs at a glance: rules by severity and by guideline, networks."""
    severities = Counter(rule.severity.value for rule in policy.rules)
    guidelines = Counter(rule.guideline or "other" for rule in policy.rules)
    return {
        "rules": len(policy.rules),
        "block": severities.get("block", 0),
        "warn": severities.get("warn", 0),
        "info": severities.get("info", 0),
        "guidelines": sorted(guidelines.items()),
        "networks": sorted(policy.networks),
    }


# ---------------------------------------------------------------- helpers


def _draft_engine(document: str) -> PolicyEngine:
    """The engine of a draft document (raises `InvalidInput` when it is not valid)."""
    key = hashlib.sha256(document.encode()).hexdigest()
    engine = _draft_engines.get(key)
    if engine is None:
        engine = PolicyEngine(policy_versions.parse_document(document, "draft"))
        _draft_engines.put(key, engine)
    return engine


def _editor_context(session: Session, actor: Actor, *, from_ref: str | None) -> dict[str, Any]:
    current = current_version(session, actor.organization_id)
    policy = current_policy(session, actor.organization_id)
    row = session.get(PolicyVersion, current.id) if current.id else None
    document = dump_policy(policy)
    loaded_from = None
    if from_ref:
        loaded_from, older = policy_versions.policy_of(session, actor, from_ref)
        document = dump_policy(older)
    decision = policy_versions.edit_decision(session, actor)
    versions = policy_versions.list_versions(session, actor, limit=20)
    return {
        "can_propose": decision.allowed and decision.approvals_needed > 0,
        "drafts": policy_drafts.list_drafts(session, actor, limit=10),
        "current": current,
        "current_row": row,
        "policy": policy,
        "summary": summary(policy),
        "document": document,
        "loaded_from": loaded_from,
        "can_edit": decision.allowed and decision.approvals_needed == 0,
        "edit_reason": decision.reason,
        "versions": versions.items,
        "more_versions": versions.next_cursor,
        "networks": sorted(policy.networks),
        "next_minor": f"{current.major}.{current.minor + 1}",
        "next_major": f"{current.major + 1}.0",
    }


def _editor(
    request: Request,
    actor: Actor,
    db: Database,
    *,
    from_ref: str | None = None,
    error: str | None = None,
    draft: str | None = None,
    note: str = "",
    major: bool = False,
    status: int = 200,
) -> Response:
    with db.reader() as session:
        ctx = _editor_context(session, actor, from_ref=from_ref)
    if draft is not None:
        ctx["document"] = draft
    ctx.update(
        error=error,
        note=note,
        major=major,
        saved=request.query_params.get("saved"),
        proposed=request.query_params.get("proposed") == "1",
    )
    return render(request, "governance/policy.html", ctx, status_code=status)


# ---------------------------------------------------------------- routes


@router.get(BASE)
def policy_page(
    request: Request,
    actor: PageActor,
    db: DbDep,
    from_: Annotated[str | None, Query(alias="from", max_length=40)] = None,
) -> Response:
    return _editor(request, actor, db, from_ref=from_ or None)


@router.post(BASE, dependencies=[CSRF])
def policy_save(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    document: Annotated[str, Form(max_length=policy_versions.MAX_DOCUMENT_CHARS)],
    note: Annotated[str, Form(max_length=policy_versions.MAX_NOTE_CHARS)] = "",
    change: Annotated[str, Form(pattern="^(major|minor)$")] = "minor",
) -> Response:
    major = change == "major"
    try:
        policy = policy_versions.parse_document(document, "document")
        with db.unit_of_work() as session:
            decision = policy_versions.edit_decision(session, actor)
            if decision.allowed and decision.approvals_needed > 0:
                policy_drafts.propose(
                    session, actor, policy, major=major, note=note, now=clock.now()
                )
                version = ""
            else:
                row = policy_versions.save_version(
                    session, actor, policy, major=major, note=note, now=clock.now()
                )
                version = row.version
    except GroundswellError as exc:
        return _editor(
            request,
            actor,
            db,
            error=exc.message,
            draft=document,
            note=note,
            major=major,
            status=exc.status,
        )
    if not version:
        return RedirectResponse(f"{BASE}?proposed=1", status_code=303)
    return RedirectResponse(f"{BASE}?saved={version}", status_code=303)


@router.post(f"{BASE}/validate", dependencies=[CSRF])
def policy_validate(
    request: Request,
    actor: PageActor,
    document: Annotated[str, Form(max_length=policy_versions.MAX_DOCUMENT_CHARS)] = "",
) -> Response:
    """htmx: whether the draft is a valid policy, and what it would change."""
    try:
        policy = policy_versions.parse_document(document, "document")
    except GroundswellError as exc:
        return render(request, "governance/_policy_validation.html", {"error": exc.message})
    return render(
        request,
        "governance/_policy_validation.html",
        {"error": None, "summary": summary(policy)},
    )


@router.post(f"{BASE}/preview", dependencies=[CSRF])
def policy_preview(
    request: Request,
    actor: PageActor,
    db: DbDep,
    sample: Annotated[str, Form(max_length=MAX_SAMPLE_CHARS)] = "",
    document: Annotated[str | None, Form(max_length=policy_versions.MAX_DOCUMENT_CHARS)] = None,
    network: Annotated[str, Form(max_length=50)] = "",
    advocacy: Annotated[bool, Form()] = False,
) -> Response:
    """htmx: the sample text checked against the draft in the editor (or, when the draft is
    not valid or absent, the current policy), with findings highlighted."""
    draft_error = None
    engine: PolicyEngine | None = None
    if document is not None and document.strip():
        try:
            engine = _draft_engine(document)
        except GroundswellError as exc:
            draft_error = exc.message
    if engine is None:
        with db.reader() as session:
            engine = current_engine(session, actor.organization_id)
    net = network if network in engine.networks else None
    findings = engine.check(sample, network=net, advocacy=advocacy) if sample else []
    return render(
        request,
        "governance/_policy_preview.html",
        {
            "sample": sample,
            "findings": findings,
            "segments": segments(sample, findings),
            "blocked": engine.blocked(findings),
            "against": "the current policy" if document is None or draft_error else "your draft",
            "draft_error": draft_error,
            "unknown_network": network if network and net is None else None,
        },
    )


@router.get(f"{BASE}/versions/{{ref}}")
def version_page(request: Request, actor: PageActor, db: DbDep, ref: str) -> Response:
    with db.reader() as session:
        row = policy_versions.access_version(session, actor, ref)
        current = current_version(session, actor.organization_id)
        previous = policy_versions.previous_version(session, actor, row)
    return render(
        request,
        "governance/policy_version.html",
        {"v": row, "is_current": row.id == current.id, "previous": previous},
    )


@router.get(f"{BASE}/diff")
def diff_page(
    request: Request,
    actor: PageActor,
    db: DbDep,
    old: Annotated[str, Query(max_length=40)] = "",
    new: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    with db.reader() as session:
        history = policy_versions.list_versions(session, actor, limit=200).items
        result = None
        error = None
        if old and new:
            try:
                result = policy_versions.diff_versions(session, actor, old, new)
            except GroundswellError as exc:
                error = exc.message
    return render(
        request,
        "governance/policy_diff.html",
        {"history": history, "old": old, "new": new, "diff": result, "error": error},
        status_code=404 if error else 200,
    )
