"""Governance use cases other rooms call: who a person is for governance (`actor_for`), the
organization's coordination model and crisis mode, and `authorize`, which runs the current
policy on a text and asks the pure `decide` whether the action may go ahead.

Functions flush, never commit; every change is audited and announced (`governance.events`).
The settings row is created on first change; until then the organization uses the defaults
(empowered units, no crisis)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.governance import domain
from groundswell.governance.domain import (
    Action,
    Context,
    CoordinationModel,
    Decision,
    Finding,
    decide,
)
from groundswell.governance.events import CoordinationModelChanged, CrisisModeChanged
from groundswell.governance.policies import current_engine
from groundswell.governance.tables import GovernanceSettings
from groundswell.governance.training import is_trained
from groundswell.governance.units import HUB_KEY, unit_key_for, unit_roles
from groundswell.identity.domain import ROLE_RANK, Permission, Role, scopes_allow
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Forbidden, GroundswellError, InvalidInput
from groundswell.kernel.events import emit

DEFAULT_MODEL = CoordinationModel.EMPOWERED_UNITS

MODEL_LABELS = {
    CoordinationModel.COMMAND_AND_CONTROL: "Command & Control",
    CoordinationModel.EMPOWERED_UNITS: "Empowered Units (hub and spoke)",
    CoordinationModel.DECENTRALIZED: "Decentralized",
}
ACTION_LABELS = {
    Action.PUBLISH: "Publish a new post",
    Action.REPLY_PUBLIC: "Reply publicly",
    Action.REPLY_PRIVATE: "Reply privately (DM)",
    Action.REPLY_CRISIS: "Reply publicly in crisis mode",
    Action.EDIT_POLICY: "Edit the social media policy",
    Action.CONNECT_ACCOUNT: "Connect a brand account",
    Action.DISCONNECT_ACCOUNT: "Disconnect a brand account",
    Action.VIEW_PERSONAL_DATA: "View personal data",
    Action.EXPORT_DATA: "Export data",
    Action.CHANGE_MODEL: "Change the coordination model",
}

MODEL_SUMMARIES = {
    CoordinationModel.COMMAND_AND_CONTROL: (
        "One central team (the hub) speaks for the organization. Everyone else proposes: their "
        "posts and replies wait for a hub manager's approval. Only owners and admins edit the "
        "policy."
    ),
    CoordinationModel.EMPOWERED_UNITS: (
        "Each business unit speaks on its own brand accounts; the hub sets strategy, policy "
        "and measurement and may speak everywhere. Contributors' public posts wait for a "
        "manager of their unit; people outside the owning unit are refused."
    ),
    CoordinationModel.DECENTRALIZED: (
        "Every trained employee may reply, and post on their own unit's accounts, without "
        "waiting; the hub reviews after the fact. Warning findings no longer hold a text back."
    ),
}


class ApprovalRequired(GroundswellError):
    """The action is allowed only after others approve it: ask for approval instead."""

    code = "approval_required"
    status = 409
    title = "Approval required"


class Authorization(BaseModel):
    """What `authorize` found: the decision, the policy findings on the text, and the
    context it decided in (keep it with an approval request)."""

    model_config = ConfigDict(frozen=True)

    decision: Decision
    findings: tuple[Finding, ...]
    context: Context

    @property
    def blocked(self) -> bool:
        return any(f.severity is domain.Severity.BLOCK for f in self.findings)


class CoordinationSettings(BaseModel):
    """The organization's governance settings as pages and the API show them."""

    model: CoordinationModel
    model_changed_at: datetime | None
    model_changed_by: str | None  # email
    crisis_mode: bool
    crisis_reason: str
    crisis_changed_at: datetime | None
    crisis_changed_by: str | None


def _at(now: datetime) -> FrozenClock:
    return FrozenClock(now)


def require_scope(actor: Actor, permission: Permission) -> None:
    """Refuse an API token whose scopes do not cover `permission` (the role itself is judged
    by the coordination model, not by identity's permissions)."""
    if not scopes_allow(actor.scopes, permission):
        have = ", ".join(sorted(actor.scopes or ())) or "none"
        raise Forbidden(f"This API token's scopes ({have}) do not allow this ({permission}).")


def _row(session: Session, organization_id: str) -> GovernanceSettings | None:
    return session.execute(
        select(GovernanceSettings).where(GovernanceSettings.organization_id == organization_id)
    ).scalar_one_or_none()


def _row_for_update(session: Session, organization_id: str) -> GovernanceSettings:
    """The settings row, locked for this transaction (created with the defaults if absent)."""
    row = session.execute(
        select(GovernanceSettings)
        .where(GovernanceSettings.organization_id == organization_id)
        .with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = GovernanceSettings(
            organization_id=organization_id,
            model=DEFAULT_MODEL.value,
            crisis_mode=False,
            crisis_reason="",
        )
        session.add(row)
        session.flush()
    return row


def actor_for(session: Session, actor: Actor) -> domain.Actor:
    """The person as `decide` sees them: organization role, role per unit key, trained."""
    role = Role(actor.role)
    return domain.Actor(
        id=actor.user_id,
        role=role,
        units=unit_roles(session, actor.organization_id, actor.user_id, role),
        trained=is_trained(session, actor.organization_id, actor.user_id),
    )


def current_model(session: Session, organization_id: str) -> CoordinationModel:
    row = _row(session, organization_id)
    return DEFAULT_MODEL if row is None else CoordinationModel(row.model)


def crisis_mode(session: Session, organization_id: str) -> bool:
    row = _row(session, organization_id)
    return bool(row is not None and row.crisis_mode)


def coordination_settings(session: Session, organization_id: str) -> CoordinationSettings:
    row = _row(session, organization_id)
    if row is None:
        return CoordinationSettings(
            model=DEFAULT_MODEL,
            model_changed_at=None,
            model_changed_by=None,
            crisis_mode=False,
            crisis_reason="",
            crisis_changed_at=None,
            crisis_changed_by=None,
        )
    ids = [i for i in (row.model_changed_by, row.crisis_changed_by) if i]
    emails: dict[str, str] = {}
    if ids:
        for user_id, email in session.execute(select(User.id, User.email).where(User.id.in_(ids))):
            emails[user_id] = email
    return CoordinationSettings(
        model=CoordinationModel(row.model),
        model_changed_at=row.model_changed_at,
        model_changed_by=emails.get(row.model_changed_by or ""),
        crisis_mode=row.crisis_mode,
        crisis_reason=row.crisis_reason,
        crisis_changed_at=row.crisis_changed_at,
        crisis_changed_by=emails.get(row.crisis_changed_by or ""),
    )


def context_for(
    session: Session,
    organization_id: str,
    *,
    findings: tuple[Finding, ...] = (),
    account_unit: str | None = None,
) -> Context:
    """The decision context of the organization right now."""
    row = _row(session, organization_id)
    return Context(
        model=DEFAULT_MODEL if row is None else CoordinationModel(row.model),
        hub_unit=HUB_KEY,
        account_unit=unit_key_for(session, organization_id, account_unit),
        findings=findings,
        crisis=bool(row is not None and row.crisis_mode),
    )


def authorize(
    session: Session,
    actor: Actor,
    action: Action,
    *,
    text: str | None = None,
    network: str | None = None,
    account_unit: str | None = None,
) -> Authorization:
    """May `actor` take `action` now, on `text` (checked against the organization's current
    policy, with `network`'s limits when the policy defines that network), on an account of
    `account_unit` (a unit key, id or name; None: the hub)? Reads the model and crisis mode;
    changes nothing."""
    findings: tuple[Finding, ...] = ()
    if text is not None:
        engine = current_engine(session, actor.organization_id)
        limits = network if network is not None and network in engine.networks else None
        findings = tuple(engine.check(text, network=limits))
    context = context_for(
        session, actor.organization_id, findings=findings, account_unit=account_unit
    )
    decision = decide(actor_for(session, actor), action, context)
    return Authorization(decision=decision, findings=findings, context=context)


def apply_model(
    session: Session,
    who: audit.AuditActor,
    organization_id: str,
    model: CoordinationModel,
    *,
    user_id: str | None,
    now: datetime,
) -> bool:
    """Store the model (no permission check: `set_model` or a granted approval decided it).
    Returns False when it was already the model."""
    row = _row_for_update(session, organization_id)
    previous = CoordinationModel(row.model)
    if previous is model:
        return False
    row.model = model.value
    row.model_changed_at = now
    row.model_changed_by = user_id
    session.flush()
    audit.record(
        session,
        who,
        "governance.model.set",
        "organization",
        organization_id,
        before={"model": previous.value},
        after={"model": model.value},
        organization_id=organization_id,
        clock=_at(now),
    )
    emit(
        session,
        CoordinationModelChanged(
            organization_id=organization_id, model=model.value, previous=previous.value
        ),
        clock=_at(now),
    )
    return True


def set_model(session: Session, actor: Actor, model: CoordinationModel, *, now: datetime) -> bool:
    """Switch the coordination model; it governs every decision from the next one on.
    Owners switch at once; an admin's switch needs an owner's approval (`ApprovalRequired`:
    use `governance.approvals.request_model_change`); everyone else is refused. Returns False
    when the model was already `model`."""
    require_scope(actor, Permission.SETTINGS_MANAGE)
    decision = decide(
        actor_for(session, actor),
        Action.CHANGE_MODEL,
        context_for(session, actor.organization_id),
    )
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.approvals_needed > 0:
        raise ApprovalRequired(f"{decision.reason} Request the change for approval instead.")
    return apply_model(
        session, actor.audit, actor.organization_id, model, user_id=actor.user_id, now=now
    )


def may_switch_crisis_mode(actor: Actor) -> bool:
    return ROLE_RANK[Role(actor.role)] >= ROLE_RANK[Role.MANAGER]


def set_crisis_mode(
    session: Session, actor: Actor, on: bool, *, reason: str, now: datetime
) -> None:
    """Switch crisis mode (managers, admins, owners): while on, every public post or reply
    waits for at least one approval under every model. Turning it on needs a reason.
    Audited; emits `CrisisModeChanged` when the flag changes."""
    require_scope(actor, Permission.CONTENT_WRITE)
    if not may_switch_crisis_mode(actor):
        raise Forbidden("Crisis mode is switched by managers, admins and owners.")
    reason = reason.strip()
    if on and not reason:
        raise InvalidInput("Say why crisis mode goes on (the reason is shown to everyone).")
    if len(reason) > 2000:
        raise InvalidInput("Keep the reason under 2000 characters.")
    row = _row_for_update(session, actor.organization_id)
    before = {"crisis_mode": row.crisis_mode, "reason": row.crisis_reason}
    if row.crisis_mode == on and row.crisis_reason == reason:
        return
    changed = row.crisis_mode != on
    row.crisis_mode = on
    row.crisis_reason = reason
    row.crisis_changed_at = now
    row.crisis_changed_by = actor.user_id
    session.flush()
    audit.record(
        session,
        actor.audit,
        "governance.crisis_mode.set",
        "organization",
        actor.organization_id,
        before=before,
        after={"crisis_mode": on, "reason": reason},
        clock=_at(now),
    )
    if changed:
        emit(
            session,
            CrisisModeChanged(organization_id=actor.organization_id, on=on, reason=reason),
            clock=_at(now),
        )
