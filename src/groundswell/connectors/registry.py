"""Connectors by name, from the ``groundswell.connectors`` entry-point group.

Each entry point names a zero-argument factory (usually the class) returning a `Source` and/or
`Publisher`. The built-in ``files`` connector is also known without its entry point, so a
source checkout works before the package is reinstalled; an installed entry point of the same
name wins.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from importlib.metadata import entry_points
from typing import Any

from groundswell.connectors.contract import Publisher, Source
from groundswell.kernel.errors import NotFound

ENTRY_POINT_GROUP = "groundswell.connectors"
BUILTIN = {
    "files": "groundswell.connectors.files.connector:FilesConnector",
    "fake": "groundswell.connectors.fake.connector:FakeConnector",
    "rss": "groundswell.connectors.rss.connector:RssConnector",
    "replay": "groundswell.connectors.replay.connector:ReplayConnector",
    "webhook": "groundswell.connectors.webhook.connector:WebhookConnector",
    "mastodon": "groundswell.connectors.mastodon.connector:MastodonConnector",
    "bluesky": "groundswell.connectors.bluesky.connector:BlueskyConnector",
    "reddit": "groundswell.connectors.reddit.connector:RedditConnector",
}


def _load(spec: str) -> Callable[[], Any]:
    module, _, attr = spec.partition(":")
    factory: Callable[[], Any] = getattr(import_module(module), attr)
    return factory


def _factories() -> dict[str, Callable[[], Any]]:
    found: dict[str, Callable[[], Any]] = {name: _lazy(spec) for name, spec in BUILTIN.items()}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        found[ep.name] = ep.load
    return found


def _lazy(spec: str) -> Callable[[], Any]:
    return lambda: _load(spec)


def available() -> list[str]:
    """Names of the connectors this installation has, sorted."""
    return sorted(_factories())


def get(name: str) -> Source | Publisher:
    """A fresh instance of the connector `name`. Raises `NotFound` for an unknown name."""
    factory = _factories().get(name)
    if factory is None:
        raise NotFound(f"No connector named {name!r}; installed: {', '.join(available())}.")
    connector: Source | Publisher = factory()()
    return connector


def source_for_files() -> Source:
    """The first connector (by name) that reads files. Raises `NotFound` when none does."""
    for name in available():
        connector = get(name)
        if isinstance(connector, Source) and connector.capabilities.reads_files:
            return connector
    raise NotFound("No installed connector reads files.")
