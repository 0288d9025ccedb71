"""The ``bluesky`` connector: the Jetstream firehose (`stream`), post search (`fetch`) and
posting or replying over the AT Protocol (`publish`). See README.md.

Jetstream's cursor is ``time_us`` (microseconds since the epoch) of the last event read; a
restart reconnects with ``cursor=<time_us>`` and skips events at or before it, so nothing is
missed and nothing read twice. Every event advances the cursor, likes and identity events
included, and deletions of posts come back as `Batch.deleted`.

Search (``app.bsky.feed.searchPosts``, ``sort=latest``) is read in sweeps: the first fetch
takes the newest page; later sweeps ask for posts ``since`` the newest one already read and
page back with the API's cursor until the sweep is done. The cursor keeps the AT-URIs of the
previous page and of the posts at the ``since`` instant (which the API includes), so a page
shifted by new arrivals or the inclusive bound brings no duplicate.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import httpx
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus
from websockets.sync.client import connect

from groundswell.connectors.bluesky.parse import (
    FORMAT_EVENT,
    FORMAT_POST_VIEW,
    POST_COLLECTION,
    classify,
    graphemes,
    link_facets,
    parse_event,
    parse_post_view,
    split_at_uri,
    web_url,
)
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    Channel,
    ConnectorPost,
    Published,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import (
    RetryPolicy,
    SourceUnavailable,
    request,
    retry_after_seconds,
)

JETSTREAM_URL = "wss://jetstream2.us-east.bsky.network/subscribe"
PUBLIC_APPVIEW = "https://public.api.bsky.app"
DEFAULT_SERVICE = "https://bsky.social"
MAX_GRAPHEMES = 300
SEARCH_PAGE = 25
SESSION_SECONDS = 15 * 60  # access tokens live about 2 hours; renew well before


class BlueskyConnector:
    """Bluesky. `batch_size` and `flush_seconds` bound how long a streamed post waits before
    its batch is yielded; sleeping, randomness, the clock and the HTTP transport of the
    client it opens itself (search run as a stream) are injectable for tests."""

    name = "bluesky"
    capabilities = Capabilities(
        streams=True,
        pulls=True,
        publishes=True,
        can_reply=True,
        threads=True,
        max_length=MAX_GRAPHEMES,  # graphemes, not code points
        requests_per_minute=600,  # 3,000 requests per 5 minutes per IP on bsky.social
        options=(
            "mode",
            "jetstream_url",
            "keywords",
            "wanted_dids",
            "query",
            "poll_seconds",
            "service",
            "handle",
            "lang",
        ),
        secrets=("app_password",),
        required=(),
    )

    def __init__(
        self,
        *,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = 200,
        flush_seconds: float = 0.5,
        search_page: int = SEARCH_PAGE,
        transport: httpx.BaseTransport | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._monotonic = monotonic
        self._sessions: dict[tuple[str, str, str], tuple[dict[str, Any], float]] = {}
        self._transport = transport  # for the clients the connector opens itself (tests)
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._now = now
        self._batch_size = batch_size
        self._flush_seconds = flush_seconds
        self._search_page = search_page

    def parse(self, record: RawRecord) -> ConnectorPost:
        if record.format == FORMAT_POST_VIEW:
            return parse_post_view(record.payload)
        return parse_event(record.payload)

    # -- Jetstream -------------------------------------------------------------------------

    def stream(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        """Posts created (and deleted) on the network, from `cursor` (a ``time_us``) on,
        until the server closes the connection. The option ``keywords`` (comma-separated)
        keeps only posts containing one of them; ``wanted_dids`` follows some accounts only."""
        mode = config.options.get("mode") or (
            "search" if config.options.get("query") else "jetstream"
        )
        if mode not in ("jetstream", "search"):
            raise SourceUnavailable("The option mode must be jetstream or search.")
        if mode == "search":
            yield from self._poll(config, cursor)
            return
        after = _time_us(cursor)
        url = _jetstream_url(config, after)
        keywords = [k.strip().casefold() for k in config.options.get("keywords", "").split(",")]
        keywords = [k for k in keywords if k]
        try:
            socket = connect(url, open_timeout=30, close_timeout=5, max_size=2**22)
        except InvalidStatus as exc:
            status = exc.response.status_code
            wait = retry_after_seconds(exc.response.headers.get("Retry-After"))
            raise SourceUnavailable(
                f"Jetstream refused the connection with HTTP {status}",
                status=status,
                retry_after=wait,
            ) from None
        except (OSError, TimeoutError) as exc:
            raise SourceUnavailable(f"Jetstream cannot be reached ({type(exc).__name__})") from None
        with socket:
            records: list[RawRecord] = []
            deleted: list[str] = []
            last, yielded = after, after
            deadline: float | None = None
            while True:
                closed: str | None = None
                try:
                    message = socket.recv(
                        timeout=self._flush_seconds
                        if deadline is None
                        else max(0.0, deadline - time.monotonic())
                    )
                except TimeoutError:
                    message = None
                except ConnectionClosedOK:
                    message, closed = None, "ok"
                except ConnectionClosedError as exc:
                    message, closed = None, f"closed ({exc.rcvd.code if exc.rcvd else 'no code'})"
                if message is not None:
                    payload = message.encode("utf-8") if isinstance(message, str) else message
                    event = classify(payload)
                    if event.time_us and after is not None and event.time_us <= after:
                        continue  # replayed from before the cursor: already read
                    if event.action == "post" and _wanted(event.text, keywords, event.time_us):
                        records.append(RawRecord(payload, len(records) + 1, FORMAT_EVENT))
                    elif event.action == "delete" and event.uri:
                        deleted.append(event.uri)
                    if event.time_us:
                        last = max(last or 0, event.time_us)
                    if deadline is None:
                        deadline = time.monotonic() + self._flush_seconds
                due = deadline is not None and time.monotonic() >= deadline
                if closed or message is None or due or len(records) >= self._batch_size:
                    if records or deleted or last != yielded:
                        yield Batch(
                            records=tuple(records),
                            cursor=None if last is None else str(last),
                            deleted=tuple(deleted),
                        )
                        yielded = last
                    records, deleted, deadline = [], [], None
                if closed == "ok":
                    return
                if closed:
                    raise SourceUnavailable(f"Jetstream connection {closed}")

    def _poll(self, config: SourceConfig, cursor: str | None) -> Iterator[Batch]:
        """Search as a stream (a source with the option ``query``, or ``mode=search``):
        `fetch` in a loop; every fetch is yielded (an empty one too, so the runner sees the
        source alive), then a pause of ``poll_seconds`` (default 60) when a sweep is done."""
        interval = 60.0
        with contextlib.suppress(ValueError):
            interval = max(1.0, float(config.options.get("poll_seconds") or interval))
        with httpx.Client(timeout=httpx.Timeout(30.0), transport=self._transport) as client:
            while True:
                batch = self.fetch(config, cursor, client=client)
                yield batch
                cursor = batch.cursor or cursor
                if not _SearchState.load(cursor).page:
                    self._sleep(interval)

    # -- search ----------------------------------------------------------------------------

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        """The next page of ``app.bsky.feed.searchPosts`` for the option ``query``, oldest
        first within the page (see the module docstring for the sweeps)."""
        query = (config.options.get("query") or "").strip()
        if not query:
            raise SourceUnavailable("Bluesky search needs the option query.")
        state = _SearchState.load(cursor)
        params: dict[str, Any] = {"q": query, "sort": "latest", "limit": self._search_page}
        if state.since:
            params["since"] = state.since
        if state.page:
            params["cursor"] = state.page
        if config.options.get("lang"):
            params["lang"] = config.options["lang"]
        search = "/xrpc/app.bsky.feed.searchPosts"
        if config.secrets.get("app_password") and config.options.get("handle"):
            response = self._authed(config, client, "GET", search, params=params)
        else:
            # The public AppView, which may refuse search without a session.
            public = (config.options.get("service") or PUBLIC_APPVIEW).rstrip("/")
            response = self._call(client, "GET", public + search, params=params)
        body = _json_object(response)
        posts = [
            p
            for p in body.get("posts", [])
            if isinstance(p, dict) and isinstance(p.get("uri"), str)
        ]
        skip = set(state.edge) | set(state.previous)
        fresh = [p for p in posts if p["uri"] not in skip]
        records = tuple(
            RawRecord(_dump(p), n, FORMAT_POST_VIEW) for n, p in enumerate(reversed(fresh), start=1)
        )
        top, top_uris = state.top, list(state.top_uris)
        for stamp, uri in ((_sort_at(p), p["uri"]) for p in posts):
            if stamp and (top is None or stamp > top):
                top, top_uris = stamp, [uri]
            elif stamp and stamp == top and uri not in top_uris:
                top_uris.append(uri)
        api_cursor = body.get("cursor") if isinstance(body.get("cursor"), str) else None
        if state.since is None and state.page is None:
            api_cursor = None  # the first fetch reads the newest page only, not all history
        if posts and api_cursor:
            uris = [p["uri"] for p in posts]
            next_state = _SearchState(state.since, api_cursor, top, top_uris, state.edge, uris)
        elif top is None or top == state.since:
            edge = sorted(set(state.edge) | set(top_uris))
            next_state = _SearchState(state.since, None, None, [], edge, [])
        else:
            next_state = _SearchState(top, None, None, [], sorted(top_uris), [])
        return Batch(records=records, cursor=next_state.dump())

    # -- publishing ------------------------------------------------------------------------

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
        """Create an ``app.bsky.feed.post`` record (a reply when `in_reply_to`, an AT-URI, is
        given: its ``reply`` refers to the thread's root and to the parent, with their CIDs).
        Links become link facets."""
        if channel != "public":
            # Never fall back to a public reply: the customer wrote privately.
            raise SourceUnavailable(
                "This connector cannot send Bluesky direct messages (chat.bsky.convo): the"
                " private reply was not sent, and not posted publicly either. Answer the"
                " customer on Bluesky itself."
            )
        count = graphemes(text)
        if count > MAX_GRAPHEMES:
            raise SourceUnavailable(
                f"The text has {count} characters; Bluesky takes at most {MAX_GRAPHEMES}."
            )
        if not text.strip():
            raise SourceUnavailable("The text is empty.")
        _, session = self._session(config, client)
        record: dict[str, Any] = {
            "$type": POST_COLLECTION,
            "text": text,
            "createdAt": self._now()
            .astimezone(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
        }
        if config.options.get("lang"):
            record["langs"] = [config.options["lang"]]
        facets = link_facets(text)
        if facets:
            record["facets"] = facets
        if in_reply_to:
            record["reply"] = self._reply_refs(config, in_reply_to, client)
        response = self._authed(
            config,
            client,
            "POST",
            "/xrpc/com.atproto.repo.createRecord",
            json={"repo": session["did"], "collection": POST_COLLECTION, "record": record},
        )
        created = _json_object(response)
        uri = created.get("uri")
        if not isinstance(uri, str):
            raise SourceUnavailable("Bluesky answered without the new post's URI.")
        _, _, rkey = split_at_uri(uri)
        return Published(
            external_id=uri, url=web_url(str(session.get("handle") or session["did"]), rkey)
        )

    # -- helpers ---------------------------------------------------------------------------

    def _reply_refs(
        self, config: SourceConfig, parent_uri: str, client: httpx.Client
    ) -> dict[str, Any]:
        try:
            repo, collection, rkey = split_at_uri(parent_uri)
        except ValueError as exc:
            raise SourceUnavailable(f"Cannot reply: {exc}") from None
        response = self._authed(
            config,
            client,
            "GET",
            "/xrpc/com.atproto.repo.getRecord",
            params={"repo": repo, "collection": collection, "rkey": rkey},
        )
        parent = _json_object(response)
        if not isinstance(parent.get("cid"), str):
            raise SourceUnavailable("Bluesky answered without the parent post's CID.")
        parent_ref = {"uri": parent_uri, "cid": parent["cid"]}
        value = parent.get("value")
        reply = value.get("reply") if isinstance(value, dict) else None
        root = reply.get("root") if isinstance(reply, dict) else None
        if not (
            isinstance(root, dict)
            and isinstance(root.get("uri"), str)
            and isinstance(root.get("cid"), str)
        ):
            root = parent_ref
        return {"root": {"uri": root["uri"], "cid": root["cid"]}, "parent": parent_ref}

    def _session(
        self, config: SourceConfig, client: httpx.Client, *, fresh: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """The account's session (``com.atproto.server.createSession`` with the handle and app
        password), reused for `SESSION_SECONDS`: sign-ins are limited to 30 per 5 minutes."""
        handle = (config.options.get("handle") or "").strip()
        password = config.secrets.get("app_password") or ""
        if not handle or not password:
            raise SourceUnavailable("Bluesky needs the option handle and the secret app_password.")
        service = (config.options.get("service") or DEFAULT_SERVICE).rstrip("/")
        # Keyed by the password's hash too: a changed app password signs in again.
        key = (service, handle, hashlib.sha256(password.encode("utf-8")).hexdigest())
        cached = self._sessions.get(key)
        if cached is not None and not fresh and cached[1] > self._monotonic():
            return service, cached[0]
        response = self._call(
            client,
            "POST",
            service + "/xrpc/com.atproto.server.createSession",
            json={"identifier": handle, "password": password},
        )
        session = _json_object(response)
        if not isinstance(session.get("accessJwt"), str) or not isinstance(session.get("did"), str):
            raise SourceUnavailable("Bluesky answered the sign-in without a session.")
        self._sessions[key] = (session, self._monotonic() + SESSION_SECONDS)
        return service, session

    def _authed(
        self, config: SourceConfig, client: httpx.Client, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """An XRPC call on the account's service with its session; an expired or revoked
        token (``ExpiredToken``/``InvalidToken``) gets one new session and one more try."""
        for fresh in (False, True):
            service, session = self._session(config, client, fresh=fresh)
            headers = {"Authorization": f"Bearer {session['accessJwt']}"}
            try:
                return self._call(client, method, service + path, headers=headers, **kwargs)
            except SourceUnavailable as exc:
                if fresh or exc.status not in (400, 401) or "Token" not in str(exc):
                    raise
        raise AssertionError("unreachable: the second try returns or raises")

    def _call(self, client: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = request(
            client, method, url, policy=self._policy, sleep=self._sleep, rand=self._rand, **kwargs
        )
        if response.status_code >= 400:
            detail = ""
            try:
                body = response.json()
                if isinstance(body, dict):
                    detail = ": " + ", ".join(
                        str(body[k]) for k in ("error", "message") if isinstance(body.get(k), str)
                    )
            except ValueError:
                pass
            raise SourceUnavailable(
                f"Bluesky refused {url.rsplit('/', 1)[-1]} with HTTP {response.status_code}{detail}",
                status=response.status_code,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response


@dataclass(frozen=True, slots=True)
class _SearchState:
    """The search cursor: ``since`` (the newest instant fully read), ``page`` (the API cursor
    of the sweep under way), ``top`` and ``top_uris`` (the newest instant seen in this sweep
    and the posts at it), ``edge`` (posts at ``since``, which the API includes again),
    ``previous`` (the page before, which new arrivals may shift into this one)."""

    since: str | None = None
    page: str | None = None
    top: str | None = None
    top_uris: list[str] = field(default_factory=list)
    edge: list[str] = field(default_factory=list)
    previous: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, cursor: str | None) -> _SearchState:
        if not cursor:
            return cls()
        try:
            data = json.loads(cursor)
            return cls(**{k: data[k] for k in _STATE_FIELDS if k in data})
        except (json.JSONDecodeError, TypeError):
            raise SourceUnavailable("The saved Bluesky search cursor is unreadable.") from None

    def dump(self) -> str:
        data = {k: getattr(self, k) for k in _STATE_FIELDS}
        return json.dumps({k: v for k, v in data.items() if v}, separators=(",", ":"))


_STATE_FIELDS = ("since", "page", "top", "top_uris", "edge", "previous")


def _sort_at(view: dict[str, Any]) -> str:
    """When the AppView sorts a post: ``indexedAt`` (the record's own ``createdAt`` is set by
    the client and may lie)."""
    value = view.get("indexedAt")
    return value if isinstance(value, str) else ""


def _wanted(text: str, keywords: list[str], time_us: int) -> bool:
    if not keywords or not time_us:
        return True  # unreadable frames are kept for quarantine
    folded = text.casefold()
    return any(keyword in folded for keyword in keywords)


def _time_us(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        raise SourceUnavailable(
            f"The saved Jetstream cursor is not a time_us: {cursor[:30]!r}"
        ) from None


def _jetstream_url(config: SourceConfig, after: int | None) -> str:
    base = config.options.get("jetstream_url") or JETSTREAM_URL
    params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
    for did in (config.options.get("wanted_dids") or "").split(","):
        if did.strip():
            params.append(("wantedDids", did.strip()))
    if after is not None:
        params.append(("cursor", str(after)))
    return f"{base}?{urlencode(params)}"


def _dump(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise SourceUnavailable("Bluesky answered with something that is not JSON.") from None
    if not isinstance(data, dict):
        raise SourceUnavailable("Bluesky answered with something that is not an object.")
    return data
