"""Imports every room's tables so `Base.metadata` is complete (for Alembic and tests).
Rooms add their `tables` module here when they get one."""

from __future__ import annotations

import importlib

TABLE_MODULES = (
    "groundswell.kernel.tables",
    "groundswell.identity.tables",
    "groundswell.governance.tables",
    "groundswell.governance.policy_tables",
    "groundswell.listening.tables",
    "groundswell.care.tables",
    "groundswell.care.presence",
    "groundswell.crisis.tables",
)


def import_all_tables() -> None:
    for name in TABLE_MODULES:
        importlib.import_module(name)
