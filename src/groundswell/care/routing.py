"""From a matched mention to a conversation message: routing, grouping, assignment.

`take_mention` is idempotent per mention (a unique key on (organization, mention)). A mention
joins an existing conversation when it answers a message of one (its `in_reply_to` is the
external id of a customer message or of one of our replies on the same source), else when its
author has an unresolved conversation on the same source that heard from them within
`GROUNDSWELL_CARE_AUTHOR_WINDOW_MINUTES`. Either way only a conversation of the mention's own
channel: a direct message never joins a public conversation, nor a public mention a private
one (the thread of a direct message is the network's reply chain of direct messages).
Otherwise the routing rules (`care.rules`) decide whether it opens a new conversation, and
with which team, assignee, priority, tags and suggested saved reply; a team's assignment
strategy then picks an agent when no rule named one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from groundswell.care import sla
from groundswell.care.rules import (
    Candidate,
    Facts,
    Routing,
    Rule,
    Strategy,
    pick_assignee,
    route,
)
from groundswell.care.tables import (
    CareConversation,
    CareCustomer,
    CareCustomerIdentity,
    CareMessage,
    CareRoutingRule,
    CareTeam,
    CareTeamMember,
)
from groundswell.identity.notifications import notify
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.settings import Settings
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch

PREVIEW_MAX = 280


def handle_key(handle: str) -> str:
    return handle.strip().lstrip("@").lower()


def active_rules(session: Session, organization_id: str) -> list[Rule]:
    rows = session.scalars(
        select(CareRoutingRule)
        .where(CareRoutingRule.organization_id == organization_id, CareRoutingRule.active)
        .order_by(CareRoutingRule.position, CareRoutingRule.created_at, CareRoutingRule.id)
    ).all()
    return [
        Rule.model_validate(
            {"id": r.id, "name": r.name, "conditions": r.conditions, "actions": r.actions}
        )
        for r in rows
    ]


def topics_of(session: Session, mention_id: int) -> list[str]:
    return [
        t
        for t in session.scalars(
            select(ListeningQuery.topic)
            .join(MentionMatch, MentionMatch.query_id == ListeningQuery.id)
            .where(MentionMatch.mention_id == mention_id)
        )
        if t
    ]


def facts_of(mention: Mention, topics: Sequence[str]) -> Facts:
    return Facts(
        text=mention.text,
        labels=tuple(mention.labels or ()),
        sentiment=mention.sentiment,
        language=mention.language,
        source=mention.source,
        topics=tuple(topics),
        followers=mention.author_followers,
        priority=mention.priority or 0,
        direct=mention.channel == "direct",
    )


def customer_for(
    session: Session, organization_id: str, mention: Mention, now: datetime, *, create: bool = True
) -> CareCustomer | None:
    """The customer behind the mention's author (created on first sight unless `create` is
    False); follows merges."""
    if not mention.author_handle:
        return None
    key = handle_key(mention.author_handle)
    identity = session.scalar(
        select(CareCustomerIdentity).where(
            CareCustomerIdentity.organization_id == organization_id,
            CareCustomerIdentity.source == mention.source,
            CareCustomerIdentity.handle_key == key,
        )
    )
    if identity is None:
        if not create:
            return None
        customer = CareCustomer(
            organization_id=organization_id,
            name=mention.author_name or "",
            followers=mention.author_followers,
            notes="",
            created_at=now,
        )
        session.add(customer)
        session.flush()
        session.add(
            CareCustomerIdentity(
                organization_id=organization_id,
                customer_id=customer.id,
                source=mention.source,
                handle=mention.author_handle,
                handle_key=key,
                created_at=now,
            )
        )
        session.flush()
        return customer
    found = session.get(CareCustomer, identity.customer_id)
    seen: set[str] = set()
    while found is not None and found.merged_into_id and found.id not in seen:
        seen.add(found.id)
        found = session.get(CareCustomer, found.merged_into_id)
    if found is not None and mention.author_followers is not None:
        found.followers = mention.author_followers
    return found


def find_conversation(
    session: Session,
    organization_id: str,
    mention: Mention,
    customer: CareCustomer | None,
    now: datetime,
    window: timedelta,
) -> CareConversation | None:
    """The conversation the mention continues, if any (see the module docstring)."""
    if mention.in_reply_to:
        parent = session.scalar(
            select(CareConversation)
            .join(CareMessage, CareMessage.conversation_id == CareConversation.id)
            .where(
                CareMessage.organization_id == organization_id,
                CareMessage.external_id == mention.in_reply_to,
                CareConversation.source == mention.source,
                CareConversation.channel == mention.channel,
            )
            .limit(1)
        )
        if parent is not None:
            return parent
    if customer is None or window <= timedelta(0):
        return None
    return session.scalar(
        select(CareConversation)
        .where(
            CareConversation.organization_id == organization_id,
            CareConversation.customer_id == customer.id,
            CareConversation.source == mention.source,
            CareConversation.channel == mention.channel,
            CareConversation.status != "resolved",
            CareConversation.last_inbound_at >= now - window,
        )
        .order_by(CareConversation.last_inbound_at.desc())
        .limit(1)
    )


def candidates(session: Session, team_id: str) -> list[Candidate]:
    """The team's members with their current load (unresolved conversations they hold)."""
    members = session.scalars(
        select(CareTeamMember)
        .join(User, User.id == CareTeamMember.user_id)
        .where(CareTeamMember.team_id == team_id, User.is_active.is_(True))
    ).all()
    if not members:
        return []
    loads = dict(
        session.execute(
            select(CareConversation.assignee_id, func.count())
            .where(
                CareConversation.organization_id == members[0].organization_id,
                CareConversation.assignee_id.in_([m.user_id for m in members]),
                CareConversation.status != "resolved",
            )
            .group_by(CareConversation.assignee_id)
        ).all()
    )
    return [
        Candidate(
            user_id=m.user_id,
            capacity=m.capacity,
            load=int(loads.get(m.user_id, 0)),
            available=m.available,
            languages=tuple(m.languages or ()),
            last_assigned_at=m.last_assigned_at,
        )
        for m in members
    ]


def auto_assign(
    session: Session, team: CareTeam, language: str | None, now: datetime
) -> str | None:
    """Pick an agent by the team's strategy and note when they were last given work."""
    try:
        strategy = Strategy(team.assignment)
    except ValueError:
        strategy = Strategy.ROUND_ROBIN
    chosen = pick_assignee(candidates(session, team.id), language, strategy)
    if chosen is not None:
        member = session.scalar(
            select(CareTeamMember).where(
                CareTeamMember.team_id == team.id, CareTeamMember.user_id == chosen
            )
        )
        if member is not None:
            member.last_assigned_at = now
    return chosen


def _valid_team(session: Session, organization_id: str, team_id: str | None) -> CareTeam | None:
    team = session.get(CareTeam, team_id) if team_id else None
    return team if team is not None and team.organization_id == organization_id else None


def _valid_user(session: Session, organization_id: str, user_id: str | None) -> str | None:
    user = session.get(User, user_id) if user_id else None
    ok = user is not None and user.organization_id == organization_id and user.is_active
    return user_id if ok else None


def take_mention(
    session: Session,
    mention: Mention,
    *,
    now: datetime,
    settings: Settings,
    force: bool = False,
) -> CareMessage | None:
    """Add the mention to its conversation, opening one when routing says so. Returns the new
    message, or None (already taken, or routing leaves it in listening). With `force` (a
    person asked for it) a conversation is opened even for a post routing would leave in
    listening (an old one, one under the minimum priority, one a rule keeps out); the rules
    still set its team, assignee, priority and tags."""
    org = mention.organization_id
    known = session.scalar(
        select(CareMessage.id).where(
            CareMessage.organization_id == org, CareMessage.mention_id == mention.id
        )
    )
    if known is not None:
        return None
    at = min(mention.created_at, now)
    customer = customer_for(session, org, mention, now, create=False)
    window = timedelta(minutes=settings.care_author_window_minutes)
    conversation = find_conversation(session, org, mention, customer, now, window)
    opened = False
    if conversation is None:
        max_age = timedelta(hours=settings.care_max_age_hours)
        if not force and max_age > timedelta(0) and now - mention.created_at > max_age:
            return None  # an old post (an import): listening keeps it, nobody owes an answer
        decided = route(
            active_rules(session, org),
            facts_of(mention, topics_of(session, mention.id)),
            min_priority=settings.care_min_priority,
        )
        if not decided.open and not force:
            return None
        customer = customer or customer_for(session, org, mention, now)
        conversation = _open(session, mention, customer, decided, at, now)
        opened = True
    elif customer is None:
        customer_for(session, org, mention, now)  # a new participant in the thread
    message = CareMessage(
        organization_id=org,
        conversation_id=conversation.id,
        direction="inbound",
        mention_id=mention.id,
        author_label=mention.author_handle or mention.author_name or "",
        text=mention.text,
        created_at=at,
        external_id=mention.external_id,
        in_reply_to=mention.in_reply_to,
        url=mention.url,
        attempts=0,
    )
    session.add(message)
    if not opened:
        _continue(session, conversation, mention, at, now)
    session.flush()
    return message


def conversation_holding(
    session: Session, organization_id: str, mention_id: int
) -> CareConversation | None:
    """The conversation the mention is a message of, if any."""
    return session.scalar(
        select(CareConversation)
        .join(CareMessage, CareMessage.conversation_id == CareConversation.id)
        .where(CareMessage.organization_id == organization_id, CareMessage.mention_id == mention_id)
    )


def _open(
    session: Session,
    mention: Mention,
    customer: CareCustomer | None,
    from_rules: Routing,
    at: datetime,
    now: datetime,
) -> CareConversation:
    org = mention.organization_id
    direct = mention.channel == "direct"
    team = _valid_team(session, org, from_rules.team_id)
    assignee = _valid_user(session, org, from_rules.assignee_id)
    if assignee is None and team is not None:
        assignee = auto_assign(session, team, mention.language, now)
    c = CareConversation(
        organization_id=org,
        source=mention.source,
        thread_key=f"{'direct' if direct else 'thread'}:{mention.external_id}"[:300],
        channel="direct" if direct else "public",
        customer_id=customer.id if customer else None,
        customer_name=(mention.author_name or "")[:200],
        customer_handle=(mention.author_handle or "")[:200],
        status="open" if assignee else "new",
        assignee_id=assignee,
        team_id=team.id if team else None,
        priority=from_rules.priority,
        tags=list(from_rules.tags),
        language=mention.language,
        preview=mention.text[:PREVIEW_MAX],
        suggested_reply_id=from_rules.saved_reply_id,
        created_at=at,
        updated_at=now,
        last_inbound_at=at,
    )
    session.add(c)
    session.flush()
    hours, policy = sla.clock_for(session, c)
    sla.start(c, at, hours, policy)
    session.flush()
    audit.record(
        session,
        audit.SYSTEM,
        "care.conversation.open",
        "care_conversation",
        c.id,
        after={
            "mention_id": mention.id,
            "channel": c.channel,
            "team_id": c.team_id,
            "assignee_id": c.assignee_id,
            "priority": c.priority,
            "tags": c.tags,
            "rules": list(from_rules.matched),
        },
        organization_id=org,
        clock=FrozenClock(now),
    )
    if assignee is not None:
        notify(
            session,
            organization_id=org,
            user_ids=[assignee],
            kind="care.assigned",
            title=f"New conversation for you: {c.customer_handle or c.customer_name}",
            body=c.preview,
            link=f"/care/conversations/{c.id}",
            now=now,
        )
    return c


def _continue(
    session: Session, c: CareConversation, mention: Mention, at: datetime, now: datetime
) -> None:
    """A customer message in an existing conversation: reopen or wake it, resume a paused
    clock, start the next-response clock."""
    hours, policy = sla.clock_for(session, c)
    if c.status == "resolved":
        c.resolved_at = None
        c.status = "open"
        sla.start(c, at, hours, policy)
    elif c.status in ("pending_customer", "snoozed"):
        if c.paused_at is not None:
            sla.resume(c, now, hours, policy)
        c.status = "open"
        c.snoozed_until = None
    c.priority = max(c.priority, mention.priority or 0)
    c.last_inbound_at = max(c.last_inbound_at or at, at)
    c.preview = mention.text[:PREVIEW_MAX]
    c.updated_at = now
    sla.customer_wrote(c, at, hours, policy)
