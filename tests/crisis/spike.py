"""Stored mentions for crisis tests: a quiet day of traffic, then a spike, inserted directly."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

from groundswell.kernel.db import Database
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch

_ids = itertools.count(1)


def add_mentions(
    db: Database,
    organization_id: str,
    times: list[datetime],
    *,
    text: str = "just a normal day with the app",
    topic: str | None = None,
    source: str = "test",
    labels: list[str] | None = None,
    sentiment: str | None = None,
    cluster_id: int | None = None,
) -> int:
    """Insert one mention per instant of `times` (matched by a query of `topic` if given)."""
    with db.unit_of_work() as session:
        query_id = None
        if topic is not None:
            query = (
                session.query(ListeningQuery)
                .filter_by(organization_id=organization_id, name=topic)
                .first()
            )
            if query is None:
                query = ListeningQuery(
                    organization_id=organization_id,
                    name=topic,
                    topic=topic,
                    query=topic,
                    created_at=times[0],
                )
                session.add(query)
                session.flush()
            query_id = query.id
        for i, at in enumerate(times):
            n = next(_ids)
            mention = Mention(
                organization_id=organization_id,
                source=source,
                external_id=f"m{n}",
                author_handle=f"@person{i % 40}",
                author_followers=100 + (i * 37) % 5000,
                text=f"{text} #{n}" if "{n}" not in text else text.format(n=n),
                created_at=at,
                imported_at=at,
                links=[],
                metrics={},
                labels=labels or [],
                sentiment=sentiment,
                cluster_id=cluster_id,
            )
            session.add(mention)
            session.flush()
            if query_id is not None:
                session.add(MentionMatch(mention_id=mention.id, query_id=query_id, matched_at=at))
    return len(times)


def quiet_then_spike(
    db: Database, organization_id: str, now: datetime, *, spike: int = 40, topic: str = "app"
) -> datetime:
    """30 hours of two posts every 5 minutes up to `now` minus 10 minutes, then `spike` posts
    about a recall in the 5 minutes before `now` minus 5 minutes. Returns the end of the spike
    bucket (when the alert fires live)."""
    end = now.replace(second=0, microsecond=0)
    end -= timedelta(minutes=end.minute % 5)
    spike_start = end - timedelta(minutes=10)
    quiet: list[datetime] = []
    t = spike_start - timedelta(hours=30)
    while t < spike_start:
        quiet += [t + timedelta(seconds=30), t + timedelta(seconds=150)]
        t += timedelta(minutes=5)
    add_mentions(db, organization_id, quiet, topic=topic)
    burst = [spike_start + timedelta(seconds=5 * i) for i in range(spike)]
    add_mentions(
        db,
        organization_id,
        burst,
        text="the battery of my phone is swelling after the update, recall it {n}",
        topic=topic,
        labels=["safety_risk"],
        sentiment="negative",
        cluster_id=990_001,  # as listening's near-duplicate clustering would have stored it
    )
    return spike_start + timedelta(minutes=5)
