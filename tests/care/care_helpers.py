"""Helpers for the care service tests: stored mentions, teams, SLA policies, trained people."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any

from groundswell.care import admin, routing
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.listening.tables import Mention
from tests.builders import Person

_ids = itertools.count(1000)


def add_mention(
    db: Database,
    org_id: str,
    *,
    text: str = "My order never arrived, can someone help?",
    handle: str = "@ana",
    name: str = "Ana",
    source: str = "masto",
    labels: list[str] | None = None,
    priority: int = 40,
    sentiment: str = "negative",
    language: str = "en",
    followers: int = 120,
    in_reply_to: str | None = None,
    external_id: str | None = None,
    channel: str = "public",
    created_at: datetime,
) -> Mention:
    """Store a mention as the pipeline would have (triage fields filled in)."""
    with db.unit_of_work() as session:
        mention = Mention(
            organization_id=org_id,
            source=source,
            external_id=external_id or str(next(_ids)),
            url=None,
            author_handle=handle,
            author_name=name,
            author_followers=followers,
            author_verified=False,
            text=text,
            language=language,
            created_at=created_at,
            imported_at=created_at,
            in_reply_to=in_reply_to,
            links=[],
            metrics={},
            sentiment=sentiment,
            labels=["complaint"] if labels is None else labels,
            priority=priority,
            channel=channel,
        )
        session.add(mention)
        session.flush()
        session.expunge(mention)
        return mention


def take(db: Database, settings: Settings, mention: Mention, now: datetime) -> CareMessage | None:
    with db.unit_of_work() as session:
        row = session.get(Mention, mention.id)
        assert row is not None
        message = routing.take_mention(session, row, now=now, settings=settings)
        if message is not None:
            session.expunge(message)
        return message


def conversation(db: Database, conversation_id: str) -> CareConversation:
    with db.reader() as session:
        row = session.get(CareConversation, conversation_id)
        assert row is not None
        return row


def make_team(db: Database, manager: Person, now: datetime, **fields: Any) -> str:
    values: dict[str, Any] = {"name": "Support", "business_hours": "mon-sun 00:00-24:00"}
    values.update(fields)
    with db.unit_of_work() as session:
        return admin.save_team(session, manager.actor, now=now, **values).id


def set_policy(
    db: Database,
    manager: Person,
    now: datetime,
    *,
    first: int = 60,
    next_: int = 30,
    resolution: int = 480,
    team: str | None = None,
    min_priority: int = 0,
) -> None:
    with db.unit_of_work() as session:
        admin.set_policy(
            session,
            manager.actor,
            name="Standard",
            first_response_minutes=first,
            next_response_minutes=next_,
            resolution_minutes=resolution,
            team=team,
            min_priority=min_priority,
            now=now,
        )
