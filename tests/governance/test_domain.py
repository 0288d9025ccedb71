"""`decide` and `approve`: table-driven cases over model x action x role x context, the
documented table, and hypothesis properties for the invariants that hold under every model."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.governance.domain import (
    CONTENT_ACTIONS,
    PUBLIC_ACTIONS,
    Action,
    Actor,
    ApprovalRequest,
    Context,
    CoordinationModel,
    Decision,
    Finding,
    Severity,
    approve,
    decide,
    role_in_unit,
    rules_table,
)
from groundswell.identity.domain import Role

ROOT = Path(__file__).resolve().parents[2]
CC = CoordinationModel.COMMAND_AND_CONTROL
EU = CoordinationModel.EMPOWERED_UNITS
DEC = CoordinationModel.DECENTRALIZED

OWNER = Actor(id="owner", role=Role.OWNER)
ADMIN = Actor(id="admin", role=Role.ADMIN)
HUB_MANAGER = Actor(id="hm", role=Role.MANAGER, units={"hub": Role.MANAGER}, trained=True)
HUB_AGENT = Actor(id="ha", role=Role.AGENT, units={"hub": Role.AGENT}, trained=True)
HUB_CONTRIB = Actor(id="hc", role=Role.CONTRIBUTOR, units={"hub": Role.CONTRIBUTOR}, trained=True)
NORTH_MANAGER = Actor(id="nm", role=Role.MANAGER, units={"north": Role.MANAGER}, trained=True)
NORTH_AGENT = Actor(id="na", role=Role.AGENT, units={"north": Role.AGENT}, trained=True)
NORTH_CONTRIB = Actor(
    id="nc", role=Role.CONTRIBUTOR, units={"north": Role.CONTRIBUTOR}, trained=True
)
SOUTH_CONTRIB = Actor(
    id="sc", role=Role.CONTRIBUTOR, units={"south": Role.CONTRIBUTOR}, trained=True
)
UNTRAINED = Actor(id="ut", role=Role.CONTRIBUTOR, units={"north": Role.CONTRIBUTOR})
UNTRAINED_MANAGER = Actor(id="um", role=Role.MANAGER, units={"north": Role.MANAGER})
VIEWER = Actor(id="v", role=Role.VIEWER, units={"north": Role.MANAGER}, trained=True)
# A unit role above the organization role is capped by it: this is a contributor in "north".
CAPPED = Actor(id="cap", role=Role.CONTRIBUTOR, units={"north": Role.MANAGER}, trained=True)

NORTH: dict[str, object] = {"account_unit": "north"}
WARN = (Finding(rule="legal.claims", severity=Severity.WARN, start=0, end=5, message="m"),)
BLOCK = (Finding(rule="respect.slurs", severity=Severity.BLOCK, start=3, end=9, message="m"),)
INFO = (Finding(rule="competitors", severity=Severity.INFO, start=0, end=1, message="m"),)

# (model, action, actor, context overrides, expected cell: "—" refused, else approvals needed)
CASES: list[tuple[CoordinationModel, Action, Actor, dict[str, object], str]] = [
    # Command and control: the hub speaks, everybody else proposes.
    (CC, Action.PUBLISH, HUB_MANAGER, NORTH, "0"),
    (CC, Action.PUBLISH, HUB_AGENT, NORTH, "1"),
    (CC, Action.REPLY_PUBLIC, HUB_AGENT, NORTH, "0"),
    (CC, Action.REPLY_PUBLIC, HUB_CONTRIB, NORTH, "1"),
    (CC, Action.REPLY_PUBLIC, NORTH_CONTRIB, NORTH, "1"),
    (CC, Action.REPLY_PUBLIC, NORTH_MANAGER, NORTH, "1"),
    (CC, Action.REPLY_PRIVATE, NORTH_AGENT, NORTH, "1"),
    (CC, Action.PUBLISH, OWNER, NORTH, "0"),
    (CC, Action.PUBLISH, UNTRAINED, NORTH, "—"),
    (CC, Action.PUBLISH, VIEWER, NORTH, "—"),
    (CC, Action.EDIT_POLICY, HUB_MANAGER, {}, "—"),
    (CC, Action.EDIT_POLICY, ADMIN, {}, "0"),
    (CC, Action.CONNECT_ACCOUNT, HUB_MANAGER, NORTH, "1"),
    (CC, Action.CONNECT_ACCOUNT, NORTH_MANAGER, NORTH, "—"),
    (CC, Action.VIEW_PERSONAL_DATA, HUB_AGENT, NORTH, "0"),
    (CC, Action.VIEW_PERSONAL_DATA, NORTH_AGENT, NORTH, "—"),
    (CC, Action.VIEW_PERSONAL_DATA, HUB_CONTRIB, NORTH, "—"),
    # Empowered units: each unit in its own scope, the hub everywhere.
    (EU, Action.PUBLISH, NORTH_MANAGER, NORTH, "0"),
    (EU, Action.PUBLISH, NORTH_AGENT, NORTH, "1"),
    (EU, Action.REPLY_PUBLIC, NORTH_AGENT, NORTH, "0"),
    (EU, Action.REPLY_PUBLIC, NORTH_CONTRIB, NORTH, "1"),
    (EU, Action.REPLY_PRIVATE, NORTH_CONTRIB, NORTH, "0"),
    (EU, Action.REPLY_PUBLIC, SOUTH_CONTRIB, NORTH, "—"),
    (EU, Action.REPLY_PUBLIC, HUB_AGENT, NORTH, "—"),
    (EU, Action.REPLY_PUBLIC, HUB_AGENT, {}, "0"),  # the hub's own account
    (EU, Action.PUBLISH, HUB_MANAGER, NORTH, "0"),
    (EU, Action.PUBLISH, CAPPED, NORTH, "1"),  # capped to contributor
    (EU, Action.EDIT_POLICY, HUB_MANAGER, {}, "1"),
    (EU, Action.EDIT_POLICY, NORTH_MANAGER, {}, "—"),
    (EU, Action.CONNECT_ACCOUNT, NORTH_MANAGER, NORTH, "1"),
    (EU, Action.DISCONNECT_ACCOUNT, NORTH_MANAGER, {"account_unit": "south"}, "—"),
    (EU, Action.VIEW_PERSONAL_DATA, NORTH_AGENT, NORTH, "0"),
    (EU, Action.VIEW_PERSONAL_DATA, NORTH_AGENT, {"account_unit": "south"}, "—"),
    # Decentralized: trained people speak; the hub reviews after the fact.
    (DEC, Action.PUBLISH, NORTH_CONTRIB, NORTH, "0"),
    (DEC, Action.PUBLISH, SOUTH_CONTRIB, NORTH, "1"),
    (DEC, Action.REPLY_PUBLIC, SOUTH_CONTRIB, NORTH, "0"),
    (DEC, Action.REPLY_PUBLIC, UNTRAINED, NORTH, "—"),
    (DEC, Action.REPLY_PUBLIC, UNTRAINED_MANAGER, NORTH, "—"),
    (DEC, Action.PUBLISH, VIEWER, NORTH, "—"),
    (DEC, Action.EXPORT_DATA, HUB_MANAGER, {}, "1"),
    (DEC, Action.EXPORT_DATA, NORTH_MANAGER, {}, "—"),
    # Every model: the model itself is the owner's call.
    (DEC, Action.CHANGE_MODEL, OWNER, {}, "0"),
    (EU, Action.CHANGE_MODEL, ADMIN, {}, "1"),
    (CC, Action.CHANGE_MODEL, HUB_MANAGER, {}, "—"),
    # Crisis: every public post or reply waits for an approval, owners' too.
    (DEC, Action.REPLY_PUBLIC, NORTH_CONTRIB, {**NORTH, "crisis": True}, "1"),
    (CC, Action.PUBLISH, OWNER, {"crisis": True}, "1"),
    (EU, Action.REPLY_CRISIS, NORTH_MANAGER, NORTH, "1"),
    (EU, Action.REPLY_PRIVATE, NORTH_AGENT, {**NORTH, "crisis": True}, "0"),  # not public
    (CC, Action.EDIT_POLICY, ADMIN, {"crisis": True}, "0"),
    # Findings: blocking always refuses; warnings ask for a second look except decentralized.
    (CC, Action.PUBLISH, OWNER, {"findings": BLOCK}, "—"),
    (DEC, Action.REPLY_PRIVATE, NORTH_CONTRIB, {**NORTH, "findings": BLOCK}, "—"),
    (CC, Action.REPLY_PUBLIC, HUB_MANAGER, {**NORTH, "findings": WARN}, "1"),
    (EU, Action.REPLY_PRIVATE, NORTH_CONTRIB, {**NORTH, "findings": WARN}, "1"),
    (DEC, Action.REPLY_PUBLIC, NORTH_CONTRIB, {**NORTH, "findings": WARN}, "0"),
    (EU, Action.PUBLISH, NORTH_MANAGER, {**NORTH, "findings": INFO}, "0"),
]


def cell(decision: Decision) -> str:
    return str(decision.approvals_needed) if decision.allowed else "—"


@pytest.mark.parametrize(
    ("model", "action", "actor", "overrides", "expected"),
    CASES,
    ids=[f"{m.value}-{a.value}-{p.id}-{i}" for i, (m, a, p, _, _) in enumerate(CASES)],
)
def test_decision_table(
    model: CoordinationModel,
    action: Action,
    actor: Actor,
    overrides: dict[str, object],
    expected: str,
) -> None:
    decision = decide(actor, action, Context.model_validate({"model": model, **overrides}))
    assert cell(decision) == expected, decision.reason
    assert decision.reason


def test_docs_show_the_table_the_code_implements() -> None:
    assert rules_table() in (ROOT / "docs" / "governance.md").read_text()


def test_reasons_name_what_to_do() -> None:
    untrained = decide(UNTRAINED, Action.PUBLISH, Context(model=DEC))
    assert "guidelines" in untrained.reason
    blocked = decide(OWNER, Action.PUBLISH, Context(model=DEC, findings=BLOCK))
    assert "respect.slurs" in blocked.reason


def test_a_finding_cannot_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="ends at or after"):
        Finding(rule="r", severity=Severity.INFO, start=5, end=4, message="m")


def test_unit_role_is_capped_by_the_organization_role() -> None:
    assert role_in_unit(CAPPED, "north") is Role.CONTRIBUTOR
    assert role_in_unit(NORTH_MANAGER, "south") is None
    assert role_in_unit(ADMIN, "anywhere") is Role.ADMIN


# --- approvals ---------------------------------------------------------------------------------


def request_of(
    requester: Actor, action: Action, context: Context, approved_by: tuple[str, ...] = ()
) -> ApprovalRequest:
    decision = decide(requester, action, context)
    assert decision.allowed, decision.reason
    return ApprovalRequest(
        requester_id=requester.id,
        action=action,
        context=context,
        approvals_needed=decision.approvals_needed,
        approved_by=approved_by,
    )


def test_command_and_control_contributor_reply_waits_for_a_hub_manager() -> None:
    context = Context(model=CC, account_unit="north")
    request = request_of(NORTH_CONTRIB, Action.REPLY_PUBLIC, context)
    assert request.approvals_needed == 1
    assert not approve(NORTH_CONTRIB, request).allowed  # not their own
    assert not approve(HUB_AGENT, request).allowed  # agents do not approve
    assert not approve(NORTH_MANAGER, request).allowed  # the hub decides under C&C
    granted = approve(HUB_MANAGER, request)
    assert granted == Decision(allowed=True, approvals_needed=0, reason="Approved.")


def test_empowered_units_unit_manager_approves_in_their_unit_only() -> None:
    request = request_of(NORTH_CONTRIB, Action.PUBLISH, Context(model=EU, account_unit="north"))
    assert approve(NORTH_MANAGER, request).allowed
    south_manager = Actor(id="sm", role=Role.MANAGER, units={"south": Role.MANAGER}, trained=True)
    assert not approve(south_manager, request).allowed
    assert approve(HUB_MANAGER, request).allowed


def test_crisis_approvals_come_from_the_hub() -> None:
    request = request_of(
        NORTH_MANAGER, Action.REPLY_CRISIS, Context(model=EU, account_unit="north")
    )
    other_north_manager = NORTH_MANAGER.model_copy(update={"id": "nm2"})
    assert not approve(other_north_manager, request).allowed
    assert approve(HUB_MANAGER, request).allowed


def test_each_approval_from_a_different_person_until_none_is_needed() -> None:
    context = Context(model=EU)
    request = ApprovalRequest(
        requester_id="x", action=Action.EXPORT_DATA, context=context, approvals_needed=2
    )
    first = approve(OWNER, request)
    assert (first.allowed, first.approvals_needed) == (True, 1)
    again = approve(OWNER, request.model_copy(update={"approved_by": ("owner",)}))
    assert not again.allowed
    second = approve(ADMIN, request.model_copy(update={"approved_by": ("owner",)}))
    assert (second.allowed, second.approvals_needed) == (True, 0)
    done = approve(HUB_MANAGER, request.model_copy(update={"approved_by": ("owner", "admin")}))
    assert not done.allowed


def test_only_an_owner_approves_a_change_of_model() -> None:
    request = request_of(ADMIN, Action.CHANGE_MODEL, Context(model=CC))
    assert not approve(ADMIN.model_copy(update={"id": "admin2"}), request).allowed
    assert approve(OWNER, request).allowed


def test_untrained_manager_cannot_approve_content() -> None:
    request = request_of(NORTH_CONTRIB, Action.PUBLISH, Context(model=EU, account_unit="north"))
    assert not approve(UNTRAINED_MANAGER, request).allowed


# --- properties --------------------------------------------------------------------------------

UNITS = ["hub", "north", "south"]
roles = st.sampled_from(list(Role))
actors = st.builds(
    Actor,
    id=st.sampled_from(["a", "b", "c", "d"]),
    role=roles,
    units=st.dictionaries(st.sampled_from(UNITS), roles, max_size=3),
    trained=st.booleans(),
)
findings = st.builds(
    lambda rule, severity, start, length: Finding(
        rule=rule, severity=severity, start=start, end=start + length, message="fix it"
    ),
    rule=st.sampled_from(["r1", "r2", "r3"]),
    severity=st.sampled_from(list(Severity)),
    start=st.integers(0, 50),
    length=st.integers(0, 20),
)
contexts = st.builds(
    Context,
    model=st.sampled_from(list(CoordinationModel)),
    account_unit=st.sampled_from([None, *UNITS]),
    findings=st.lists(findings, max_size=3).map(tuple),
    crisis=st.booleans(),
)
actions = st.sampled_from(list(Action))


@given(actors, actions, contexts)
def test_blocking_findings_always_deny(actor: Actor, action: Action, context: Context) -> None:
    blocking = Finding(rule="b", severity=Severity.BLOCK, start=0, end=1, message="m")
    context = context.model_copy(update={"findings": (*context.findings, blocking)})
    assert not decide(actor, action, context).allowed
    request = ApprovalRequest(
        requester_id="someone-else", action=action, context=context, approvals_needed=1
    )
    assert not approve(actor, request).allowed


@given(actors, actions, contexts, st.integers(0, 3), st.lists(st.sampled_from("abcd")))
def test_nobody_approves_their_own_request(
    actor: Actor, action: Action, context: Context, needed: int, approved_by: list[str]
) -> None:
    request = ApprovalRequest(
        requester_id=actor.id,
        action=action,
        context=context,
        approvals_needed=needed,
        approved_by=tuple(approved_by),
    )
    assert not approve(actor, request).allowed


@given(actors, st.sampled_from(sorted(CONTENT_ACTIONS)), contexts)
def test_a_viewer_never_publishes(actor: Actor, action: Action, context: Context) -> None:
    viewer = actor.model_copy(update={"role": Role.VIEWER})
    assert not decide(viewer, action, context).allowed


@given(actors, st.sampled_from(sorted(CONTENT_ACTIONS)), contexts)
def test_switching_the_model_never_lets_an_untrained_contributor_publish(
    actor: Actor, action: Action, context: Context
) -> None:
    contributor = actor.model_copy(update={"role": Role.CONTRIBUTOR, "trained": False})
    for model in CoordinationModel:
        switched = context.model_copy(update={"model": model})
        assert not decide(contributor, action, switched).allowed


@given(actors, st.sampled_from(sorted(PUBLIC_ACTIONS)), contexts)
def test_in_crisis_every_public_post_waits_for_approval(
    actor: Actor, action: Action, context: Context
) -> None:
    decision = decide(actor, action, context.model_copy(update={"crisis": True}))
    assert not decision.allowed or decision.approvals_needed >= 1


@given(actors, actions, contexts)
def test_an_approver_could_act_alone_in_ordinary_times(
    actor: Actor, action: Action, context: Context
) -> None:
    request = ApprovalRequest(
        requester_id="requester", action=action, context=context, approvals_needed=1
    )
    if approve(actor, request).allowed:
        ordinary = context.model_copy(update={"crisis": False, "findings": ()})
        own_action = Action.REPLY_PUBLIC if action is Action.REPLY_CRISIS else action
        assert decide(actor, own_action, ordinary).approvals_needed == 0
        assert actor.role is not Role.VIEWER
