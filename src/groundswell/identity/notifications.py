"""In-app notifications: every room tells people what needs them (an approval waiting, an SLA
about to breach, an incident role) with `notify`; the top bar shows the unread count and
`/notifications` lists them. Email and webhooks are separate channels (`identity.mail`,
`kernel.webhooks`); this is the one every person always has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from groundswell.identity.service import Actor
from groundswell.identity.tables import Notification, User
from groundswell.kernel.pagination import paginate

TITLE_MAX = 300
BODY_MAX = 2000


def notify(
    session: Session,
    *,
    organization_id: str,
    user_ids: Iterable[str],
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    now: datetime,
) -> int:
    """Add one notification for each distinct active member of the organization among
    `user_ids` (others are skipped: a notification never crosses organizations). Returns how
    many were added. Flushes; the caller's unit of work commits."""
    wanted = sorted(set(user_ids))
    if not wanted:
        return 0
    members = session.scalars(
        select(User.id).where(
            User.organization_id == organization_id, User.id.in_(wanted), User.is_active.is_(True)
        )
    ).all()
    for user_id in members:
        session.add(
            Notification(
                organization_id=organization_id,
                user_id=user_id,
                kind=kind[:60],
                title=title[:TITLE_MAX],
                body=body[:BODY_MAX],
                link=link if link is None or link.startswith("/") else None,
                created_at=now,
            )
        )
    session.flush()
    return len(members)


def unread_count(session: Session, user_id: str) -> int:
    count = session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    )
    return int(count or 0)


def list_for(
    session: Session, actor: Actor, *, cursor: str | None = None, limit: int = 50
) -> tuple[Sequence[Notification], str | None]:
    """The actor's own notifications, newest first."""
    stmt = select(Notification).where(
        Notification.user_id == actor.user_id,
        Notification.organization_id == actor.organization_id,
    )
    return paginate(
        session, stmt, key=Notification.created_at, id_=Notification.id, limit=limit, cursor=cursor
    )


def mark_read(
    session: Session, actor: Actor, *, ids: Sequence[str] | None = None, now: datetime
) -> int:
    """Mark the actor's notifications read: those in `ids`, or all when `ids` is None."""
    stmt = update(Notification).where(
        Notification.user_id == actor.user_id, Notification.read_at.is_(None)
    )
    if ids is not None:
        stmt = stmt.where(Notification.id.in_(list(ids)))
    result = session.execute(stmt.values(read_at=now))
    return int(getattr(result, "rowcount", 0) or 0)
