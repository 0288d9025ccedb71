"""Pure governance rules: who may do what under the organization's coordination model.

`decide(actor, action, context)` answers one question: may this person take this action now,
and how many approvals by *other* people does it wait for? `approve(approver, request)` says
whether one person may give one of those approvals. Both are pure: the caller loads the actor's
role, unit memberships and training status, the content's policy findings and the crisis flag,
and passes them in (the clock is never read).

The rules, model by model and action by action, are the table in ``docs/governance.md``
(`rules_table()` renders it; a test keeps the two equal). Invariants that hold under every
model, whatever the table says:

* a blocking policy finding denies every action, and no approval can override it;
* nobody approves their own request, nor the same request twice;
* a viewer never publishes or replies;
* an untrained person below admin never publishes or replies (the training gate);
* in crisis mode every public post or reply waits for at least one approval.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from groundswell.identity.domain import ROLE_RANK, Role


class CoordinationModel(StrEnum):
    """Bain's three ways to coordinate social media across an organization."""

    COMMAND_AND_CONTROL = "command_and_control"
    EMPOWERED_UNITS = "empowered_units"
    DECENTRALIZED = "decentralized"


class Action(StrEnum):
    PUBLISH = "publish"  # a new post on a brand account
    REPLY_PUBLIC = "reply_public"
    REPLY_PRIVATE = "reply_private"  # direct message to one person
    REPLY_CRISIS = "reply_crisis"  # a public reply while crisis mode is on
    EDIT_POLICY = "edit_policy"
    CONNECT_ACCOUNT = "connect_account"
    DISCONNECT_ACCOUNT = "disconnect_account"
    VIEW_PERSONAL_DATA = "view_personal_data"
    EXPORT_DATA = "export_data"
    CHANGE_MODEL = "change_model"


CONTENT_ACTIONS = frozenset(
    {Action.PUBLISH, Action.REPLY_PUBLIC, Action.REPLY_PRIVATE, Action.REPLY_CRISIS}
)
PUBLIC_ACTIONS = frozenset({Action.PUBLISH, Action.REPLY_PUBLIC, Action.REPLY_CRISIS})


class Severity(StrEnum):
    """How a policy finding weighs: `block` stops the text, `warn` asks for a second look,
    `info` only informs."""

    BLOCK = "block"
    WARN = "warn"
    INFO = "info"


class Finding(BaseModel):
    """One policy finding on a text: the rule that fired, how much it weighs, the characters
    ``text[start:end]`` it is about (an empty span marks where something is missing) and a
    message saying how to fix it."""

    model_config = ConfigDict(frozen=True)

    rule: str
    severity: Severity
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    message: str

    @model_validator(mode="after")
    def _ordered(self) -> Finding:
        if self.end < self.start:
            raise ValueError("a finding ends at or after its start")
        return self


class Actor(BaseModel):
    """A person as governance sees them.

    `role` is the organization-wide role (identity's). `units` maps unit id -> the person's
    role in that unit; a unit role refines the organization role and never exceeds it (owners
    and admins count as their own role in every unit). `trained` says whether they passed the
    current guidelines training.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    role: Role
    units: Mapping[str, Role] = Field(default_factory=dict)
    trained: bool = False


class Context(BaseModel):
    """Everything about the situation that the decision depends on.

    `account_unit` is the unit owning the brand account (or the data) acted on; None means
    the hub owns it. `findings` are the policy findings on the content, if any.
    """

    model_config = ConfigDict(frozen=True)

    model: CoordinationModel
    hub_unit: str = "hub"
    account_unit: str | None = None
    findings: tuple[Finding, ...] = ()
    crisis: bool = False


class Decision(BaseModel):
    """`allowed` False: refused, `reason` says why. `allowed` True: go ahead once
    `approvals_needed` other people have approved (0: at once)."""

    model_config = ConfigDict(frozen=True)

    allowed: bool
    approvals_needed: int = Field(ge=0)
    reason: str


class ApprovalRequest(BaseModel):
    """A request waiting for approvals: who asked, for what, in which context, how many
    approvals it needed when asked, and who has approved it so far."""

    model_config = ConfigDict(frozen=True)

    requester_id: str
    action: Action
    context: Context
    approvals_needed: int = Field(ge=0)
    approved_by: tuple[str, ...] = ()


_OVERSEERS = (Role.OWNER, Role.ADMIN)


def _rank(role: Role | None) -> int:
    return -1 if role is None else ROLE_RANK[role]


def role_in_unit(actor: Actor, unit: str) -> Role | None:
    """The actor's effective role in `unit`: None for a non-member; the unit role capped by
    the organization role; owners and admins hold their own role in every unit."""
    if actor.role in _OVERSEERS:
        return actor.role
    unit_role = actor.units.get(unit)
    if unit_role is None:
        return None
    return unit_role if ROLE_RANK[unit_role] <= ROLE_RANK[actor.role] else actor.role


def _deny(reason: str) -> Decision:
    return Decision(allowed=False, approvals_needed=0, reason=reason)


def _allow(approvals: int, reason: str) -> Decision:
    return Decision(allowed=True, approvals_needed=approvals, reason=reason)


def _owning_unit(context: Context) -> str:
    return context.account_unit or context.hub_unit


# --- content: publish and reply ---------------------------------------------------------------


def _command_and_control(actor: Actor, action: Action, context: Context) -> Decision:
    hub = _rank(role_in_unit(actor, context.hub_unit))
    if hub >= ROLE_RANK[Role.MANAGER]:
        return _allow(0, "Command and control: hub managers speak for the organization.")
    if hub >= ROLE_RANK[Role.AGENT]:
        if action is Action.PUBLISH:
            return _allow(1, "Command and control: a hub manager approves new posts by agents.")
        return _allow(0, "Command and control: hub agents answer on the brand's accounts.")
    return _allow(
        1,
        "Command and control: the central team speaks; others propose and a hub manager approves.",
    )


def _empowered_units(actor: Actor, action: Action, context: Context) -> Decision:
    if _rank(role_in_unit(actor, context.hub_unit)) >= ROLE_RANK[Role.MANAGER]:
        return _allow(0, "Empowered units: hub managers may speak on every unit's accounts.")
    scope = _rank(role_in_unit(actor, _owning_unit(context)))
    if scope < ROLE_RANK[Role.CONTRIBUTOR]:
        return _deny(
            "Empowered units: only members of the unit that owns the account (or hub managers) "
            "speak on it."
        )
    if scope >= ROLE_RANK[Role.MANAGER]:
        return _allow(0, "Empowered units: unit managers speak on their unit's accounts.")
    if scope >= ROLE_RANK[Role.AGENT]:
        if action is Action.PUBLISH:
            return _allow(1, "Empowered units: a unit manager approves new posts by agents.")
        return _allow(0, "Empowered units: agents answer on their unit's accounts.")
    if action is Action.REPLY_PRIVATE:
        return _allow(0, "Empowered units: trained contributors answer privately in their unit.")
    return _allow(1, "Empowered units: a unit manager approves contributors' public posts.")


def _decentralized(actor: Actor, action: Action, context: Context) -> Decision:
    if ROLE_RANK[actor.role] >= ROLE_RANK[Role.AGENT]:
        return _allow(0, "Decentralized: trained staff speak; the hub reviews after the fact.")
    if action is not Action.PUBLISH:
        return _allow(0, "Decentralized: trained contributors reply; the hub reviews afterwards.")
    if _rank(role_in_unit(actor, _owning_unit(context))) >= ROLE_RANK[Role.CONTRIBUTOR]:
        return _allow(0, "Decentralized: trained contributors post on their own unit's accounts.")
    return _allow(
        1, "Decentralized: a manager of the owning unit approves posts from outside the unit."
    )


_CONTENT_RULES = {
    CoordinationModel.COMMAND_AND_CONTROL: _command_and_control,
    CoordinationModel.EMPOWERED_UNITS: _empowered_units,
    CoordinationModel.DECENTRALIZED: _decentralized,
}


def _content(actor: Actor, action: Action, context: Context) -> Decision:
    if actor.role is Role.VIEWER:
        return _deny("Viewers never publish or reply on behalf of the organization.")
    if actor.role in _OVERSEERS:
        return _allow(0, "Owners and admins may speak on every brand account.")
    if not actor.trained:
        return _deny(
            "Not trained: read the current social media guidelines and pass the quiz before "
            "publishing or replying."
        )
    return _CONTENT_RULES[context.model](actor, action, context)


# --- everything else --------------------------------------------------------------------------


def _administration(actor: Actor, action: Action, context: Context) -> Decision:
    hub = _rank(role_in_unit(actor, context.hub_unit))
    owning = _rank(role_in_unit(actor, _owning_unit(context)))
    manager = ROLE_RANK[Role.MANAGER]
    cc = context.model is CoordinationModel.COMMAND_AND_CONTROL
    if action is Action.CHANGE_MODEL:
        if actor.role is Role.OWNER:
            return _allow(0, "Owners choose the coordination model.")
        if actor.role is Role.ADMIN:
            return _allow(1, "An owner approves an admin's change of coordination model.")
        return _deny("Only owners and admins may change the coordination model.")
    if actor.role in _OVERSEERS:
        return _allow(0, f"Owners and admins may {action.value.replace('_', ' ')}.")
    if action is Action.EDIT_POLICY:
        if hub >= manager and not cc:
            return _allow(1, "An owner or admin approves policy changes by hub managers.")
        return _deny(
            "The social media policy is edited by owners and admins (and hub managers outside "
            "command and control)."
        )
    if action in (Action.CONNECT_ACCOUNT, Action.DISCONNECT_ACCOUNT):
        if hub >= manager:
            return _allow(1 if cc else 0, "Hub managers manage the brand-account registry.")
        if owning >= manager and not cc:
            return _allow(1, "A hub manager or admin approves a unit manager's account change.")
        return _deny(
            "Brand accounts are connected and disconnected by managers of their unit (the hub "
            "under command and control), owners and admins."
        )
    if action is Action.VIEW_PERSONAL_DATA:
        scope = hub if cc else max(owning, hub if hub >= manager else -1)
        if scope >= ROLE_RANK[Role.AGENT]:
            return _allow(0, "Agents and managers see personal data of the accounts they serve.")
        return _deny(
            "Personal data is visible to agents and managers of the owning unit (the hub under "
            "command and control), owners and admins."
        )
    # Action.EXPORT_DATA
    if hub >= manager:
        return _allow(1, "An owner or admin approves data exports by hub managers.")
    return _deny("Data exports are for owners, admins and hub managers (with approval).")


def decide(actor: Actor, action: Action, context: Context) -> Decision:
    """May `actor` take `action` in `context`, and after how many approvals by others?

    Order: blocking findings deny; then the role, training and unit rules of the context's
    coordination model; then public content in crisis mode (or `REPLY_CRISIS`) needs at least
    one approval, and so do warning findings on content except under the decentralized model
    (where the hub reviews after the fact).
    """
    blocking = sorted({f.rule for f in context.findings if f.severity is Severity.BLOCK})
    if blocking:
        return _deny(
            f"Blocked by policy rule(s) {', '.join(blocking)}: fix the text first; no approval "
            "can override a blocking finding."
        )
    if action in CONTENT_ACTIONS:
        decision = _content(actor, action, context)
    else:
        decision = _administration(actor, action, context)
    if not decision.allowed:
        return decision
    needed, reason = decision.approvals_needed, decision.reason
    crisis = context.crisis or action is Action.REPLY_CRISIS
    if action in PUBLIC_ACTIONS and crisis and needed == 0:
        needed, reason = 1, f"{reason} Crisis mode: every public post or reply is approved."
    warnings = sorted({f.rule for f in context.findings if f.severity is Severity.WARN})
    if (
        action in CONTENT_ACTIONS
        and warnings
        and context.model is not CoordinationModel.DECENTRALIZED
        and needed == 0
    ):
        needed, reason = 1, f"{reason} Warnings ({', '.join(warnings)}) need a second look."
    return _allow(needed, reason)


def _approver_scope(approver: Actor, request: ApprovalRequest) -> int:
    """The approver's standing for this request: the hub under command and control and in a
    crisis; otherwise the hub or the unit owning the account, whichever is higher."""
    context = request.context
    hub = _rank(role_in_unit(approver, context.hub_unit))
    crisis = context.crisis or request.action is Action.REPLY_CRISIS
    if context.model is CoordinationModel.COMMAND_AND_CONTROL or crisis:
        return hub
    return max(hub, _rank(role_in_unit(approver, _owning_unit(context))))


def approve(approver: Actor, request: ApprovalRequest) -> Decision:
    """May `approver` give one approval to `request`? On yes, `approvals_needed` is how many
    more approvals the request waits for after this one.

    An approver is someone else, who has not approved it yet, who could take the same action
    at once in ordinary times (no crisis, no findings), and for content is a manager or above
    in the right scope (`_approver_scope`). Blocking findings cannot be approved past.
    """
    if approver.id == request.requester_id:
        return _deny("Nobody approves their own request.")
    if approver.id in request.approved_by:
        return _deny("Each approval comes from a different person: you already approved this.")
    remaining = request.approvals_needed - len(request.approved_by)
    if remaining <= 0:
        return _deny("This request needs no more approvals.")
    context = request.context
    if any(f.severity is Severity.BLOCK for f in context.findings):
        return _deny("The content has blocking findings: it must be fixed, not approved.")
    ordinary = context.model_copy(update={"crisis": False, "findings": ()})
    action = Action.REPLY_PUBLIC if request.action is Action.REPLY_CRISIS else request.action
    own = decide(approver, action, ordinary)
    if not own.allowed or own.approvals_needed > 0:
        return _deny("Only someone who could take this action without approval may approve it.")
    if (
        request.action in CONTENT_ACTIONS
        and _approver_scope(approver, request) < ROLE_RANK[Role.MANAGER]
    ):
        return _deny(
            "Content is approved by managers of the hub (under command and control and in a "
            "crisis) or of the unit that owns the account, owners and admins."
        )
    left = remaining - 1
    return _allow(left, "Approved." if left == 0 else f"Approved; {left} more approval(s) needed.")


# --- the documented table ---------------------------------------------------------------------

# Representative people for the table: the account acted on belongs to the business unit
# "unit"; "other" is another business unit. Everyone is trained unless said otherwise.
_PERSONAS: tuple[tuple[str, Actor], ...] = (
    ("owner", Actor(id="o", role=Role.OWNER, trained=True)),
    ("admin", Actor(id="a", role=Role.ADMIN, trained=True)),
    ("hub manager", Actor(id="hm", role=Role.MANAGER, units={"hub": Role.MANAGER}, trained=True)),
    ("hub agent", Actor(id="ha", role=Role.AGENT, units={"hub": Role.AGENT}, trained=True)),
    (
        "hub contributor",
        Actor(id="hc", role=Role.CONTRIBUTOR, units={"hub": Role.CONTRIBUTOR}, trained=True),
    ),
    ("unit manager", Actor(id="um", role=Role.MANAGER, units={"unit": Role.MANAGER}, trained=True)),
    ("unit agent", Actor(id="ua", role=Role.AGENT, units={"unit": Role.AGENT}, trained=True)),
    (
        "unit contributor",
        Actor(id="uc", role=Role.CONTRIBUTOR, units={"unit": Role.CONTRIBUTOR}, trained=True),
    ),
    (
        "other-unit contributor",
        Actor(id="oc", role=Role.CONTRIBUTOR, units={"other": Role.CONTRIBUTOR}, trained=True),
    ),
    (
        "untrained contributor",
        Actor(id="nc", role=Role.CONTRIBUTOR, units={"unit": Role.CONTRIBUTOR}, trained=False),
    ),
    ("viewer", Actor(id="v", role=Role.VIEWER, units={"unit": Role.VIEWER}, trained=True)),
)


def _cell(decision: Decision) -> str:
    return "—" if not decision.allowed else str(decision.approvals_needed)


def persona_names() -> tuple[str, ...]:
    """The column heads of the documented table: the representative people."""
    return tuple(name for name, _ in _PERSONAS)


def rules_rows(model: CoordinationModel) -> list[tuple[Action, tuple[Decision, ...]]]:
    """One model's rows of the documented table: each action with the decision for each
    person of `persona_names()` (account owned by the business unit "unit", no findings, no
    crisis). The model picker page renders these."""
    context = Context(model=model, account_unit="unit")
    return [
        (action, tuple(decide(actor, action, context) for _, actor in _PERSONAS))
        for action in Action
    ]


def rules_table() -> str:
    """The model x action x role table of ``docs/governance.md`` as Markdown: each cell is the
    number of approvals needed (0: at once) or "—" (refused), for an account owned by the
    business unit "unit", no policy findings and no crisis."""
    header = ["model", "action", *persona_names()]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for model in CoordinationModel:
        for action, decisions in rules_rows(model):
            cells = [_cell(decision) for decision in decisions]
            lines.append(f"| {model.value} | {action.value} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
