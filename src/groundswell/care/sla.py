"""SLA policies applied to conversations: which deadlines run, when they are due and when to
warn, and the pause while the conversation is pending the customer.

All arithmetic is `care.domain`'s, in the team's business hours, time zone and holidays (a
conversation without a team runs on the clock: every hour of every day, UTC).

Deadlines of a conversation:

* first response: from the conversation's start, until our first reply is sent;
* next response: from each customer message that arrives after we answered, until we answer;
* resolution: from the start, until it is resolved.

The one that counts now (`sla_target`) is the earliest pending one; `sla_warn_at` is the
instant at which 75 % of its business minutes are used up (a quarter remains) and
`sla_due_at` its deadline. Pausing records `paused_at`; resuming moves every pending deadline
forward by the business time that passed while paused, so the customer's silence never counts
against the team.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from groundswell.care.domain import (
    BusinessHours,
    add_business_time,
    business_time_between,
)
from groundswell.care.tables import CareConversation, CareSlaPolicy, CareTeam
from groundswell.kernel.clock import as_utc

ALWAYS_OPEN = "mon-sun 00:00-24:00"
WARN_SHARE = 0.75
FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
RESOLUTION = "resolution"
_PRECISION = timedelta(seconds=1)


@lru_cache(maxsize=256)
def _parse_hours(hours: str, zone: str, holidays: tuple[str, ...]) -> BusinessHours:
    return BusinessHours.parse(hours, zone, holidays)


def hours_of(team: CareTeam | None) -> BusinessHours:
    """The business hours a team's deadlines run in (always open without a team)."""
    if team is None:
        return _parse_hours(ALWAYS_OPEN, "UTC", ())
    return _parse_hours(team.business_hours, team.timezone, tuple(sorted(team.holidays or [])))


def clock_for(
    session: Session, conversation: CareConversation
) -> tuple[BusinessHours, CareSlaPolicy | None]:
    """The business hours and SLA policy that apply to the conversation now."""
    team = session.get(CareTeam, conversation.team_id) if conversation.team_id else None
    policy = policy_for(
        session, conversation.organization_id, conversation.team_id, conversation.priority
    )
    return hours_of(team), policy


def policy_for(
    session: Session, organization_id: str, team_id: str | None, priority: int
) -> CareSlaPolicy | None:
    """The band that applies: the team's own policies if it has any, else the organization's
    default ones (team NULL); among them the highest `min_priority` <= `priority`."""
    rows = session.scalars(
        select(CareSlaPolicy).where(
            CareSlaPolicy.organization_id == organization_id,
            or_(CareSlaPolicy.team_id == team_id, CareSlaPolicy.team_id.is_(None))
            if team_id
            else CareSlaPolicy.team_id.is_(None),
        )
    ).all()
    own = [r for r in rows if r.team_id is not None]
    pool = own or [r for r in rows if r.team_id is None]
    bands = [r for r in pool if r.min_priority <= priority]
    return max(bands, key=lambda r: (r.min_priority, r.id)) if bands else None


def warn_instant(due_at: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The earliest instant (to the second) from which at most a quarter of `minutes` of
    business time remains before `due_at`: when 75 % of the target is used up."""
    remaining = timedelta(minutes=minutes) * (1 - WARN_SHARE)
    due_at = as_utc(due_at)
    if remaining <= timedelta(0):
        return due_at
    # Find a start early enough that more than `remaining` lies between it and the deadline.
    step = remaining
    low = due_at - step
    while business_time_between(low, due_at, hours) <= remaining:
        step *= 2
        if step > timedelta(days=3660):  # hours so sparse that nothing is earlier
            return due_at - step
        low = due_at - step
    high = due_at  # invariant: more than `remaining` from low, at most `remaining` from high
    while high - low > _PRECISION:
        middle = low + (high - low) / 2
        if business_time_between(middle, due_at, hours) <= remaining:
            high = middle
        else:
            low = middle
    return high.replace(microsecond=0) + (_PRECISION if high.microsecond else timedelta(0))


def _minutes_for(target: str, policy: CareSlaPolicy) -> int:
    if target == FIRST_RESPONSE:
        return policy.first_response_minutes
    if target == NEXT_RESPONSE:
        return policy.next_response_minutes
    return policy.resolution_minutes


def _due(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    return as_utc(add_business_time(start, timedelta(minutes=minutes), hours))


def retarget(
    conversation: CareConversation, hours: BusinessHours, policy: CareSlaPolicy | None
) -> None:
    """Point `sla_target` / `sla_due_at` / `sla_warn_at` at the earliest pending deadline;
    clear the warned/breached marks when the target changes."""
    c = conversation
    pending: list[tuple[datetime, str]] = []
    if c.status != "resolved":
        if c.first_responded_at is None and c.first_response_due_at is not None:
            pending.append((c.first_response_due_at, FIRST_RESPONSE))
        if c.first_responded_at is not None and c.next_response_due_at is not None:
            pending.append((c.next_response_due_at, NEXT_RESPONSE))
        if c.resolution_due_at is not None:
            pending.append((c.resolution_due_at, RESOLUTION))
    if not pending:
        target, due_at, warn_at = None, None, None
    else:
        due_at, target = min(pending)
        warn_at = (
            warn_instant(due_at, _minutes_for(target, policy), hours)
            if policy is not None
            else due_at
        )
    if (target, due_at) != (c.sla_target, c.sla_due_at):
        c.sla_warned_at = None
        c.sla_breached_at = None
    c.sla_target, c.sla_due_at, c.sla_warn_at = target, due_at, warn_at


def start(
    conversation: CareConversation,
    at: datetime,
    hours: BusinessHours,
    policy: CareSlaPolicy | None,
) -> None:
    """Start the first-response and resolution clocks of a new (or reopened) conversation."""
    c = conversation
    if policy is None:
        c.first_response_due_at = c.resolution_due_at = None
    else:
        if c.first_responded_at is None:
            c.first_response_due_at = _due(at, policy.first_response_minutes, hours)
        c.resolution_due_at = _due(at, policy.resolution_minutes, hours)
    retarget(c, hours, policy)


def customer_wrote(
    conversation: CareConversation,
    at: datetime,
    hours: BusinessHours,
    policy: CareSlaPolicy | None,
) -> None:
    """A customer message arrived: after our first answer it starts the next-response clock
    (unless one already runs)."""
    c = conversation
    if policy is not None and c.first_responded_at is not None and c.next_response_due_at is None:
        c.next_response_due_at = _due(at, policy.next_response_minutes, hours)
    retarget(c, hours, policy)


def we_answered(
    conversation: CareConversation,
    at: datetime,
    hours: BusinessHours,
    policy: CareSlaPolicy | None,
) -> None:
    """One of our replies went out: it stops the first- or next-response clock."""
    c = conversation
    if c.first_responded_at is None:
        c.first_responded_at = at
    c.next_response_due_at = None
    c.last_outbound_at = at
    retarget(c, hours, policy)


def pause(conversation: CareConversation, at: datetime) -> None:
    if conversation.paused_at is None:
        conversation.paused_at = at


def resume(
    conversation: CareConversation,
    at: datetime,
    hours: BusinessHours,
    policy: CareSlaPolicy | None,
) -> timedelta:
    """End a pause: every pending deadline moves forward by the business time that passed
    while paused (returned)."""
    c = conversation
    if c.paused_at is None:
        return timedelta(0)
    paused = max(business_time_between(c.paused_at, at, hours), timedelta(0))
    c.paused_at = None
    if paused > timedelta(0):
        for name in ("first_response_due_at", "next_response_due_at", "resolution_due_at"):
            due_at = getattr(c, name)
            if due_at is not None:
                setattr(c, name, as_utc(add_business_time(due_at, paused, hours)))
    retarget(c, hours, policy)
    return paused


def stop(conversation: CareConversation) -> None:
    """Resolved: no deadline runs any more."""
    c = conversation
    c.paused_at = None
    c.sla_target = c.sla_due_at = c.sla_warn_at = None
