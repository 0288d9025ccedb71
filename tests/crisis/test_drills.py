"""Drills: a fake-connector scenario with an injected incident plays out through the live
detector, marked as a drill everywhere and kept out of metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from groundswell.crisis import drills, followup, jobs, service
from groundswell.crisis.tables import CrisisAlert
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict
from groundswell.kernel.settings import Settings
from groundswell.listening.tables import Mention
from tests.builders import make_org


def test_a_drill_plays_out_live_and_stays_marked(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    with db.unit_of_work() as session:
        drill = drills.start_drill(session, owner.actor, name="Outage drill", now=clock.now())
        drill_id, source, topic = drill.id, drill.source, drill.topic
        assert drill.posts > 1000
        with pytest.raises(Conflict):
            drills.start_drill(session, owner.actor, name="Second", now=clock.now())

    # Nothing before the injected incident begins (10 minutes from the start).
    assert jobs.detect(db, clock) == 0
    clock.advance(timedelta(minutes=30))
    assert jobs.detect(db, clock) >= 1
    with db.reader() as session:
        alerts = session.scalars(select(CrisisAlert)).all()
    assert alerts
    assert all(a.is_drill and a.topic == topic for a in alerts)
    assert min(a.at for a in alerts) <= clock.now()
    volume = next(a for a in alerts if a.metric == "volume")

    with db.unit_of_work() as session:
        incident = service.open_incident(
            session,
            owner.actor,
            title="Drill: app down",
            kind="outage",
            severity="sev2",
            alert_id=volume.id,
            now=clock.now(),
        )
        assert incident.is_drill
    with db.reader() as session:
        m = followup.metrics(session, org, now=clock.now())
        assert (m.active, m.opened_30d) == (0, 0)

    with db.unit_of_work() as session:
        drills.stop_drill(session, owner.actor, drill_id, now=clock.now())
    with db.reader() as session:
        future = session.scalar(
            select(func.count())
            .select_from(Mention)
            .where(Mention.source == source, Mention.created_at >= clock.now())
        )
        assert future == 0
    clock.advance(timedelta(minutes=30))
    before = len(alerts)
    jobs.detect(db, clock)
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(CrisisAlert)) == before
