"""Helpers for the governance service tests: trained people, units, an approval request."""

from __future__ import annotations

from datetime import datetime

from groundswell.governance import approvals, service, units
from groundswell.governance.domain import Action
from groundswell.governance.policies import current_version
from groundswell.governance.policy_tables import GuidelinesAttestation
from groundswell.governance.tables import ApprovalRequestRow
from groundswell.identity.domain import Role
from groundswell.kernel.db import Database
from tests.builders import Person, make_user


def train(db: Database, person: Person, now: datetime) -> None:
    """Record that `person` passed the current guidelines quiz."""
    with db.unit_of_work() as session:
        version = current_version(session, person.actor.organization_id)
        session.add(
            GuidelinesAttestation(
                organization_id=person.actor.organization_id,
                user_id=person.actor.user_id,
                policy_major=version.major,
                policy_version=version.version,
                score=6,
                total=6,
                attested_at=now,
            )
        )


def trained_user(db: Database, owner: Person, role: Role, now: datetime) -> Person:
    person = make_user(db, owner, role)
    train(db, person, now)
    return person


def add_unit(
    db: Database, owner: Person, key: str, kind: units.UnitKind, now: datetime, name: str = ""
) -> None:
    with db.unit_of_work() as session:
        units.create_unit(
            session, owner.actor, name=name or key.title(), kind=kind, key=key, now=now
        )


def join(db: Database, owner: Person, unit: str, person: Person, role: Role, now: datetime) -> None:
    with db.unit_of_work() as session:
        units.set_member(session, owner.actor, unit, person.email, role, now=now)


def ask(
    db: Database,
    person: Person,
    now: datetime,
    *,
    action: Action = Action.REPLY_PUBLIC,
    text: str = "Thanks for writing, we are on it.",
    subject_id: str = "m1",
    account_unit: str | None = None,
) -> str:
    """`person` asks for approval of a reply; returns the request id."""
    with db.unit_of_work() as session:
        auth = service.authorize(
            session, person.actor, action, text=text, account_unit=account_unit
        )
        row: ApprovalRequestRow = approvals.request_approval(
            session,
            person.actor,
            action=action,
            subject_type="care.reply",
            subject_id=subject_id,
            summary=f"Reply: {text}",
            authorization=auth,
            now=now,
        )
        return row.id
