"""Fixtures for the triage tests: no network anywhere; the shipped default set must load."""

from __future__ import annotations

import socket
from typing import Any, NoReturn

import pytest


def _shipped_models_load() -> None:
    """Fail the run at once when the shipped default set does not load (a weight file missing,
    a feature version behind the code): every triage test reads it, and none may pass against
    anything else."""
    from groundswell.triage import models

    try:
        models.load_model_set("default")
    except models.ModelUnavailable as exc:
        raise pytest.UsageError(
            f"the shipped default model set does not load: {exc} (training/README.md)"
        ) from exc


_shipped_models_load()


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise OSError("network access attempted during a triage test")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every triage test runs with outbound connections and name lookups refused."""
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    return
