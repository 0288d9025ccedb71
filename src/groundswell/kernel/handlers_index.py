"""Imports every module that subscribes event handlers, so that every process (web server,
CLI, worker) knows the same handlers: `emit` creates one delivery per known handler, and a
process that did not import a handler would silently skip it. Rooms add their module here
when they subscribe to an event."""

from __future__ import annotations

import importlib

HANDLER_MODULES: tuple[str, ...] = (
    "groundswell.crisis.handlers",
    "groundswell.care.handlers",
    "groundswell.governance.policy_drafts",
)


def import_all_handlers() -> None:
    for name in HANDLER_MODULES:
        importlib.import_module(name)
