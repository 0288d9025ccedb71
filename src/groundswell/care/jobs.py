"""Care's scheduled work (listed in `kernel.jobs_index`).

* `care.send_replies`: sends the replies whose undo window has passed (`care.sending`).
* `care.sla`: wakes snoozed conversations, warns at 75 % of the current SLA target (in-app,
  to the assignee, else the team lead), and on a breach escalates — reassigns to the team lead
  when the team says `reassign`, and notifies the assignee, the lead and the managers — and
  emits `SlaBreached` (email and webhooks follow from it). Each warning and breach is claimed
  with a compare-and-set on `sla_warned_at` / `sla_breached_at`, so it happens exactly once
  even with two workers.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, select, update
from sqlalchemy.orm import Session

from groundswell.care import notify, sending
from groundswell.care.events import SlaBreached, SlaWarning
from groundswell.care.service import conversation_link, snapshot
from groundswell.care.tables import CareConversation, CareTeam
from groundswell.identity.notifications import notify as notify_in_app
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock, FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import emit
from groundswell.kernel.jobs import job

BATCH = 200


@job("care.send_replies", every=timedelta(seconds=5))
def send_replies(db: Database, clock: Clock) -> int:
    return sending.send_due(db, clock)


@job("care.sla", every=timedelta(seconds=30))
def sla_job(db: Database, clock: Clock) -> int:
    """Wake, warn, breach; returns how many conversations it acted on."""
    now = clock.now()
    return wake_snoozed(db, now) + warn_due(db, now) + breach_due(db, now)


def _ids(db: Database, stmt: Select[tuple[str]] | Select[str]) -> list[str]:
    with db.reader() as session:
        return list(session.scalars(stmt))


def wake_snoozed(db: Database, now: datetime) -> int:
    with db.unit_of_work() as session:
        result = session.execute(
            update(CareConversation)
            .where(
                CareConversation.status == "snoozed",
                CareConversation.snoozed_until <= now,
            )
            .values(status="open", snoozed_until=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _claim(
    session: Session,
    column: str,
    conversation_id: str,
    now: datetime,
    *still: ColumnElement[bool],
) -> bool:
    """Set `column` (sla_warned_at or sla_breached_at) to now if it is still empty and the
    conditions `still` hold (the conversation may have changed since it was selected)."""
    target = getattr(CareConversation, column)
    result = session.execute(
        update(CareConversation)
        .where(CareConversation.id == conversation_id, target.is_(None), *still)
        .values({column: now})
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def _active() -> list[ColumnElement[bool]]:
    return [
        CareConversation.paused_at.is_(None),
        CareConversation.status != "resolved",
        CareConversation.sla_due_at.is_not(None),
    ]


def warn_due(db: Database, now: datetime) -> int:
    ids = _ids(
        db,
        select(CareConversation.id)
        .where(
            CareConversation.sla_warn_at <= now,
            CareConversation.sla_due_at > now,
            CareConversation.sla_warned_at.is_(None),
            *_active(),
        )
        .limit(BATCH),
    )
    done = 0
    for conversation_id in ids:
        with db.unit_of_work() as session:
            if not _claim(
                session,
                "sla_warned_at",
                conversation_id,
                now,
                CareConversation.sla_warn_at <= now,
                CareConversation.sla_due_at > now,
                *_active(),
            ):
                continue
            c = session.get(CareConversation, conversation_id)
            assert c is not None
            assert c.sla_target is not None
            assert c.sla_due_at is not None
            team = session.get(CareTeam, c.team_id) if c.team_id else None
            who = c.assignee_id or (team.lead_id if team else None)
            if who:
                minutes = max(int((c.sla_due_at - now).total_seconds() // 60), 0)
                notify_in_app(
                    session,
                    organization_id=c.organization_id,
                    user_ids=[who],
                    kind="care.sla_warning",
                    title=f"SLA: {c.sla_target.replace('_', ' ')} due in {minutes} min "
                    f"({c.customer_handle or c.customer_name})",
                    body=c.preview,
                    link=conversation_link(c.id),
                    now=now,
                )
            emit(
                session,
                SlaWarning(
                    organization_id=c.organization_id,
                    conversation_id=c.id,
                    target=c.sla_target,
                    due_at=c.sla_due_at,
                    assignee_id=c.assignee_id,
                    team_id=c.team_id,
                ),
                clock=FrozenClock(now),
            )
            done += 1
    return done


def breach_due(db: Database, now: datetime) -> int:
    ids = _ids(
        db,
        select(CareConversation.id)
        .where(
            CareConversation.sla_due_at <= now,
            CareConversation.sla_breached_at.is_(None),
            *_active(),
        )
        .limit(BATCH),
    )
    done = 0
    for conversation_id in ids:
        with db.unit_of_work() as session:
            if not _claim(
                session,
                "sla_breached_at",
                conversation_id,
                now,
                CareConversation.sla_due_at <= now,
                *_active(),
            ):
                continue
            c = session.get(CareConversation, conversation_id)
            assert c is not None
            assert c.sla_target is not None
            assert c.sla_due_at is not None
            previous = c.assignee_id
            escalated_to = _escalate(session, c, now)
            people = {u.id for u in notify.escalation_people(session, c)}
            notify_in_app(
                session,
                organization_id=c.organization_id,
                user_ids=people | ({previous} if previous else set()),
                kind="care.sla_breached",
                title=f"SLA breached: {c.sla_target.replace('_', ' ')} "
                f"({c.customer_handle or c.customer_name})",
                body=c.preview,
                link=conversation_link(c.id),
                now=now,
            )
            emit(
                session,
                SlaBreached(
                    organization_id=c.organization_id,
                    conversation_id=c.id,
                    target=c.sla_target,
                    due_at=c.sla_due_at,
                    breached_at=now,
                    assignee_id=c.assignee_id,
                    team_id=c.team_id,
                    escalated_to=escalated_to,
                ),
                clock=FrozenClock(now),
            )
            done += 1
    return done


def _escalate(session: Session, c: CareConversation, now: datetime) -> str | None:
    """Reassign to the team lead when the team escalates that way; returns the new assignee."""
    team = session.get(CareTeam, c.team_id) if c.team_id else None
    if team is None or team.escalation != "reassign" or not team.lead_id:
        return None
    if c.assignee_id == team.lead_id:
        return None
    before = snapshot(c)
    c.assignee_id = team.lead_id
    c.updated_at = now
    session.flush()
    audit.record(
        session,
        audit.SYSTEM,
        "care.conversation.escalate",
        "care_conversation",
        c.id,
        before=before,
        after=snapshot(c) | {"reason": f"SLA {c.sla_target} breached"},
        organization_id=c.organization_id,
        clock=FrozenClock(now),
    )
    return team.lead_id
