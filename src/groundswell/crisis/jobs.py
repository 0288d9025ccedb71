"""Scheduled crisis work: live spike detection (`crisis.detect`) and status-update reminders
(`crisis.remind_updates`). Both are safe to run in two processes at once: detection moves
its cursor by compare-and-set and alerts are unique per bucket; a reminder is sent once per
deadline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from groundswell.crisis import alerts, followup
from groundswell.crisis.domain import DetectorConfig
from groundswell.identity.notifications import notify
from groundswell.identity.tables import Organization
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.jobs import job
from groundswell.kernel.settings import Settings, get_settings


def detector_config(settings: Settings) -> DetectorConfig:
    return DetectorConfig(
        bucket_seconds=settings.crisis_bucket_minutes * 60,
        sensitivity=settings.crisis_sensitivity,
    )


@job("crisis.detect", every=timedelta(minutes=1))
def detect(db: Database, clock: Clock) -> int:
    """Run the detector for every organization (live stream and running drills); store and
    announce the alerts of the buckets closed since the last run. Returns alerts stored."""
    settings = get_settings()
    config = detector_config(settings)
    history = timedelta(hours=settings.crisis_history_hours)
    with db.reader() as session:
        organizations = list(session.scalars(select(Organization.id)))
    stored = 0
    for organization_id in organizations:
        now = clock.now()
        with db.unit_of_work() as session:
            for stream in alerts.streams(session, organization_id):
                new = alerts.detect(
                    session, organization_id, stream, now=now, config=config, history=history
                )
                stored += len(new)
                if not new:
                    continue
                watchers = followup.alert_watchers(session, organization_id)
                for alert in new:
                    drill = "[DRILL] " if alert.is_drill else ""
                    notify(
                        session,
                        organization_id=organization_id,
                        user_ids=watchers,
                        kind="crisis.alert",
                        title=f"{drill}Crisis alert: {alert.why.get('summary', alert.metric)}",
                        link=f"/crisis?alert={alert.id}",
                        now=now,
                    )
    return stored


@job("crisis.remind_updates", every=timedelta(minutes=1))
def remind_updates(db: Database, clock: Clock) -> int:
    """Remind incident commanders whose status update is overdue (once per deadline)."""
    settings = get_settings()
    with db.unit_of_work() as session:
        return followup.remind_overdue(
            session, now=clock.now(), cadence_overrides=settings.crisis_update_minutes
        )
