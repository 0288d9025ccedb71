"""Care set-up: teams and their members, SLA policies, routing rules, saved replies, and the
manual merge of customers. Reading needs `org:read`; changing needs a manager or above
(saved replies: anyone with `content:write`). Every change is audited; functions flush."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care.domain import BusinessHours
from groundswell.care.rules import Actions, Conditions, Strategy
from groundswell.care.tables import (
    CareRoutingRule,
    CareSlaPolicy,
    CareTeam,
    CareTeamMember,
)
from groundswell.identity.domain import ROLE_RANK, Permission, Role
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound

ESCALATIONS = ("notify", "reassign")


def require_manager(actor: Actor) -> None:
    actor.require(Permission.CONTENT_WRITE)
    if ROLE_RANK[actor.role] < ROLE_RANK[Role.MANAGER]:
        raise Forbidden("Only managers and above change care teams, SLA policies and rules.")


def audit_change(
    session: Session,
    actor: Actor,
    action: str,
    kind: str,
    row_id: str,
    now: datetime,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    audit.record(
        session, actor.audit, action, kind, row_id, before=before, after=after,
        clock=FrozenClock(now),
    )  # fmt: skip


# --- teams ------------------------------------------------------------------------------------


def team_snapshot(t: CareTeam) -> dict[str, Any]:
    return {
        "name": t.name,
        "timezone": t.timezone,
        "business_hours": t.business_hours,
        "holidays": list(t.holidays or []),
        "languages": list(t.languages or []),
        "assignment": t.assignment,
        "escalation": t.escalation,
        "lead_id": t.lead_id,
    }


def list_teams(session: Session, actor: Actor) -> list[CareTeam]:
    actor.require(Permission.ORG_READ)
    return list(
        session.scalars(
            select(CareTeam)
            .where(CareTeam.organization_id == actor.organization_id)
            .order_by(CareTeam.name)
        )
    )


def access_team(session: Session, actor: Actor, ref: str) -> CareTeam:
    """A team of the actor's organization by id or name."""
    actor.require(Permission.ORG_READ)
    team = session.scalar(
        select(CareTeam).where(
            CareTeam.organization_id == actor.organization_id,
            (CareTeam.id == ref) | (CareTeam.name == ref),
        )
    )
    if team is None:
        raise NotFound(f"No team {ref!r}.")
    return team


def _user_in_org(session: Session, actor: Actor, ref: str) -> User:
    user = session.scalar(
        select(User).where(
            User.organization_id == actor.organization_id,
            (User.id == ref) | (User.email == ref.strip().lower()),
        )
    )
    if user is None or not user.is_active:
        raise InvalidInput(f"No active user {ref!r} in your organization.")
    return user


def _check_team_fields(
    timezone: str, business_hours: str, holidays: Sequence[str], assignment: str, escalation: str
) -> None:
    BusinessHours.parse(business_hours, timezone, holidays)  # InvalidInput names the bad part
    try:
        Strategy(assignment)
    except ValueError:
        raise InvalidInput(
            f"Unknown assignment {assignment!r}; use {', '.join(s.value for s in Strategy)}."
        ) from None
    if escalation not in ESCALATIONS:
        raise InvalidInput(f"Unknown escalation {escalation!r}; use {', '.join(ESCALATIONS)}.")


def save_team(
    session: Session,
    actor: Actor,
    *,
    name: str,
    timezone: str = "UTC",
    business_hours: str = "mon-fri 09:00-17:00",
    holidays: Sequence[str] = (),
    languages: Sequence[str] = (),
    assignment: str = "round_robin",
    escalation: str = "notify",
    lead: str | None = None,
    team_id: str | None = None,
    now: datetime,
) -> CareTeam:
    """Create a team, or (with `team_id`) replace its settings."""
    require_manager(actor)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("A team needs a name (at most 200 characters).")
    _check_team_fields(timezone, business_hours, holidays, assignment, escalation)
    lead_id = _user_in_org(session, actor, lead).id if lead else None
    clash = session.scalar(
        select(CareTeam.id).where(
            CareTeam.organization_id == actor.organization_id, CareTeam.name == name
        )
    )
    if clash is not None and clash != team_id:
        raise Conflict(f"A team named {name!r} exists already.")
    team = access_team(session, actor, team_id) if team_id else None
    before = team_snapshot(team) if team else None
    if team is None:
        team = CareTeam(organization_id=actor.organization_id, created_at=now)
        session.add(team)
    team.name = name
    team.timezone = timezone.strip()
    team.business_hours = BusinessHours.parse(business_hours, timezone, holidays).spec
    team.holidays = sorted({h.strip() for h in holidays})
    team.languages = sorted({lang.strip().lower() for lang in languages if lang.strip()})
    team.assignment = assignment
    team.escalation = escalation
    team.lead_id = lead_id
    team.updated_at = now
    session.flush()
    audit_change(
        session, actor, "care.team.save", "care_team", team.id, now,
        before=before, after=team_snapshot(team),
    )  # fmt: skip
    return team


def members(session: Session, actor: Actor, team_ref: str) -> list[CareTeamMember]:
    team = access_team(session, actor, team_ref)
    return list(
        session.scalars(
            select(CareTeamMember)
            .where(CareTeamMember.team_id == team.id)
            .order_by(CareTeamMember.user_id)
        )
    )


def set_member(
    session: Session,
    actor: Actor,
    team_ref: str,
    user_ref: str,
    *,
    capacity: int = 10,
    languages: Sequence[str] = (),
    available: bool = True,
    now: datetime,
) -> CareTeamMember:
    """Add a user to a team or change their capacity, languages and availability. People may
    change their own availability; the rest needs a manager."""
    team = access_team(session, actor, team_ref)
    user = _user_in_org(session, actor, user_ref)
    if user.id != actor.user_id:
        require_manager(actor)
    else:
        actor.require(Permission.CONTENT_WRITE)
    if not 0 <= capacity <= 1000:
        raise InvalidInput("capacity must be between 0 and 1000.")
    row = session.scalar(
        select(CareTeamMember).where(
            CareTeamMember.team_id == team.id, CareTeamMember.user_id == user.id
        )
    )
    before = None
    if row is None:
        row = CareTeamMember(organization_id=team.organization_id, team_id=team.id, user_id=user.id)
        session.add(row)
    else:
        before = {"capacity": row.capacity, "languages": row.languages, "available": row.available}
    row.capacity = capacity
    row.languages = sorted({lang.strip().lower() for lang in languages if lang.strip()})
    row.available = available
    session.flush()
    audit_change(
        session, actor, "care.team.member", "care_team_member", row.id, now, before=before,
        after={"team": team.name, "user": user.email, "capacity": capacity,
               "languages": row.languages, "available": available},
    )  # fmt: skip
    return row


def remove_member(
    session: Session, actor: Actor, team_ref: str, user_ref: str, *, now: datetime
) -> None:
    require_manager(actor)
    team = access_team(session, actor, team_ref)
    user = _user_in_org(session, actor, user_ref)
    row = session.scalar(
        select(CareTeamMember).where(
            CareTeamMember.team_id == team.id, CareTeamMember.user_id == user.id
        )
    )
    if row is None:
        raise NotFound(f"{user.email} is not in team {team.name}.")
    audit_change(
        session, actor, "care.team.member_remove", "care_team_member", row.id, now,
        before={"team": team.name, "user": user.email},
    )  # fmt: skip
    session.delete(row)
    session.flush()


# --- SLA policies -----------------------------------------------------------------------------


def list_policies(session: Session, actor: Actor) -> list[CareSlaPolicy]:
    actor.require(Permission.ORG_READ)
    return list(
        session.scalars(
            select(CareSlaPolicy)
            .where(CareSlaPolicy.organization_id == actor.organization_id)
            .order_by(CareSlaPolicy.team_id, CareSlaPolicy.min_priority)
        )
    )


def set_policy(
    session: Session,
    actor: Actor,
    *,
    name: str,
    first_response_minutes: int,
    next_response_minutes: int,
    resolution_minutes: int,
    min_priority: int = 0,
    team: str | None = None,
    now: datetime,
) -> CareSlaPolicy:
    """Set the targets (business minutes) of one priority band of a team (None: the
    organization's default), replacing the band's earlier targets. Conversations opened from
    now on use it; running clocks keep their deadlines."""
    require_manager(actor)
    for label, value in (
        ("first_response_minutes", first_response_minutes),
        ("next_response_minutes", next_response_minutes),
        ("resolution_minutes", resolution_minutes),
    ):
        if not 1 <= value <= 525_600:
            raise InvalidInput(f"{label} must be between 1 and 525600 (a year).")
    if not 0 <= min_priority <= 100:
        raise InvalidInput("min_priority must be between 0 and 100.")
    team_id = access_team(session, actor, team).id if team else None
    row = session.scalar(
        select(CareSlaPolicy).where(
            CareSlaPolicy.organization_id == actor.organization_id,
            CareSlaPolicy.team_id.is_(None)
            if team_id is None
            else CareSlaPolicy.team_id == team_id,
            CareSlaPolicy.min_priority == min_priority,
        )
    )
    if row is None:
        row = CareSlaPolicy(organization_id=actor.organization_id, team_id=team_id, created_at=now)
        session.add(row)
    row.name = name.strip()[:200] or f"P{min_priority}+"
    row.min_priority = min_priority
    row.first_response_minutes = first_response_minutes
    row.next_response_minutes = next_response_minutes
    row.resolution_minutes = resolution_minutes
    session.flush()
    audit_change(
        session, actor, "care.sla_policy.set", "care_sla_policy", row.id, now,
        after={"team_id": team_id, "min_priority": min_priority,
               "first_response": first_response_minutes, "next_response": next_response_minutes,
               "resolution": resolution_minutes},
    )  # fmt: skip
    return row


# --- routing rules ----------------------------------------------------------------------------


def list_rules(session: Session, actor: Actor) -> list[CareRoutingRule]:
    actor.require(Permission.ORG_READ)
    return list(
        session.scalars(
            select(CareRoutingRule)
            .where(CareRoutingRule.organization_id == actor.organization_id)
            .order_by(CareRoutingRule.position, CareRoutingRule.created_at, CareRoutingRule.id)
        )
    )


def _validated(
    conditions: dict[str, Any], actions: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        c = Conditions.model_validate(conditions)
        a = Actions.model_validate(actions)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(f"Bad rule: {where}: {first['msg']}") from None
    return c.model_dump(exclude_defaults=True), a.model_dump(exclude_defaults=True)


def save_rule(
    session: Session,
    actor: Actor,
    *,
    name: str,
    conditions: dict[str, Any],
    actions: dict[str, Any],
    position: int | None = None,
    active: bool = True,
    rule_id: str | None = None,
    now: datetime,
) -> CareRoutingRule:
    """Create a rule (at the end unless `position` is given), or replace one (`rule_id`)."""
    require_manager(actor)
    name = name.strip()
    if not name or len(name) > 200:
        raise InvalidInput("A rule needs a name (at most 200 characters).")
    cond, act = _validated(conditions, actions)
    if act.get("team_id"):
        access_team(session, actor, str(act["team_id"]))
    if act.get("assignee_id"):
        _user_in_org(session, actor, str(act["assignee_id"]))
    row = access_rule(session, actor, rule_id) if rule_id else None
    before = rule_snapshot(row) if row else None
    if row is None:
        last = session.scalar(
            select(CareRoutingRule.position)
            .where(CareRoutingRule.organization_id == actor.organization_id)
            .order_by(CareRoutingRule.position.desc())
            .limit(1)
        )
        row = CareRoutingRule(
            organization_id=actor.organization_id,
            created_at=now,
            position=(last + 1) if last is not None else 0,
        )
        session.add(row)
    if position is not None:
        if not 0 <= position <= 1_000_000:
            raise InvalidInput("position must be between 0 and 1000000.")
        row.position = position
    row.name, row.conditions, row.actions, row.active = name, cond, act, active
    row.updated_at = now
    session.flush()
    audit_change(
        session, actor, "care.rule.save", "care_routing_rule", row.id, now,
        before=before, after=rule_snapshot(row),
    )  # fmt: skip
    return row


def rule_snapshot(r: CareRoutingRule) -> dict[str, Any]:
    return {
        "name": r.name,
        "position": r.position,
        "conditions": r.conditions,
        "actions": r.actions,
        "active": r.active,
    }


def access_rule(session: Session, actor: Actor, rule_id: str) -> CareRoutingRule:
    actor.require(Permission.ORG_READ)
    row = session.get(CareRoutingRule, rule_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound(f"No routing rule {rule_id!r}.")
    return row


def delete_rule(session: Session, actor: Actor, rule_id: str, *, now: datetime) -> None:
    require_manager(actor)
    row = access_rule(session, actor, rule_id)
    audit_change(
        session, actor, "care.rule.delete", "care_routing_rule", row.id, now,
        before=rule_snapshot(row),
    )  # fmt: skip
    session.delete(row)
    session.flush()
