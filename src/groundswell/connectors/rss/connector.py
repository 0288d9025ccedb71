"""The ``rss`` connector: a `PullSource` over one RSS or Atom feed.

Each fetch is a conditional GET (``If-None-Match`` with the last ETag, ``If-Modified-Since``
with the last Last-Modified, both kept in the cursor): 304 is an empty batch. A 200 gives the
entries not given before, oldest first, deduplicated by id (guid), else link; the cursor
remembers the keys of the entries given (the last `SEEN_MAX`), so a restart from the saved
cursor gives no duplicate, and an entry that appears while the feed was not read is given at
the next fetch. 429 and 5xx are retried by `connectors.http.request` (Retry-After honoured);
other failures raise `SourceUnavailable` with the status. The feed's ``<ttl>`` becomes the
batch's ``wait_seconds``.

Options: ``url`` (required). No secrets: a feed that needs a token carries it in its URL.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import httpx

from groundswell import __version__
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import RetryPolicy, SourceUnavailable, request
from groundswell.connectors.rss.parse import (
    FORMAT,
    NotAFeed,
    encode_entry,
    entry_key,
    parse_entry,
    parse_feed,
)

MAX_FEED_BYTES = 20 * 1024 * 1024  # a feed larger than this is refused, not parsed
SEEN_MAX = 1000  # entry keys kept in the cursor; far more than a feed lists at once
USER_AGENT = f"Groundswell/{__version__} (feed reader; +https://groundswell.dev)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.1"
)


class RssConnector:
    """One feed. `sleep` and `rand` drive the retry waits (tests pass instant ones)."""

    name = "rss"
    capabilities = Capabilities(pulls=True, options=("url",), required=("url",))

    def __init__(
        self,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.sleep = sleep
        self.rand = rand
        self.policy = policy or RetryPolicy()

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_entry(record.payload)

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        url = (config.options.get("url") or "").strip()
        if not url.startswith(("http://", "https://")):
            raise SourceUnavailable("rss: option url must be an http(s) address")
        state = read_cursor(cursor)
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("modified"):
            headers["If-Modified-Since"] = state["modified"]
        response = request(
            client,
            "GET",
            url,
            headers=headers,
            policy=self.policy,
            sleep=self.sleep,
            rand=self.rand,
            follow_redirects=True,
        )
        host = httpx.URL(url).host
        if response.status_code == 304:
            return Batch(records=(), cursor=write_cursor(state))
        if response.status_code != 200:
            raise SourceUnavailable(
                f"{host} answered HTTP {response.status_code} for the feed",
                status=response.status_code,
            )
        if len(response.content) > MAX_FEED_BYTES:
            raise SourceUnavailable(
                f"{host}: the feed is {len(response.content):,} bytes, over {MAX_FEED_BYTES:,}",
                status=200,
            )
        try:
            feed = parse_feed(response.content, location=str(response.url))
        except NotAFeed as exc:
            raise SourceUnavailable(f"{host}: {exc}", status=200) from None
        seen: list[str] = list(state.get("seen", []))
        known = set(seen)
        fresh: list[dict[str, Any]] = []
        for entry in feed.entries:  # the first listing of an entry wins
            key = entry_key(entry)
            if key in known:
                continue
            known.add(key)
            fresh.append(entry)
        fresh.reverse()  # feeds list newest first; give oldest first (dates decide when known)
        fresh.sort(key=lambda e: e.get("published") or e.get("updated") or "")
        new_keys = [entry_key(e) for e in fresh]
        next_state = {
            "etag": response.headers.get("ETag") or None,
            "modified": response.headers.get("Last-Modified") or None,
            "seen": (new_keys[::-1] + seen)[:SEEN_MAX],
        }
        records = tuple(
            RawRecord(encode_entry(e), position, FORMAT) for position, e in enumerate(fresh, 1)
        )
        return Batch(
            records=records, cursor=write_cursor(next_state), wait_seconds=feed.ttl_seconds
        )


def read_cursor(cursor: str | None) -> dict[str, Any]:
    """The state a cursor holds (``etag``, ``modified``, ``seen``); {} for the first fetch."""
    if not cursor:
        return {}
    try:
        state = json.loads(cursor)
    except json.JSONDecodeError:
        raise SourceUnavailable("rss: unreadable cursor") from None
    if not isinstance(state, dict) or not isinstance(state.get("seen", []), list):
        raise SourceUnavailable("rss: unreadable cursor")
    return state


def write_cursor(state: dict[str, Any]) -> str:
    return json.dumps(state, ensure_ascii=False, separators=(",", ":"))
