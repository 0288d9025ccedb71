"""Drills: a simulated crisis from a fake-connector scenario, to practise the protocol.

Starting a drill stores a day of the scenario's ordinary traffic (so the detector has a
baseline) and the coming hour, with an injected incident that begins a few minutes from now,
as mentions of a drill source (``drill-<id>``). The posts of the future are only seen by the
live detector once their bucket has closed, so the drill plays out in real time. The drill's
stream is detected on its own (`crisis.alerts`): its alerts, and incidents opened from them,
carry `is_drill` — badged everywhere, left out of metrics. Stopping a drill removes the posts
it had not yet revealed."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from groundswell.connectors.fake.generate import generate
from groundswell.connectors.fake.scenario import Incident as FakeIncident
from groundswell.connectors.fake.scenario import ScenarioError, load_scenario
from groundswell.crisis.alerts import DRILL_PREFIX
from groundswell.crisis.backtest import parse_time
from groundswell.crisis.service import audit_change, check_text
from groundswell.crisis.tables import Drill
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound
from groundswell.listening.tables import Mention

# Intents of the fake connector that read as negative, and the risk labels some carry.
_NEGATIVE = frozenset({"complaint", "churn", "safety", "legal"})
_RISK_LABELS = {"churn": "churn_risk", "safety": "safety_risk", "legal": "legal_threat"}


@dataclasses.dataclass(frozen=True)
class DrillPlan:
    scenario: str = "demo"
    topic: str = "drill: app outage"
    terms: tuple[str, ...] = ("app down", "can't log in", "check-in broken")
    posts_per_hour: float = 60.0
    multiplier: float = 6.0
    starts_in: timedelta = timedelta(minutes=10)
    lasts: timedelta = timedelta(minutes=45)
    baseline: timedelta = timedelta(hours=26)
    seed: int = 7


def _mention(organization_id: str, source: str, post: dict[str, Any], now: datetime) -> Mention:
    author = post.get("author") or {}
    intent = post.get("intent")
    label = _RISK_LABELS.get(str(intent))
    return Mention(
        organization_id=organization_id,
        source=source,
        external_id=str(post["id"]),
        url=post.get("url"),
        author_handle=author.get("handle"),
        author_name=author.get("name"),
        author_followers=author.get("followers"),
        author_verified=author.get("verified"),
        text=str(post.get("text", "")),
        language=post.get("lang"),
        created_at=parse_time(post["created_at"]),
        imported_at=now,
        links=list(post.get("links", [])),
        metrics=dict(post.get("metrics", {})),
        sentiment="negative" if intent in _NEGATIVE else "neutral",
        labels=[label] if label else [],
    )


def start_drill(
    session: Session, actor: Actor, *, name: str, plan: DrillPlan | None = None, now: datetime
) -> Drill:
    """Store the drill's posts and start detecting its stream."""
    actor.require(Permission.CONTENT_WRITE)
    plan = plan or DrillPlan()
    name = check_text(name, "Name", 200)
    running = session.scalars(
        select(Drill).where(
            Drill.organization_id == actor.organization_id, Drill.stopped_at.is_(None)
        )
    ).first()
    if running is not None:
        raise Conflict(f"The drill {running.name!r} is still running; stop it first.")
    try:
        scenario = load_scenario(plan.scenario)
    except (ScenarioError, OSError) as exc:
        raise InvalidInput(f"Cannot use scenario {plan.scenario!r}: {exc}") from None
    begins = now + plan.starts_in
    scenario = dataclasses.replace(
        scenario, rates=dataclasses.replace(scenario.rates, per_hour=plan.posts_per_hour)
    ).with_incident(
        FakeIncident(
            start=begins,
            hours=plan.lasts.total_seconds() / 3600,
            multiplier=plan.multiplier,
            topic=plan.topic,
            terms=plan.terms,
        )
    )
    source = f"{DRILL_PREFIX}{uuid.uuid4().hex[:12]}"
    drill = Drill(
        organization_id=actor.organization_id,
        name=name,
        source=source,
        topic=plan.topic,
        started_by=actor.user_id,
        started_at=now,
    )
    session.add(drill)
    count = 0
    for post in generate(
        scenario, now - plan.baseline, begins + plan.lasts + plan.starts_in, plan.seed
    ):
        session.add(_mention(actor.organization_id, source, post, now))
        count += 1
    drill.posts = count
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.drill.start",
        "crisis_drill",
        drill.id,
        now,
        after={
            "name": name,
            "scenario": plan.scenario,
            "source": source,
            "topic": plan.topic,
            "posts": count,
            "incident_starts": begins.isoformat(),
        },
    )
    return drill


def stop_drill(session: Session, actor: Actor, drill_id: str, *, now: datetime) -> Drill:
    """Stop detecting the drill and remove the posts it had not yet revealed."""
    actor.require(Permission.CONTENT_WRITE)
    drill = session.get(Drill, drill_id)
    if drill is None or drill.organization_id != actor.organization_id:
        raise NotFound("No such drill.")
    if drill.stopped_at is not None:
        return drill
    drill.stopped_at = now
    removed = session.execute(
        delete(Mention)
        .where(
            Mention.organization_id == actor.organization_id,
            Mention.source == drill.source,
            Mention.created_at >= now,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()
    audit_change(
        session,
        actor,
        "crisis.drill.stop",
        "crisis_drill",
        drill.id,
        now,
        after={"unrevealed_posts_removed": int(getattr(removed, "rowcount", 0) or 0)},
    )
    return drill


def list_drills(session: Session, actor: Actor, *, limit: int = 20) -> list[Drill]:
    return list(
        session.scalars(
            select(Drill)
            .where(Drill.organization_id == actor.organization_id)
            .order_by(Drill.started_at.desc())
            .limit(limit)
        )
    )
