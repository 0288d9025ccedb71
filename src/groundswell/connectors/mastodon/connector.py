"""The ``mastodon`` connector: reads a hashtag timeline, the public (or local) timeline or the
account's mentions, by polling (`fetch`) or over the streaming API (`stream`), and posts or
replies (`publish`). See README.md.

Polling asks for ``min_id=<cursor>``: Mastodon answers with the statuses immediately after the
cursor (oldest first in id order, at most ``limit``), so successive fetches leave no gap even
when more arrived than one page holds; the next cursor is the ``min_id`` of the ``Link``
header's ``rel="prev"`` URL (the newest status of the page). ``since_id`` would skip the
middle of a burst, which is why it is not used.

Streaming opens the server-sent events connection first, then catches up over REST from the
cursor, then reads the events that queued meanwhile, skipping those already seen: a restart
resumes with no gap and no duplicate.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    Channel,
    ConnectorPost,
    Published,
    RawRecord,
    SourceConfig,
    addressed_to,
)
from groundswell.connectors.http import (
    RetryPolicy,
    SourceUnavailable,
    request,
    retry_after_seconds,
)
from groundswell.connectors.mastodon.parse import (
    FORMAT_STATUS,
    id_key,
    iter_sse,
    link_param,
    newest,
    parse_status,
)

TIMELINES = ("tag", "public", "local", "mentions")
PAGE_SIZE = 40  # the most Mastodon gives per timeline page
DEFAULT_MAX_LENGTH = 500  # Mastodon's default; an instance may allow more (option max_length)
VISIBILITIES = ("public", "unlisted", "private", "direct")


class MastodonConnector:
    """Mastodon (and compatible servers: GoToSocial, Pleroma/Akkoma implement the same API).
    Sleeping, randomness, the wall clock and the HTTP transport of the clients it opens itself
    (streaming) are injectable for tests."""

    name = "mastodon"
    capabilities = Capabilities(
        streams=True,
        pulls=True,
        publishes=True,
        can_reply=True,
        threads=True,
        max_length=DEFAULT_MAX_LENGTH,
        reads_direct=True,  # a status of visibility "direct" in the mentions feed
        sends_direct=True,
        direct_names_recipient=True,  # a direct status reaches only the accounts it mentions
        requests_per_minute=60,  # 300 requests per 5 minutes per account (documented default)
        options=(
            "instance",
            "timeline",
            "hashtag",
            "visibility",
            "max_length",
            "streaming_url",
            "mode",
            "poll_seconds",
        ),
        secrets=("access_token",),
        required=("instance",),
    )

    def __init__(
        self,
        *,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        page_size: int = PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._transport = transport  # for the clients the connector opens itself (tests)
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._now = now
        self._page_size = page_size

    # -- reading -------------------------------------------------------------------------

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_status(record.payload)

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        """The statuses after `cursor` (a status id; for mentions a notification id), oldest
        first. The first fetch (no cursor) reads the newest page."""
        timeline = _timeline(config)
        params: dict[str, Any] = {"limit": self._page_size}
        if cursor:
            params["min_id"] = cursor
        if timeline == "mentions":
            params["types[]"] = "mention"
        if timeline == "local":
            params["local"] = "true"
        response = self._get(config, _rest_path(config, timeline), params, client)
        items = _json_list(response, _instance(config))
        if timeline == "mentions":
            pairs = [
                (str(item["id"]), item["status"])
                for item in items
                if item.get("type") == "mention"
                and isinstance(item.get("status"), dict)
                and "id" in item
            ]
            ids = [str(item["id"]) for item in items if "id" in item]
        else:
            pairs = [(str(item.get("id", "")), item) for item in items]
            ids = [key for key, _ in pairs if key]
        pairs.sort(key=lambda pair: id_key(pair[0]))
        next_cursor = link_param(response.headers.get("Link"), "prev", "min_id")
        next_cursor = newest(ids, newest([next_cursor] if next_cursor else [], cursor))
        return Batch(
            records=tuple(_record(status, n) for n, (_, status) in enumerate(pairs, start=1)),
            cursor=next_cursor,
            wait_seconds=self._rate_limit_wait(response),
        )

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        """Catch up from `cursor`, then follow the streaming API until the server closes the
        connection. Each batch holds one event: a status (``update``, or a mention
        ``notification``) or a deletion (``delete`` → `Batch.deleted`)."""
        mode = config.options.get("mode") or "stream"
        if mode not in ("stream", "poll"):
            raise SourceUnavailable("The option mode must be stream or poll.")
        if mode == "poll":
            yield from self._poll(config, cursor)
            return
        timeline = _timeline(config)
        path, params = _stream_path(config, timeline)
        base = (config.options.get("streaming_url") or _instance(config)).rstrip("/")
        timeout = httpx.Timeout(30.0, read=120.0)  # Mastodon sends a heartbeat every ~15 s
        try:
            with (
                httpx.Client(timeout=timeout, transport=self._transport) as client,
                client.stream(
                    "GET", base + path, params=params, headers=self._headers(config)
                ) as events,
            ):
                if events.status_code != 200:
                    events.read()
                    raise _refused(events, _instance(config), "streaming")
                # The stream is open and queues events while the catch-up runs.
                seen = cursor
                while True:
                    batch = self.fetch(config, seen, client=client)
                    if batch.records or batch.cursor != seen:
                        yield batch
                    seen = batch.cursor or seen
                    if not batch.records:
                        break
                for event, data in iter_sse(events.iter_lines()):
                    batch_or_none = _event_batch(timeline, event, data, seen)
                    if batch_or_none is None:
                        continue
                    seen = batch_or_none.cursor or seen
                    yield batch_or_none
        except httpx.TransportError as exc:
            raise SourceUnavailable(
                f"{_instance(config)} streaming connection failed ({type(exc).__name__})"
            ) from None

    def _poll(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        """`fetch` in a loop, for servers whose streaming API is closed (option
        ``mode=poll``): every fetch is yielded (an empty one too, so the runner sees the
        source alive), then a pause of ``poll_seconds`` (default 30) when nothing came."""
        interval = _seconds(config.options.get("poll_seconds"), 30.0)
        with httpx.Client(timeout=httpx.Timeout(30.0), transport=self._transport) as client:
            while True:
                batch = self.fetch(config, cursor, client=client)
                yield batch
                cursor = batch.cursor or cursor
                if batch.wait_seconds or not batch.records:
                    self._sleep(batch.wait_seconds or interval)

    # -- publishing ----------------------------------------------------------------------

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
        """Post a status, or a reply threaded under the status `in_reply_to`. The
        ``Idempotency-Key`` header is derived from the instance, the status answered and the
        text, so a retried request (here or after a crash, within Mastodon's hour) never posts
        twice.

        On the ``direct`` channel the status has visibility ``direct`` whatever the option
        says, and since such a status reaches only the accounts it mentions, the text starts
        with ``@recipient`` when it does not mention them already; without a recipient and no
        mention at all it is refused rather than posted to nobody."""
        if channel == "direct":
            text = addressed_to(text, recipient)
            if not _MENTION.search(text):
                raise SourceUnavailable(
                    "A direct message on Mastodon must mention its recipient (@handle)."
                )
        limit = _max_length(config)
        if len(text) > limit:
            raise SourceUnavailable(
                f"The text has {len(text)} characters; this Mastodon server takes at most {limit}."
            )
        if not text.strip():
            raise SourceUnavailable("The text is empty.")
        if not config.secrets.get("access_token"):
            raise SourceUnavailable("Posting to Mastodon needs the source's access_token.")
        visibility = "direct" if channel == "direct" else config.options.get("visibility")
        visibility = visibility or "public"
        if visibility not in VISIBILITIES:
            raise SourceUnavailable(
                f"visibility must be one of {', '.join(VISIBILITIES)}, not {visibility!r}."
            )
        body: dict[str, Any] = {"status": text, "visibility": visibility}
        if in_reply_to:
            body["in_reply_to_id"] = in_reply_to
        key_source = "\x1f".join((_instance(config), in_reply_to or "", text))
        headers = {
            **self._headers(config),
            "Idempotency-Key": hashlib.sha256(key_source.encode("utf-8")).hexdigest(),
        }
        response = request(
            client,
            "POST",
            _instance(config) + "/api/v1/statuses",
            json=body,
            headers=headers,
            policy=self._policy,
            sleep=self._sleep,
            rand=self._rand,
        )
        if response.status_code >= 400:
            raise _refused(response, _instance(config), "posting")
        status = _json_object(response, _instance(config))
        status_id = status.get("id")
        if not isinstance(status_id, str | int):
            raise SourceUnavailable(f"{_instance(config)} answered without a status id.")
        url = status.get("url") or status.get("uri")
        return Published(external_id=str(status_id), url=url if isinstance(url, str) else None)

    # -- helpers -------------------------------------------------------------------------

    def _headers(self, config: SourceConfig) -> dict[str, str]:
        token = config.secrets.get("access_token")
        return {"Authorization": f"Bearer {token}"} if token else {}

    def _get(
        self, config: SourceConfig, path: str, params: dict[str, Any], client: httpx.Client
    ) -> httpx.Response:
        response = request(
            client,
            "GET",
            _instance(config) + path,
            params=params,
            headers=self._headers(config),
            policy=self._policy,
            sleep=self._sleep,
            rand=self._rand,
        )
        if response.status_code >= 400:
            raise _refused(response, _instance(config), "reading")
        return response

    def _rate_limit_wait(self, response: httpx.Response) -> float | None:
        """Seconds until the rate limit resets when none is left (``X-RateLimit-Remaining: 0``,
        ``X-RateLimit-Reset`` an ISO 8601 instant)."""
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset = response.headers.get("X-RateLimit-Reset")
        if remaining is None or reset is None:
            return None
        try:
            if int(float(remaining)) > 0:
                return None
            when = datetime.fromisoformat(reset.strip())
        except ValueError:
            return retry_after_seconds(reset)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        return max(0.0, (when - self._now()).total_seconds())


_MENTION = re.compile(r"(?<![\w@])@\w")


def _instance(config: SourceConfig) -> str:
    instance = (config.options.get("instance") or "").strip().rstrip("/")
    if not instance:
        raise SourceUnavailable("The Mastodon source needs the option instance (a base URL).")
    if "://" not in instance:
        instance = "https://" + instance
    return instance


def _timeline(config: SourceConfig) -> str:
    timeline = config.options.get("timeline") or ("tag" if config.options.get("hashtag") else "")
    if timeline not in TIMELINES:
        raise SourceUnavailable(
            f"The option timeline must be one of {', '.join(TIMELINES)}"
            " (or set hashtag for a hashtag timeline)."
        )
    if timeline == "tag" and not _hashtag(config):
        raise SourceUnavailable("A hashtag timeline needs the option hashtag.")
    return timeline


def _hashtag(config: SourceConfig) -> str:
    return (config.options.get("hashtag") or "").strip().lstrip("#")


def _seconds(value: str | None, default: float) -> float:
    try:
        return max(1.0, float(value)) if value else default
    except ValueError:
        return default


def _max_length(config: SourceConfig) -> int:
    value = config.options.get("max_length")
    try:
        return int(value) if value else DEFAULT_MAX_LENGTH
    except ValueError:
        return DEFAULT_MAX_LENGTH


def _rest_path(config: SourceConfig, timeline: str) -> str:
    if timeline == "tag":
        return f"/api/v1/timelines/tag/{quote(_hashtag(config), safe='')}"
    if timeline == "mentions":
        return "/api/v1/notifications"
    return "/api/v1/timelines/public"


def _stream_path(config: SourceConfig, timeline: str) -> tuple[str, dict[str, str]]:
    if timeline == "tag":
        return "/api/v1/streaming/hashtag", {"tag": _hashtag(config)}
    if timeline == "mentions":
        return "/api/v1/streaming/user/notification", {}
    if timeline == "local":
        return "/api/v1/streaming/public/local", {}
    return "/api/v1/streaming/public", {}


def _event_batch(timeline: str, event: str, data: str, seen: str | None) -> Batch | None:
    """One streaming event as a batch, or None for events that bring nothing new (heartbeats,
    edits, statuses already read by the catch-up)."""
    if event == "delete":
        return Batch(deleted=(data.strip(),), cursor=seen)
    if event not in ("update", "notification"):
        return None  # status.update (an edit), filters_changed, announcements...
    try:
        item = json.loads(data)
    except json.JSONDecodeError:
        # Kept so the core quarantines it with its payload rather than losing it silently.
        return Batch(records=(RawRecord(data.encode("utf-8"), 1, FORMAT_STATUS),), cursor=seen)
    if not isinstance(item, dict):
        return None
    if event == "notification":
        if timeline != "mentions" or item.get("type") != "mention":
            return None
        status = item.get("status")
    else:
        if timeline == "mentions":
            return None
        status = item
    key = str(item.get("id", ""))
    if not isinstance(status, dict) or not key:
        return None
    if seen is not None and id_key(key) <= id_key(seen):
        return None
    return Batch(records=(_record(status, 1),), cursor=key)


def _record(status: dict[str, Any], position: int) -> RawRecord:
    payload = json.dumps(status, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return RawRecord(payload=payload, position=position, format=FORMAT_STATUS)


def _json_list(response: httpx.Response, instance: str) -> list[dict[str, Any]]:
    try:
        data = response.json()
    except ValueError:
        raise SourceUnavailable(f"{instance} answered with something that is not JSON.") from None
    if not isinstance(data, list):
        raise SourceUnavailable(f"{instance} answered with something that is not a list.")
    return [item for item in data if isinstance(item, dict)]


def _json_object(response: httpx.Response, instance: str) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise SourceUnavailable(f"{instance} answered with something that is not JSON.") from None
    if not isinstance(data, dict):
        raise SourceUnavailable(f"{instance} answered with something that is not an object.")
    return data


def _refused(response: httpx.Response, instance: str, doing: str) -> SourceUnavailable:
    """The network's refusal as a message for a person (Mastodon says why in ``error``)."""
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("error"), str):
            detail = f": {body['error']}"
    except ValueError:
        pass
    hint = {
        401: " (check the access token)",
        403: " (the token lacks a scope)",
        404: " (check the instance URL)",
    }
    return SourceUnavailable(
        f"{instance} refused {doing} with HTTP {response.status_code}{detail}"
        f"{hint.get(response.status_code, '')}",
        status=response.status_code,
        retry_after=retry_after_seconds(response.headers.get("Retry-After")),
    )
