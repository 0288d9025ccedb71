"""Scheduled listening work (`kernel.jobs`): raw-payload retention and the near-duplicate
clustering window. Both are single idempotent statements, safe when two processes run them
at once."""

from __future__ import annotations

from datetime import timedelta

from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.jobs import job
from groundswell.kernel.settings import get_settings
from groundswell.listening import dedupe
from groundswell.listening.ingest import purge_raw_payloads


@job("listening.purge_raw_payloads", every=timedelta(hours=1))
def purge_raw_payloads_job(db: Database, clock: Clock) -> int:
    """Clear the raw payload of mentions older than GROUNDSWELL_LISTENING_RAW_RETENTION_DAYS."""
    days = get_settings().listening_raw_retention_days
    with db.unit_of_work() as session:
        return purge_raw_payloads(session, clock.now(), days)


@job("listening.purge_cluster_bands", every=timedelta(hours=1))
def purge_cluster_bands_job(db: Database, clock: Clock) -> int:
    """Forget near-duplicate band keys older than GROUNDSWELL_LISTENING_CLUSTER_WINDOW_DAYS."""
    window = timedelta(days=get_settings().listening_cluster_window_days)
    with db.unit_of_work() as session:
        return dedupe.purge_bands(session, clock.now(), window)
