"""Listening's scheduled jobs: registered with kernel.jobs, idempotent, honour the settings."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel import jobs
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.jobs_index import JOB_MODULES
from groundswell.listening import ingest
from groundswell.listening import jobs as listening_jobs
from groundswell.listening.tables import ClusterBand, Mention
from tests.builders import make_org

TEXT = "the same words said once more by a campaign of many accounts today"


def test_jobs_are_registered() -> None:
    assert "groundswell.listening.jobs" in JOB_MODULES
    assert {"listening.purge_raw_payloads", "listening.purge_cluster_bands"} <= set(jobs.JOBS)


def test_raw_payloads_and_old_bands_are_purged_after_their_windows(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    owner = make_org(db)
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps({"id": "1", "text": TEXT}) + "\n")
    ingest.import_posts(db, owner.actor, FilesConnector(), str(path), clock=clock)

    clock.advance(timedelta(days=89))
    assert listening_jobs.purge_raw_payloads_job(db, clock) == 0
    assert listening_jobs.purge_cluster_bands_job(db, clock) == 6  # default window: 7 days
    clock.advance(timedelta(days=2))
    assert listening_jobs.purge_raw_payloads_job(db, clock) == 1  # default retention: 90 days
    assert listening_jobs.purge_raw_payloads_job(db, clock) == 0  # idempotent
    assert listening_jobs.purge_cluster_bands_job(db, clock) == 0
    with db.reader() as session:
        assert session.scalar(select(func.count()).where(Mention.raw_payload.is_not(None))) == 0
        assert session.scalar(select(func.count()).select_from(Mention)) == 1
        assert session.scalar(select(func.count()).select_from(ClusterBand)) == 0
