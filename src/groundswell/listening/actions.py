"""What people do from the listening pages: flag a mention as a risk, switch a saved query
on or off. Services: they check permissions, flush, audit, never commit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock
from groundswell.kernel.errors import InvalidInput, NotFound
from groundswell.kernel.events import emit
from groundswell.listening.events import MentionFlagged
from groundswell.listening.tables import ListeningQuery
from groundswell.listening.views import check_text
from groundswell.listening.views_mention import FLAG_ACTION, get_mention

MAX_NOTE = 2000


def flag_mention(
    session: Session, actor: Actor, mention_id: int, *, note: str, clock: Clock
) -> MentionFlagged:
    """Flag a mention as a risk: audited (the mention page lists its flags from the audit
    log) and announced as `MentionFlagged`. Raises `NotFound`, `InvalidInput`, `Forbidden`."""
    actor.require(Permission.CONTENT_WRITE)
    note = check_text(note, "The note").strip()
    if not note:
        raise InvalidInput("Say in a few words what the risk is.")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"The note is limited to {MAX_NOTE} characters.")
    mention = get_mention(session, actor, mention_id)
    audit.record(
        session,
        actor.audit,
        FLAG_ACTION,
        "mention",
        str(mention.id),
        after={"note": note, "source": mention.source, "external_id": mention.external_id},
        organization_id=actor.organization_id,
        clock=clock,
    )
    event = MentionFlagged(
        organization_id=actor.organization_id,
        mention_id=mention.id,
        user_id=actor.user_id,
        note=note,
    )
    emit(session, event, clock=clock)
    return event


def get_query(session: Session, actor: Actor, query_id: str) -> ListeningQuery:
    if "\x00" in query_id or len(query_id) > 36:
        raise NotFound(f"No saved query {query_id!r}.")
    row = session.scalar(
        select(ListeningQuery).where(
            ListeningQuery.organization_id == actor.organization_id,
            ListeningQuery.id == query_id,
        )
    )
    if row is None:
        raise NotFound(f"No saved query {query_id!r}.")
    return row


def set_query_active(
    session: Session, actor: Actor, query_id: str, *, active: bool, clock: Clock
) -> ListeningQuery:
    """Switch a saved query off (it stops matching new posts; past matches stay) or back on.
    The pipeline loads the active queries at the start of each import or worker batch."""
    actor.require(Permission.CONTENT_WRITE)
    row = get_query(session, actor, query_id)
    if row.active != active:
        before = row.active
        row.active = active
        session.flush()
        audit.record(
            session,
            actor.audit,
            "listening.query.activate" if active else "listening.query.deactivate",
            "listening_query",
            row.id,
            before={"active": before},
            after={"active": active},
            organization_id=actor.organization_id,
            clock=clock,
        )
    return row
