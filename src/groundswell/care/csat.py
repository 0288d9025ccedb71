"""Customer satisfaction: a one-click rating link per resolved conversation, the public
rating (1–5 and an optional comment, once), and results by agent, team and source.

The link carries a random token that `service.resolve` gives the conversation
(`care_conversation.csat_token`, unique); the agent sees the link on the resolved
conversation to send it. `issue_link` replaces it with a new one (say the customer shared the
old one publicly). The token is the only thing the public page accepts, and the page shows
nothing about the customer or the conversation.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from groundswell.care.tables import CareConversation, CareCsat, CareTeam
from groundswell.identity.service import Actor
from groundswell.identity.tables import Organization, User
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound

RATINGS = (1, 2, 3, 4, 5)
RATING_LABELS = {1: "Very bad", 2: "Bad", 3: "Okay", 4: "Good", 5: "Very good"}
MAX_COMMENT = 2000


def issue_link(
    session: Session, actor: Actor, conversation: CareConversation, *, clock: Clock
) -> str:
    """A new rating token for a resolved conversation the actor may see (the caller loaded it
    with `service.access_conversation`), replacing any earlier one. Returns the token (the
    link is `/csat/<token>`); audited."""
    if conversation.organization_id != actor.organization_id:
        raise NotFound("No such conversation.")
    if conversation.status != "resolved":
        raise Conflict("Ask for a rating once the conversation is resolved.")
    if session.scalar(select(CareCsat.id).where(CareCsat.conversation_id == conversation.id)):
        raise Conflict("The customer has already rated this conversation.")
    token = secrets.token_urlsafe(32)
    conversation.csat_token = token
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.csat_link_issued",
        "care_conversation",
        conversation.id,
        clock=clock,
    )
    return token


@dataclass(frozen=True)
class RatingPage:
    """What the public page may show: nothing about the customer or the agent."""

    organization_name: str
    already_rated: bool
    rating: int | None


def _conversation_for(session: Session, token: str) -> CareConversation:
    if not token or len(token) > 100:
        raise NotFound("This rating link is not valid.")
    conversation = session.scalar(
        select(CareConversation).where(CareConversation.csat_token == token)
    )
    if conversation is None:
        raise NotFound("This rating link is not valid or has been replaced by a newer one.")
    return conversation


def rating_page(session: Session, token: str) -> RatingPage:
    conversation = _conversation_for(session, token)
    organization = session.get(Organization, conversation.organization_id)
    done = session.scalar(
        select(CareCsat.rating).where(CareCsat.conversation_id == conversation.id)
    )
    return RatingPage(organization.name if organization else "", done is not None, done)


def rate(
    session: Session,
    token: str,
    rating: int,
    comment: str,
    *,
    clock: Clock,
    ip: str | None = None,
) -> CareCsat:
    """The customer's answer, through the public link: once per conversation (a second
    answer is refused with Conflict). Audited as the customer."""
    if rating not in RATINGS:
        raise InvalidInput("Choose a rating from 1 to 5.")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidInput(f"Keep the comment under {MAX_COMMENT} characters.")
    conversation = _conversation_for(session, token)
    if session.scalar(select(CareCsat.id).where(CareCsat.conversation_id == conversation.id)):
        raise Conflict("Thank you, we already have your rating for this conversation.")
    answer = CareCsat(
        organization_id=conversation.organization_id,
        conversation_id=conversation.id,
        rating=rating,
        comment=comment,
        created_at=clock.now(),
    )
    try:
        with session.begin_nested():
            session.add(answer)
            session.flush()
    except IntegrityError as exc:  # a double click racing the first answer
        raise Conflict("Thank you, we already have your rating for this conversation.") from exc
    audit.record(
        session,
        audit.AuditActor(None, "customer (rating link)", conversation.organization_id, ip),
        "care.csat_rated",
        "care_conversation",
        conversation.id,
        after={"rating": rating, "comment": comment},
        clock=clock,
    )
    return answer


@dataclass(frozen=True)
class CsatSummary:
    label: str
    responses: int
    average: float | None
    satisfied: int  # ratings of 4 or 5

    @property
    def satisfied_share(self) -> float | None:
        return None if self.responses == 0 else self.satisfied / self.responses


def summarize(label: str, ratings: Iterable[int]) -> CsatSummary:
    values = list(ratings)
    return CsatSummary(
        label=label,
        responses=len(values),
        average=sum(values) / len(values) if values else None,
        satisfied=sum(1 for r in values if r >= 4),
    )


@dataclass(frozen=True)
class CsatResults:
    overall: CsatSummary
    by_agent: list[CsatSummary]
    by_team: list[CsatSummary]
    by_source: list[CsatSummary]
    recent_comments: list[tuple[int, str, datetime]]


def _grouped(pairs: Iterable[tuple[str, int]]) -> list[CsatSummary]:
    groups: dict[str, list[int]] = {}
    for label, rating in pairs:
        groups.setdefault(label, []).append(rating)
    found = [summarize(label, values) for label, values in groups.items()]
    return sorted(found, key=lambda s: (-s.responses, s.label))


def results(session: Session, actor: Actor, *, start: datetime, end: datetime) -> CsatResults:
    """Ratings given in [start, end) in the actor's organization, overall and by the
    conversation's assignee, team and source."""
    rows = session.execute(
        select(
            CareCsat.rating,
            CareCsat.comment,
            CareCsat.created_at,
            CareConversation.source,
            func.coalesce(User.name, "Unassigned"),
            func.coalesce(CareTeam.name, "No team"),
        )
        .join(CareConversation, CareConversation.id == CareCsat.conversation_id)
        .outerjoin(User, User.id == CareConversation.assignee_id)
        .outerjoin(CareTeam, CareTeam.id == CareConversation.team_id)
        .where(
            CareCsat.organization_id == actor.organization_id,
            CareCsat.created_at >= start,
            CareCsat.created_at < end,
        )
        .order_by(CareCsat.created_at.desc())
    ).all()
    return CsatResults(
        overall=summarize("All", (r[0] for r in rows)),
        by_agent=_grouped((r[4], r[0]) for r in rows),
        by_team=_grouped((r[5], r[0]) for r in rows),
        by_source=_grouped((r[3], r[0]) for r in rows),
        recent_comments=[(r[0], r[1], r[2]) for r in rows if r[1]][:10],
    )
