"""Blameless reviews (opened by closing an incident) and the stakeholders who hear about
incidents. A review can be shared read-only through a link whose token is shown once and
stored as SHA-256."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.crisis import playbooks
from groundswell.crisis.service import access_incident, audit_change, check_text, member_of
from groundswell.crisis.tables import Incident, Review, Stakeholder
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import InvalidInput, NotFound

MAX_ACTION_ITEMS = 50


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_review(session: Session, actor: Actor, incident_id: str) -> Review:
    incident = access_incident(session, actor, incident_id)
    review = session.scalars(select(Review).where(Review.incident_id == incident.id)).first()
    if review is None:
        raise NotFound("This incident has no review yet: it opens when the incident is closed.")
    return review


def update_review(
    session: Session,
    actor: Actor,
    incident_id: str,
    *,
    what_happened: str,
    went_well: str,
    to_improve: str,
    action_items: Sequence[dict[str, str]],
    now: datetime,
) -> Review:
    """Replace the review's text and action items. Each action item has `text`, `owner_id`
    (a member) and `due` (an ISO date); blank items are dropped."""
    actor.require(Permission.CONTENT_WRITE)
    review = access_review(session, actor, incident_id)
    items: list[dict[str, Any]] = []
    for raw in action_items:
        text = raw.get("text", "").strip()
        if not text:
            continue
        owner = raw.get("owner_id", "")
        if owner:
            member_of(session, actor, owner)
        due = raw.get("due", "").strip()
        if due:
            try:
                due = date.fromisoformat(due).isoformat()
            except ValueError:
                raise InvalidInput(f"Due date {due!r} is not a date (YYYY-MM-DD).") from None
        items.append({"text": text[:500], "owner_id": owner or None, "due": due or None})
    if len(items) > MAX_ACTION_ITEMS:
        raise InvalidInput(f"At most {MAX_ACTION_ITEMS} action items.")
    before = {"action_items": len(review.action_items)}
    review.what_happened = check_text(what_happened, "What happened", required=False)
    review.went_well = check_text(went_well, "What went well", required=False)
    review.to_improve = check_text(to_improve, "What to improve", required=False)
    review.action_items = items
    review.updated_at = now
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.review.update",
        "crisis_review",
        review.id,
        now,
        before=before,
        after={"action_items": len(items)},
    )
    return review


def share_review(session: Session, actor: Actor, incident_id: str, *, now: datetime) -> str:
    """A new read-only link token for the review (the previous one stops working)."""
    actor.require(Permission.CONTENT_WRITE)
    review = access_review(session, actor, incident_id)
    token = secrets.token_urlsafe(24)
    review.share_token_hash = _hash(token)
    session.flush()
    audit_change(session, actor, "crisis.review.share", "crisis_review", review.id, now)
    return token


def unshare_review(session: Session, actor: Actor, incident_id: str, *, now: datetime) -> None:
    actor.require(Permission.CONTENT_WRITE)
    review = access_review(session, actor, incident_id)
    review.share_token_hash = None
    session.flush()
    audit_change(session, actor, "crisis.review.unshare", "crisis_review", review.id, now)


def review_by_token(session: Session, token: str) -> tuple[Review, Incident]:
    review = session.scalars(select(Review).where(Review.share_token_hash == _hash(token))).first()
    if review is None:
        raise NotFound("This review link is not valid (it may have been revoked).")
    incident = session.get(Incident, review.incident_id)
    assert incident is not None
    return review, incident


# -- stakeholders ------------------------------------------------------------------------


def list_stakeholders(session: Session, actor: Actor) -> list[Stakeholder]:
    return list(
        session.scalars(
            select(Stakeholder)
            .where(Stakeholder.organization_id == actor.organization_id)
            .order_by(Stakeholder.name)
        )
    )


def add_stakeholder(
    session: Session,
    actor: Actor,
    *,
    name: str,
    email: str = "",
    webhook_url: str = "",
    webhook_secret: str = "",
    min_severity: str = "sev4",
    now: datetime,
) -> Stakeholder:
    """Someone to tell about incidents of at least `min_severity`, by email and/or webhook."""
    actor.require(Permission.SETTINGS_MANAGE)
    name = check_text(name, "Name", 200)
    email = email.strip()
    webhook_url = webhook_url.strip()
    if not email and not webhook_url:
        raise InvalidInput("Give an email address, a webhook URL, or both.")
    if email and ("@" not in email or len(email) > 320):
        raise InvalidInput(f"{email!r} is not an email address.")
    if webhook_url and not webhook_url.startswith(("https://", "http://")):
        raise InvalidInput("The webhook URL must start with https:// (or http://).")
    if webhook_url and len(webhook_secret) < 16:
        raise InvalidInput("A webhook needs a signing secret of at least 16 characters.")
    if min_severity not in playbooks.SEVERITIES:
        raise InvalidInput(f"Severity must be one of {', '.join(playbooks.SEVERITIES)}.")
    row = Stakeholder(
        organization_id=actor.organization_id,
        name=name,
        email=email,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        min_severity=min_severity,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.stakeholder.add",
        "crisis_stakeholder",
        row.id,
        now,
        after={
            "name": name,
            "email": email,
            "webhook_url": webhook_url,
            "webhook_secret": webhook_secret,
            "min_severity": min_severity,
        },
    )
    return row


def remove_stakeholder(
    session: Session, actor: Actor, stakeholder_id: str, *, now: datetime
) -> None:
    actor.require(Permission.SETTINGS_MANAGE)
    row = session.get(Stakeholder, stakeholder_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound("No such stakeholder.")
    audit_change(
        session,
        actor,
        "crisis.stakeholder.remove",
        "crisis_stakeholder",
        row.id,
        now,
        before={"name": row.name},
    )
    session.delete(row)
    session.flush()
