"""Who else is looking at a conversation, and who is typing a reply: the collision warning.

Each open conversation page sends a heartbeat every few seconds (`heartbeat`), saying whether
its composer saw a keystroke lately. A row per (conversation, user) holds the last heartbeat;
it counts as *viewing* for `VIEW_SECONDS` after it and as *typing* for `TYPING_SECONDS` after
the last keystroke, then simply stops counting (expired rows are deleted by later heartbeats
on the same conversation). Presence is ephemeral coordination, not a change of business data,
so it is not audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, UniqueConstraint, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel.db import Base, UTCDateTime, new_id

# A page polls every 2-3 s; a viewer that missed a few beats (a slow network, a sleeping
# laptop) is gone after this long.
VIEW_SECONDS = 15
# The composer says "typing" on each keystroke; it stops counting this long after the last.
TYPING_SECONDS = 8


class CarePresence(Base):
    """The last heartbeat of one user on one conversation."""

    __tablename__ = "care_presence"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("care_conversation.id", ondelete="CASCADE")
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    typing_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Presence:
    """Someone else on the conversation: `typing` when they are writing a reply."""

    user_id: str
    name: str
    typing: bool

    @property
    def sentence(self) -> str:
        return f"{self.name} is replying" if self.typing else f"{self.name} is viewing"


def heartbeat(
    session: Session, actor: Actor, conversation_id: str, *, typing: bool, now: datetime
) -> None:
    """Record that `actor` has the conversation open (and is typing, if so). The caller has
    already checked that the actor may see the conversation (`service.access_conversation`).
    One upsert, safe when two tabs of the same person beat at once."""
    values = {
        "id": new_id(),
        "organization_id": actor.organization_id,
        "conversation_id": conversation_id,
        "user_id": actor.user_id,
        "seen_at": now,
        "typing_at": now if typing else None,
    }
    update: dict[str, object] = {"seen_at": now}
    if typing:
        update["typing_at"] = now
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(CarePresence).values(values)
    session.execute(
        stmt.on_conflict_do_update(index_elements=["conversation_id", "user_id"], set_=update)
    )
    session.execute(
        delete(CarePresence).where(
            CarePresence.conversation_id == conversation_id,
            CarePresence.seen_at < now - timedelta(seconds=VIEW_SECONDS),
        )
    )


def leave(session: Session, actor: Actor, conversation_id: str) -> None:
    """The actor closed the conversation page: stop showing them at once."""
    session.execute(
        delete(CarePresence).where(
            CarePresence.conversation_id == conversation_id,
            CarePresence.user_id == actor.user_id,
            CarePresence.organization_id == actor.organization_id,
        )
    )


def others(
    session: Session, actor: Actor, conversation_id: str, *, now: datetime
) -> list[Presence]:
    """Everyone but the actor with the conversation open now, typists first."""
    return viewers(session, actor, [conversation_id], now=now).get(conversation_id, [])


def viewers(
    session: Session, actor: Actor, conversation_ids: Iterable[str], *, now: datetime
) -> dict[str, list[Presence]]:
    """For each conversation (of the actor's organization), the others on it now."""
    ids = list(conversation_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(
            CarePresence.conversation_id, CarePresence.user_id, User.name, CarePresence.typing_at
        )
        .join(User, User.id == CarePresence.user_id)
        .where(
            CarePresence.organization_id == actor.organization_id,
            CarePresence.conversation_id.in_(ids),
            CarePresence.user_id != actor.user_id,
            CarePresence.seen_at >= now - timedelta(seconds=VIEW_SECONDS),
        )
        .order_by(User.name)
    ).all()
    typing_since = now - timedelta(seconds=TYPING_SECONDS)
    found: dict[str, list[Presence]] = {}
    for conversation_id, user_id, name, typing_at in rows:
        typing = typing_at is not None and typing_at >= typing_since
        found.setdefault(conversation_id, []).append(Presence(user_id, name, typing))
    for people in found.values():
        people.sort(key=lambda p: (not p.typing, p.name))
    return found
