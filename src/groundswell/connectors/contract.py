"""The connector contract: what the ingest core may ask of a source of posts, and of a
publisher of replies. Plain data and protocols; no database, no clock.

A `Source` turns a location (for the ``files`` connector: a path) into `RawRecord`s, each the
undecoded payload of one post as the network gave it, and parses one record into a
`ConnectorPost` or raises `BadRecord` with a machine-readable `reason`. Splitting reading from
parsing lets the core quarantine a bad record with its exact payload, and re-parse it later
(`quarantine retry`) without the original file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

# Reasons a record is refused. Connectors may add their own; these are the ones the core knows.
REASONS = (
    "invalid_utf8",
    "invalid_json",
    "too_deep",
    "wrong_type",
    "null_value",
    "missing_id",
    "missing_text",
    "empty_text",
    "text_too_long",
    "bad_timestamp",
)


class BadRecord(ValueError):
    """A record that is not a post. `reason` is a short code (see `REASONS`); the message says
    what is wrong for a person."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a connector can do. The core picks connectors by capability, never by name."""

    reads_files: bool = False  # Source.records accepts a file path
    streams: bool = False  # Source.records may block waiting for new posts
    publishes: bool = False  # implements Publisher


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One post's payload as read. `position` is where it was (1-based line or row), for
    messages; `format` names the connector's encoding of `payload` so it can be parsed again
    later by the same connector."""

    payload: bytes
    position: int
    format: str


@dataclass(frozen=True, slots=True)
class ConnectorPost:
    """A post as the connector understood it, before the core normalizes it. `created_at` is
    aware (UTC or any offset) or None when the source did not say."""

    external_id: str
    text: str
    created_at: datetime | None = None
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    lang: str | None = None
    url: str | None = None
    in_reply_to: str | None = None
    links: tuple[str, ...] = ()
    metrics: dict[str, int | float] = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """Where posts come from."""

    name: str
    capabilities: Capabilities

    def records(self, location: str) -> Iterator[RawRecord]:
        """The records at `location`, in order. Raises `OSError` when it cannot be read."""
        ...

    def parse(self, record: RawRecord) -> ConnectorPost:
        """One record as a post; raises `BadRecord` when it is not one."""
        ...


@runtime_checkable
class Publisher(Protocol):
    """Where replies go (no built-in connector publishes yet)."""

    name: str
    capabilities: Capabilities

    def publish(self, text: str, *, in_reply_to: str | None = None) -> str:
        """Publish `text`; returns the network's id of the new post."""
        ...


Connector = Source | Publisher
