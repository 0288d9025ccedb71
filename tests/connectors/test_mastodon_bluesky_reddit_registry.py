"""The social network connectors (mastodon, bluesky, reddit) use the same plugin door as a third
party: each is named in the ``groundswell.connectors`` entry points of pyproject.toml and in
`registry.BUILTIN`, and declares what it needs and can do."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import Publisher

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.mark.parametrize("name", ["mastodon", "bluesky", "reddit"])
def test_registered_both_ways_with_declared_capabilities(name: str) -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    entry_points = project["entry-points"]["groundswell.connectors"]
    assert entry_points[name] == registry.BUILTIN[name]
    connector = registry.get(name)
    assert connector.name == name
    caps = connector.capabilities
    assert isinstance(connector, Publisher)
    assert caps.publishes
    assert caps.can_reply
    assert caps.threads
    assert caps.max_length
    assert caps.requests_per_minute
    assert caps.options
    assert caps.secrets
