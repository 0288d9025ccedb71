"""Connectors: where posts come from and where replies go. The core talks to them only through
the protocols in `contract` and finds them through `registry` (entry-point group
``groundswell.connectors``); it never branches on a connector's name."""

from groundswell.connectors.contract import (
    BadRecord,
    Batch,
    Capabilities,
    Connector,
    ConnectorPost,
    Published,
    Publisher,
    PullSource,
    RawRecord,
    Source,
    SourceConfig,
    StreamSource,
)
from groundswell.connectors.registry import ENTRY_POINT_GROUP, available, get, source_for_files

__all__ = [
    "ENTRY_POINT_GROUP",
    "BadRecord",
    "Batch",
    "Capabilities",
    "Connector",
    "ConnectorPost",
    "Published",
    "Publisher",
    "PullSource",
    "RawRecord",
    "Source",
    "SourceConfig",
    "StreamSource",
    "available",
    "get",
    "source_for_files",
]
