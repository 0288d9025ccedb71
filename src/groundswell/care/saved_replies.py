"""Saved replies: reusable answers with variables (`service.render_saved_reply` fills them
in). Reading needs `org:read`, changing `content:write`; every change is audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care.admin import audit_change
from groundswell.care.tables import CareSavedReply
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound


def list_saved_replies(session: Session, actor: Actor) -> list[CareSavedReply]:
    actor.require(Permission.ORG_READ)
    return list(
        session.scalars(
            select(CareSavedReply)
            .where(CareSavedReply.organization_id == actor.organization_id)
            .order_by(CareSavedReply.name)
        )
    )


def access_saved_reply(session: Session, actor: Actor, ref: str) -> CareSavedReply:
    """A saved reply by id or shortcut."""
    actor.require(Permission.ORG_READ)
    row = session.scalar(
        select(CareSavedReply).where(
            CareSavedReply.organization_id == actor.organization_id,
            (CareSavedReply.id == ref) | (CareSavedReply.shortcut == ref),
        )
    )
    if row is None:
        raise NotFound(f"No saved reply {ref!r}.")
    return row


def save_saved_reply(
    session: Session,
    actor: Actor,
    *,
    name: str,
    body: str,
    shortcut: str = "",
    reply_id: str | None = None,
    now: datetime,
) -> CareSavedReply:
    actor.require(Permission.CONTENT_WRITE)
    name, body, shortcut = name.strip(), body.strip(), shortcut.strip()
    if not name or len(name) > 200:
        raise InvalidInput("A saved reply needs a name (at most 200 characters).")
    if not body or len(body) > 5000:
        raise InvalidInput("A saved reply needs a body (at most 5000 characters).")
    if len(shortcut) > 50:
        raise InvalidInput("A shortcut has at most 50 characters.")
    row = access_saved_reply(session, actor, reply_id) if reply_id else None
    if shortcut:
        clash = session.scalar(
            select(CareSavedReply.id).where(
                CareSavedReply.organization_id == actor.organization_id,
                CareSavedReply.shortcut == shortcut,
            )
        )
        if clash is not None and (row is None or clash != row.id):
            raise Conflict(f"The shortcut {shortcut!r} is taken.")
    if row is None:
        row = CareSavedReply(organization_id=actor.organization_id, created_at=now)
        session.add(row)
    row.name, row.body, row.shortcut, row.updated_at = name, body, shortcut, now
    session.flush()
    audit_change(
        session, actor, "care.saved_reply.save", "care_saved_reply", row.id, now,
        after={"name": name, "shortcut": shortcut},
    )  # fmt: skip
    return row


def delete_saved_reply(session: Session, actor: Actor, ref: str, *, now: datetime) -> None:
    actor.require(Permission.CONTENT_WRITE)
    row = access_saved_reply(session, actor, ref)
    audit_change(
        session, actor, "care.saved_reply.delete", "care_saved_reply", row.id, now,
        before={"name": row.name, "shortcut": row.shortcut},
    )  # fmt: skip
    session.delete(row)
    session.flush()
