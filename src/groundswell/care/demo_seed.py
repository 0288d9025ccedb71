"""The care part of the demo: two teams with business hours, SLA policies, saved replies, and
a believable inbox of about 40 conversations with live SLA timers.

The posts come from the `fake` connector's demo scenario (a fictional airline, several
languages), generated for the last hours up to now so that due instants fall around the
present; each goes through the real triage models and the real routing (`take_mention`), so
priorities, reasons, teams and SLA clocks are computed, not made up. A few older ones are
answered, resolved and rated so that the metrics page has something to show."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care import admin, csat, routing, service
from groundswell.care.tables import CareConversation, CareMessage, CareSavedReply
from groundswell.connectors.contract import SourceConfig
from groundswell.connectors.fake.connector import FakeConnector
from groundswell.identity.service import Actor
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.settings import Settings
from groundswell.listening.tables import ListeningSource, Mention
from groundswell.triage import triage

SOURCE = "mastodon"
WANTED = 40
SAVED_REPLIES = (
    (
        "Apology and DM",
        "sorry",
        "Hi {customer.name}, we're sorry about this. Could you send us a DM with your booking "
        "reference so we can look into it right away? – {agent.name}",
    ),
    (
        "Delay update",
        "delay",
        "Hi {customer.name}, thanks for your patience. Live flight status is in the app under "
        "My Trips; we'll message you as soon as the new departure time is confirmed.",
    ),
    (
        "Refund status",
        "refund",
        "Hi {customer.name}, refunds go back to the original payment method within 7 business "
        "days. Send us a DM with your booking reference and we'll check where yours is.",
    ),
)
RATINGS = (5, 4, 5, 3, 4, 2, 5)


def _posts(now: datetime) -> list[tuple[str, str | None, str | None, int | None, datetime]]:
    """(text, handle, name, followers, created_at) of the demo scenario's posts of the last
    ninety minutes."""
    connector = FakeConnector(FrozenClock(now))
    config = SourceConfig(
        options={
            "start": (now - timedelta(minutes=90)).isoformat(),
            "until": now.isoformat(),
            "batch": "10000",
        },
        secrets={},
    )
    with httpx.Client() as client:  # not used by the fake connector
        batch = connector.fetch(config, None, client=client)
    found = []
    for record in batch.records:
        post = connector.parse(record)
        if post.created_at is None or post.in_reply_to:
            continue
        found.append(
            (
                post.text,
                post.author_handle,
                post.author_name,
                post.author_followers,
                post.created_at,
            )
        )
    return found


def seed_care(
    session: Session, actor: Actor, people: dict[str, str], settings: Settings, now: datetime
) -> int:
    """Seed the organization of `actor` (an owner). `people` maps demo emails to user ids.
    Returns how many conversations the inbox got."""
    hub = people.get("hub@demo.groundswell.local")
    agent = people.get("agent@demo.groundswell.local")
    en = admin.save_team(
        session,
        actor,
        name="Care EN",
        timezone="Europe/London",
        business_hours="mon-fri 08:00-20:00; sat-sun 10:00-16:00",
        now=now,
    )
    es = admin.save_team(
        session,
        actor,
        name="Care ES",
        timezone="Europe/Madrid",
        business_hours="mon-fri 09:00-19:00",
        now=now,
    )
    for team in (en, es):
        for user_id in (hub, agent):
            if user_id:
                admin.set_member(session, actor, team.id, user_id, now=now)
    admin.save_rule(
        session,
        actor,
        name="Spanish to Care ES",
        conditions={"languages": ["es"]},
        actions={"team_id": es.id, "stop": True},
        now=now,
    )
    admin.save_rule(
        session,
        actor,
        name="Everything else to Care EN",
        conditions={},
        actions={"team_id": en.id},
        now=now,
    )
    admin.save_rule(
        session,
        actor,
        name="Safety and legal first",
        conditions={"labels": ["safety_risk", "legal_threat"]},
        actions={"priority": 90, "tags": ["escalate"]},
        now=now,
    )
    admin.set_policy(
        session,
        actor,
        name="Standard",
        first_response_minutes=60,
        next_response_minutes=120,
        resolution_minutes=480,
        team=None,
        min_priority=0,
        now=now,
    )
    admin.set_policy(
        session,
        actor,
        name="Urgent",
        first_response_minutes=15,
        next_response_minutes=30,
        resolution_minutes=240,
        team=None,
        min_priority=70,
        now=now,
    )
    for name, shortcut, body in SAVED_REPLIES:
        session.add(
            CareSavedReply(
                organization_id=actor.organization_id,
                name=name,
                shortcut=shortcut,
                body=body,
                created_at=now,
                updated_at=now,
            )
        )
    # The source replies would go through; it has no access token in the demo, so sending
    # fails with that reason (and a retry button) rather than posting anywhere.
    session.add(
        ListeningSource(
            organization_id=actor.organization_id,
            name=SOURCE,
            connector="mastodon",
            options={"instance": "https://mastodon.example"},
            status="paused",
            created_at=now,
            error_count=0,
            stored_count=0,
        )
    )
    session.flush()
    return _inbox(session, actor, settings, now, agent)


def _inbox(
    session: Session, actor: Actor, settings: Settings, now: datetime, agent: str | None
) -> int:
    posts = _posts(now)
    results = triage([text for text, *_ in posts])
    chosen = [
        (post, result)
        for post, result in zip(posts, results, strict=True)
        if ({"complaint", "question"} & set(result.labels)) or result.priority >= 60
    ]
    # Spread over the window: every n-th one, newest last.
    step = max(len(chosen) // WANTED, 1)
    chosen = chosen[::step][-WANTED:]
    for n, ((text, handle, name, followers, created_at), result) in enumerate(chosen):
        mention = Mention(
            organization_id=actor.organization_id,
            source=SOURCE,
            external_id=f"demo-{n}",
            url=None,
            author_handle=handle,
            author_name=name,
            author_followers=followers,
            author_verified=False,
            text=text,
            language=result.language,
            created_at=created_at,
            imported_at=created_at,
            links=[],
            metrics={},
            sentiment=result.sentiment.label,
            labels=list(result.labels),
            priority=result.priority,
            # Every eighth one came in as a direct message, so the DM view has something.
            channel="direct" if n % 8 == 3 else "public",
        )
        session.add(mention)
        session.flush()
        routing.take_mention(session, mention, now=now, settings=settings)
    conversations = list(
        session.scalars(
            select(CareConversation)
            .where(CareConversation.organization_id == actor.organization_id)
            .order_by(CareConversation.created_at)
        )
    )
    _history(session, actor, conversations, now, agent)
    return len(conversations)


def _history(
    session: Session,
    actor: Actor,
    conversations: list[CareConversation],
    now: datetime,
    agent: str | None,
) -> None:
    """The oldest third answered and resolved (most of them rated); a few others taken by
    the demo agent, one with an internal note."""
    third = len(conversations) // 3
    clock = FrozenClock(now)
    for n, c in enumerate(conversations[:third]):
        answered = c.created_at + timedelta(minutes=12 + 9 * (n % 5))
        session.add(
            CareMessage(
                organization_id=c.organization_id,
                conversation_id=c.id,
                direction="outbound",
                author_user_id=agent or actor.user_id,
                author_label="Ari Agent",
                text="Thanks for reaching out, we have sorted this for you. Safe travels!",
                created_at=answered,
                delivery_status="sent",
                sent_at=answered,
                attempts=1,
            )
        )
        service.assign(session, actor, c.id, agent or actor.user_id, now=answered)
        c.first_responded_at = answered
        c.last_outbound_at = answered
        session.flush()
        service.resolve(session, actor, c.id, now=min(answered + timedelta(minutes=20), now))
        if n < len(RATINGS):
            token = c.csat_token or csat.issue_link(session, actor, c, clock=clock)
            csat.rate(
                session, token, RATINGS[n], "" if n % 2 else "Quick and friendly.", clock=clock
            )
    for c in conversations[third : third + 4]:
        if agent:
            service.assign(session, actor, c.id, agent, now=now)
    if len(conversations) > third + 1:
        service.add_note(
            session,
            actor,
            conversations[third + 1].id,
            "Frequent flyer: offer lounge access if the delay is over 3 h.",
            now=now,
        )
    session.flush()
