"""The connector registry: built-in ``files`` found by capability; unknown names refused."""

from __future__ import annotations

import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import Publisher, Source
from groundswell.kernel.errors import NotFound


def test_files_connector_is_available_and_reads_files() -> None:
    assert "files" in registry.available()
    connector = registry.source_for_files()
    assert isinstance(connector, Source)
    assert connector.capabilities.reads_files
    assert not isinstance(connector, Publisher)


def test_unknown_connector_is_not_found() -> None:
    with pytest.raises(NotFound, match="No connector named 'nope'"):
        registry.get("nope")


def test_entry_points_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeEntryPoint:
        name = "other"

        def load(self) -> type:
            class Other:
                name = "other"

            return Other

    monkeypatch.setattr(registry, "entry_points", lambda group: [FakeEntryPoint()])
    assert registry.available() == sorted([*registry.BUILTIN, "other"])
    assert registry.get("other").name == "other"
