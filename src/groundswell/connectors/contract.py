"""The connector contract: what the ingest core may ask of a source of posts, and of a
publisher of replies. Plain data and protocols; no database, no clock.

A `Source` turns a location (for the ``files`` connector: a path) into `RawRecord`s, each the
undecoded payload of one post as the network gave it, and parses one record into a
`ConnectorPost` or raises `BadRecord` with a machine-readable `reason`. Splitting reading from
parsing lets the core quarantine a bad record with its exact payload, and re-parse it later
(`quarantine retry`) without the original file.

Networks are read in one of two ways besides files: a `PullSource` is asked for the next
`Batch` after an opaque cursor (the core persists the cursor with the batch, so a restart
resumes with no gap and no duplicate); a `StreamSource` yields batches as they arrive from a
long-lived connection. Both get their `SourceConfig` (options and decrypted secrets) and an
`httpx.Client` from the caller, so tests pass a client over `httpx.MockTransport` or a loopback
server. A `Publisher` posts and replies. Retries on 429/5xx live in `connectors.http`.

A post travels on a channel: ``public`` (a post anyone may read, the default) or ``direct`` (a
private message to the brand account). A connector says in its `Capabilities` whether the
posts it reads may be direct messages (`reads_direct`) and whether its `Publisher` can answer
one privately (`sends_direct`). A reply to a direct message is published with
``channel="direct"`` and must stay private: a publisher that cannot send one refuses it
(`SourceUnavailable`) and never falls back to a public post.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, Protocol, runtime_checkable

import httpx

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


Channel = Literal["public", "direct"]
PUBLIC: Final = "public"
DIRECT: Final = "direct"
CHANNELS: Final[tuple[Channel, ...]] = ("public", "direct")


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
    streams: bool = False  # implements StreamSource (or Source.records may block for new posts)
    pulls: bool = False  # implements PullSource
    publishes: bool = False  # implements Publisher
    can_reply: bool = False  # Publisher.publish accepts in_reply_to
    threads: bool = False  # replies are threaded under the post they answer
    max_length: int | None = None  # characters a published text may have; None: no limit
    requests_per_minute: int | None = None  # the network's documented rate limit, if any
    receives: bool = False  # posts are pushed to us over HTTP (the webhook endpoint)
    reads_direct: bool = False  # posts read may be direct messages (ConnectorPost.channel)
    sends_direct: bool = False  # Publisher.publish accepts channel="direct" (a private reply)
    # A direct message reaches only the accounts its text names: the publisher starts the
    # text with "@recipient " when it does not name them (the core counts that in the length).
    direct_names_recipient: bool = False
    options: tuple[str, ...] = ()  # names of plain settings a configured source accepts
    secrets: tuple[str, ...] = ()  # names of credentials (kept in the vault, never logged)
    required: tuple[str, ...] = ()  # those of `options` and `secrets` a source must be given


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
    aware (UTC or any offset) or None when the source did not say. `channel` is ``direct``
    for a private message to the brand account (see the module docstring)."""

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
    channel: Channel = "public"


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


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """How one configured source reads or publishes: `options` are plain settings (instance
    URL, hashtag, subreddit...), `secrets` the decrypted credentials (never logged, never
    stored outside the vault)."""

    options: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Batch:
    """What one fetch brought: the records in order, the cursor to pass to the next fetch
    (None: start over is never implied; keep the previous cursor), the external ids the network
    says were deleted (the core deletes those posts), and how long the network asked us to wait
    before asking again (seconds; from Retry-After or a rate-limit header)."""

    records: tuple[RawRecord, ...] = ()
    cursor: str | None = None
    deleted: tuple[str, ...] = ()
    wait_seconds: float | None = None


@runtime_checkable
class PullSource(Protocol):
    """A network read by asking for what came after a cursor."""

    name: str
    capabilities: Capabilities

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        """The next batch after `cursor` (None: the first fetch). Raises
        `connectors.http.SourceUnavailable` when the network cannot be read now."""
        ...

    def parse(self, record: RawRecord) -> ConnectorPost:
        """One record as a post; raises `BadRecord` when it is not one."""
        ...


@runtime_checkable
class StreamSource(Protocol):
    """A network that pushes posts over a long-lived connection (websocket, server-sent
    events). Each yielded batch carries the cursor to resume from after a restart."""

    name: str
    capabilities: Capabilities

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        """Batches as they arrive, until the connection closes."""
        ...

    def parse(self, record: RawRecord) -> ConnectorPost:
        """One record as a post; raises `BadRecord` when it is not one."""
        ...


@dataclass(frozen=True, slots=True)
class Published:
    """A post or reply the network accepted: its id there and, when known, its URL."""

    external_id: str
    url: str | None = None


@runtime_checkable
class Publisher(Protocol):
    """Where posts and replies go."""

    name: str
    capabilities: Capabilities

    def publish(
        self,
        config: SourceConfig,
        text: str,
        *,
        in_reply_to: str | None = None,
        channel: Channel = "public",
        recipient: str | None = None,
        client: httpx.Client,
    ) -> Published:
        """Publish `text` (a reply threaded under `in_reply_to`, the network's id of the post
        answered, when given). With ``channel="direct"`` the text goes privately to
        `recipient` (the handle of the person answered) or the publisher raises without
        posting anything (`Capabilities.sends_direct` False). Raises
        `connectors.http.SourceUnavailable` when the network refuses or cannot be reached,
        with a message for a person."""
        ...


Connector = Source | PullSource | StreamSource | Publisher


def addressed_to(text: str, recipient: str | None) -> str:
    """`text` starting with ``@recipient `` unless it names them already (``@ana``, or
    ``@ana@other.social`` for a handle on another server; case-insensitive). For networks
    whose direct messages reach only the accounts the text names
    (`Capabilities.direct_names_recipient`)."""
    handle = (recipient or "").strip().lstrip("@")
    if not handle:
        return text
    named = re.compile(r"(?<![\w@])@" + re.escape(handle) + r"(?![\w@-]|\.\w)", re.IGNORECASE)
    return text if named.search(text) else f"@{handle} {text}"
