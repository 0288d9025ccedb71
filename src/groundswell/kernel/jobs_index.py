"""Imports every module that registers scheduled jobs (`kernel.jobs.job`), so that every
process running jobs (serve, worker) knows the same ones. Rooms add their module here."""

from __future__ import annotations

import importlib

JOB_MODULES: tuple[str, ...] = (
    "groundswell.crisis.jobs",
    "groundswell.governance.jobs",
    "groundswell.care.jobs",
    "groundswell.listening.jobs",
)


def import_all_jobs() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
