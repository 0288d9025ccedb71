"""Scheduled governance work (listed in `kernel.jobs_index.JOB_MODULES`)."""

from __future__ import annotations

from datetime import timedelta

from groundswell.governance import approvals
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.jobs import job


@job("governance.expire_approvals", every=timedelta(minutes=1))
def expire_approvals(db: Database, clock: Clock) -> int:
    """Mark approval requests past their expiry as expired; returns how many."""
    with db.unit_of_work() as session:
        return approvals.expire_due(session, now=clock.now())
