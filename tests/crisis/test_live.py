"""Live detection over stored mentions: the `crisis.detect` job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select

from groundswell.crisis import alerts as alerts_module
from groundswell.crisis import jobs
from groundswell.crisis.tables import CrisisAlert, CrisisDetectorCursor
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.jobs import JOBS
from groundswell.kernel.settings import Settings
from tests.builders import make_org
from tests.crisis.spike import add_mentions, quiet_then_spike


def _alerts(db: Database) -> list[CrisisAlert]:
    with db.reader() as session:
        return list(session.scalars(select(CrisisAlert).order_by(CrisisAlert.at)))


def test_a_stored_spike_raises_one_explained_alert_and_runs_are_idempotent(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    owner = make_org(db)
    fires_at = quiet_then_spike(db, owner.actor.organization_id, clock.now())
    assert "crisis.detect" in JOBS

    stored = jobs.detect(db, clock)
    alerts = _alerts(db)
    assert stored == len(alerts) >= 1
    volume = [a for a in alerts if a.metric == "volume" and a.topic == ""]
    assert [a.at for a in volume] == [fires_at]
    alert = volume[0]
    assert alert.observed >= 40
    assert alert.expected < 10
    assert not alert.is_drill
    assert alert.why["posts"] >= 40
    assert any(t["term"] == "battery" for t in alert.why["terms"])
    assert alert.why["clusters"]
    assert alert.why["clusters"][0]["posts"] >= 3
    assert alert.why["listening_clusters"] == [{"cluster_id": 990_001, "posts": 40}]
    assert alert.why["authors"]
    assert alert.why["examples"]
    # Per topic and per risk intent too, from the stored labels and query topics.
    assert {(a.topic, a.metric) for a in alerts} >= {("app", "volume"), ("", "safety_risk")}

    # Again in the same bucket, a minute later, and after forgetting the cursor: nothing new.
    assert jobs.detect(db, clock) == 0
    clock.advance(timedelta(minutes=1))
    assert jobs.detect(db, clock) == 0
    with db.unit_of_work() as session:
        session.execute(delete(CrisisDetectorCursor))
    assert jobs.detect(db, clock) == 0
    assert len(_alerts(db)) == len(alerts)


def test_no_look_ahead_and_only_new_buckets_are_stored(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    fires_at = quiet_then_spike(db, org, clock.now())
    # Posts of the future (clock skew, a bad source) are not seen before their bucket closes.
    add_mentions(db, org, [clock.now() + timedelta(minutes=90, seconds=i) for i in range(60)])
    before = jobs.detect(db, clock)
    assert all(a.at <= clock.now() for a in _alerts(db))
    clock.advance(timedelta(hours=2))
    after = jobs.detect(db, clock)
    alerts = _alerts(db)
    assert len(alerts) == before + after
    late = [a for a in alerts if a.at > fires_at + timedelta(minutes=5)]
    assert late, "the burst of future posts alerts once its bucket has closed"
    with db.reader() as session:
        assert session.scalar(select(func.count()).select_from(CrisisDetectorCursor)) == 1

    # The run that continued from the kept detector state found exactly what one replay of
    # the whole history finds (after a restart, say).
    found = {(a.topic, a.metric, a.at, a.observed) for a in alerts}
    with db.unit_of_work() as session:
        session.execute(delete(CrisisAlert))
        session.execute(delete(CrisisDetectorCursor))
    alerts_module._replayers.clear()
    jobs.detect(db, clock)
    assert {(a.topic, a.metric, a.at, a.observed) for a in _alerts(db)} == found


@pytest.mark.parametrize(("sensitivity", "expect_alert"), [(1.0, True), (1e-300, False)])
def test_sensitivity_setting(
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    sensitivity: float,
    expect_alert: bool,
) -> None:
    monkeypatch.setenv("GROUNDSWELL_CRISIS_SENSITIVITY", str(sensitivity))
    owner = make_org(db)
    quiet_then_spike(db, owner.actor.organization_id, clock.now(), spike=20)
    jobs.detect(db, clock)
    assert any(a.metric == "volume" for a in _alerts(db)) is expect_alert
