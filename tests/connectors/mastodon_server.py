"""A small Mastodon-compatible server on a loopback port, for tests of anything that reads from
or replies on Mastodon (the connector's tests; care's "reply end to end" test).

Use it as a context manager, or through the pytest fixture `mastodon_server` (import it into a
test module: ``from tests.connectors.mastodon_server import mastodon_server``)::

    def test_reply_lands_threaded(mastodon_server: MastodonServer) -> None:
        config = mastodon_server.config()  # SourceConfig(options={"instance": ...}, secrets=...)
        with httpx.Client() as client:
            published = MastodonConnector().publish(
                config, "@ana sorry!", in_reply_to="113501000000000005", client=client
            )
        assert mastodon_server.posted[-1]["in_reply_to_id"] == "113501000000000005"
        assert published.external_id in mastodon_server.thread("113501000000000005")

Statuses at start: the ``#acmecoffee`` timeline, ids ``113501000000000001`` to ``…005``
(``fixtures/tag_timeline.json``), and two mentions of the brand account ``@acme``,
``113501000000000010`` and ``…011``, read with ``config(timeline="mentions")``
(``fixtures/notifications.json``; a ``favourite`` notification is there too).
`add_direct_message` delivers a direct message (``fixtures/notifications_direct.json``).

What it serves (uvicorn in a thread, on a socket bound before it starts):
- ``GET /api/v1/timelines/tag/{tag}``, ``/api/v1/timelines/public`` and
  ``/api/v1/notifications`` (``types[]``) from the connector's fixtures, with Mastodon's
  paging (``max_id``, ``since_id``, ``min_id``, ``limit``) and ``Link`` header;
- ``GET /api/v1/statuses/{id}`` and ``/api/v1/statuses/{id}/context`` (the thread);
- ``POST /api/v1/statuses`` (JSON or form): checks the bearer token (401), the 500-character
  limit (422), that ``in_reply_to_id`` exists (404), honours ``Idempotency-Key``; records the
  request in `posted` and adds the status to the timelines (its ``#hashtags`` are tags);
- ``GET /api/v1/streaming/hashtag|public|public/local|user/notification``: server-sent events
  pushed with `push_event` (or the captured ``streaming_hashtag.txt`` with `push_capture`);
  `end_stream` closes the connection.
`fail_next(n, status=429, retry_after="1")` makes the next n requests fail that way. Every
request's method and path (with query) lands in `requests`.
"""

from __future__ import annotations

import asyncio
import html
import json
import queue
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from groundswell.connectors.contract import SourceConfig

FIXTURES = (
    Path(__file__).resolve().parents[2]
    / "src"
    / "groundswell"
    / "connectors"
    / "mastodon"
    / "fixtures"
)
TOKEN = "loopback-token"
# Ids of the #acmecoffee statuses the server starts with, oldest first.
TIMELINE_IDS = [f"11350100000000000{n}" for n in range(1, 6)]
HASHTAG = re.compile(r"#(\w+)")


def _key(status_id: str) -> tuple[int, str]:
    return len(status_id), status_id


class MastodonServer:
    """State of the loopback server; safe to read and change from the test thread."""

    def __init__(self, *, token: str = TOKEN, max_characters: int = 500) -> None:
        self.token = token
        self.max_characters = max_characters
        self.statuses: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = json.loads(
            (FIXTURES / "notifications.json").read_text(encoding="utf-8")
        )
        self.posted: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.base_url = ""
        self._lock = threading.Lock()
        self._failures: list[tuple[int, str | None]] = []
        self._idempotency: dict[str, dict[str, Any]] = {}
        self._events: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None
        self._stopping = False
        for status in json.loads((FIXTURES / "tag_timeline.json").read_text(encoding="utf-8")):
            self.statuses[status["id"]] = status
        for notification in self.notifications:
            self.statuses.setdefault(notification["status"]["id"], notification["status"])

    # -- what tests call -----------------------------------------------------------------

    def config(self, **options: str) -> SourceConfig:
        """A source configuration for this server: the ``acmecoffee`` hashtag timeline and
        the right token, unless `options` say otherwise."""
        return SourceConfig(
            options={"instance": self.base_url, "hashtag": "acmecoffee", **options},
            secrets={"access_token": self.token},
        )

    def add_status(self, status: dict[str, Any]) -> None:
        with self._lock:
            self.statuses[str(status["id"])] = status

    def add_direct_message(self, **changes: Any) -> dict[str, Any]:
        """Deliver the captured direct message (``fixtures/notifications_direct.json``: a
        mention notification whose status has visibility ``direct``) to the brand account,
        with `changes` applied to its status (e.g. ``id``, ``in_reply_to_id``, ``content``);
        a changed status id gets a notification id of its own. Returns the notification."""
        captured = json.loads((FIXTURES / "notifications_direct.json").read_text("utf-8"))[0]
        status = {**captured["status"], **changes}
        notification = {**captured, "status": status}
        if "id" in changes:
            notification["id"] = str(int(captured["id"]) + int(str(status["id"])[-6:]))
        with self._lock:
            self.statuses[str(status["id"])] = status
            self.notifications.append(notification)
        return notification

    def fail_next(self, times: int, *, status: int = 429, retry_after: str | None = "1") -> None:
        with self._lock:
            self._failures.extend([(status, retry_after)] * times)

    def push_event(self, event: str, data: str) -> None:
        self._events.put((event, data))

    def push_capture(self, name: str = "streaming_hashtag.txt") -> None:
        """Send a captured stream (raw SSE text) as it was recorded."""
        self._events.put(("", (FIXTURES / name).read_text(encoding="utf-8")))

    def end_stream(self) -> None:
        self._events.put(None)

    def thread(self, status_id: str) -> list[str]:
        """Ids of the replies under `status_id`, at any depth, oldest first."""
        with self._lock:
            found: list[str] = []
            frontier = {status_id}
            for sid in sorted(self.statuses, key=_key):
                if self.statuses[sid].get("in_reply_to_id") in frontier:
                    found.append(sid)
                    frontier.add(sid)
            return found

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> MastodonServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self._sock = sock
        self.base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = uvicorn.Config(
            self.app(), log_level="warning", ws="none", lifespan="off", timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self._server.started, "the loopback Mastodon server did not start"

    def stop(self) -> None:
        self._stopping = True
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._sock is not None:
            self._sock.close()

    # -- the HTTP app --------------------------------------------------------------------

    def app(self) -> Starlette:
        routes = [
            Route("/api/v1/timelines/tag/{tag}", self._tag_timeline),
            Route("/api/v1/timelines/public", self._public_timeline),
            Route("/api/v1/notifications", self._notifications),
            Route("/api/v1/statuses", self._post_status, methods=["POST"]),
            Route("/api/v1/statuses/{id}", self._status),
            Route("/api/v1/statuses/{id}/context", self._context),
            Route("/api/v1/streaming/{path:path}", self._streaming),
        ]
        return Starlette(routes=routes)

    def _gate(self, request: Request, *, needs_token: bool) -> Response | None:
        """The injected failure, or a refused token, or None to go on."""
        with self._lock:
            self.requests.append(f"{request.method} {request.url.path}?{request.url.query}")
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            headers = {"Retry-After": retry_after} if retry_after else {}
            return JSONResponse({"error": "Too many requests"}, status, headers=headers)
        auth = request.headers.get("authorization", "")
        if auth and auth != f"Bearer {self.token}":
            return JSONResponse({"error": "The access token is invalid"}, 401)
        if needs_token and not auth:
            return JSONResponse({"error": "The access token is invalid"}, 401)
        return None

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Response:
        """Mastodon's paging over `items` (any order): newest first; ``min_id`` gives the
        page right after it, ``since_id`` the newest page after it."""
        params = request.query_params
        limit = min(int(params.get("limit", "20")), 40)
        ordered = sorted(items, key=lambda item: _key(str(item["id"])), reverse=True)
        if "max_id" in params:
            ordered = [i for i in ordered if _key(str(i["id"])) < _key(params["max_id"])]
        if "since_id" in params:
            ordered = [i for i in ordered if _key(str(i["id"])) > _key(params["since_id"])]
        if "min_id" in params:
            ordered = [i for i in ordered if _key(str(i["id"])) > _key(params["min_id"])]
            page = ordered[-limit:]
        else:
            page = ordered[:limit]
        headers = {}
        if page:
            base = f"{self.base_url}{request.url.path}"
            keep = {k: v for k, v in params.items() if k not in ("max_id", "since_id", "min_id")}
            next_url = f"{base}?{urlencode({**keep, 'max_id': page[-1]['id']})}"
            prev_url = f"{base}?{urlencode({**keep, 'min_id': page[0]['id']})}"
            headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'
        return JSONResponse(page, headers=headers)

    async def _tag_timeline(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=False):
            return refused
        tag = request.path_params["tag"].lower()
        with self._lock:
            items = [
                s
                for s in self.statuses.values()
                if any(t["name"].lower() == tag for t in s.get("tags", []))
            ]
        return self._page(request, items)

    async def _public_timeline(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=False):
            return refused
        with self._lock:
            items = [s for s in self.statuses.values() if s.get("visibility") == "public"]
        return self._page(request, items)

    async def _notifications(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=True):
            return refused
        types = request.query_params.getlist("types[]")
        with self._lock:
            items = [n for n in self.notifications if not types or n["type"] in types]
        return self._page(request, items)

    async def _status(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=False):
            return refused
        with self._lock:
            status = self.statuses.get(request.path_params["id"])
        if status is None:
            return JSONResponse({"error": "Record not found"}, 404)
        return JSONResponse(status)

    async def _context(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=False):
            return refused
        sid = request.path_params["id"]
        with self._lock:
            if sid not in self.statuses:
                return JSONResponse({"error": "Record not found"}, 404)
            ancestors: list[dict[str, Any]] = []
            parent = self.statuses[sid].get("in_reply_to_id")
            while parent in self.statuses:
                ancestors.insert(0, self.statuses[parent])
                parent = self.statuses[parent].get("in_reply_to_id")
        descendants = [self.statuses[d] for d in self.thread(sid)]
        return JSONResponse({"ancestors": ancestors, "descendants": descendants})

    async def _post_status(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=True):
            return refused
        if request.headers.get("content-type", "").startswith("application/json"):
            body = await request.json()
        else:
            body = dict(await request.form())
        key = request.headers.get("idempotency-key")
        with self._lock:
            if key and key in self._idempotency:
                return JSONResponse(self._idempotency[key])
        text = str(body.get("status") or "")
        if not text.strip():
            return JSONResponse({"error": "Validation failed: Text can't be blank"}, 422)
        if len(text) > self.max_characters:
            return JSONResponse(
                {
                    "error": f"Validation failed: Text character limit of {self.max_characters} exceeded"
                },
                422,
            )
        reply_to = body.get("in_reply_to_id") or None
        with self._lock:
            if reply_to is not None and reply_to not in self.statuses:
                return JSONResponse({"error": "Record not found"}, 404)
            status_id = str(int(max(self.statuses, key=_key, default="113501000000000000")) + 1)
            status = self._new_status(status_id, text, body, reply_to)
            self.statuses[status_id] = status
            self.posted.append(
                {
                    "status": text,
                    "in_reply_to_id": reply_to,
                    "visibility": status["visibility"],
                    "idempotency_key": key,
                    "id": status_id,
                }
            )
            if key:
                self._idempotency[key] = status
        return JSONResponse(status)

    def _new_status(
        self, status_id: str, text: str, body: dict[str, Any], reply_to: str | None
    ) -> dict[str, Any]:
        paragraphs = "".join(
            f"<p>{html.escape(p).replace(chr(10), '<br />')}</p>" for p in text.split("\n\n")
        )
        reply_account = self.statuses[reply_to]["account"]["id"] if reply_to else None
        return {
            "id": status_id,
            "created_at": datetime.now(UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "in_reply_to_id": reply_to,
            "in_reply_to_account_id": reply_account,
            "sensitive": False,
            "spoiler_text": "",
            "visibility": str(body.get("visibility") or "public"),
            "language": body.get("language") or "en",
            "uri": f"{self.base_url}/users/acme/statuses/{status_id}",
            "url": f"{self.base_url}/@acme/{status_id}",
            "replies_count": 0,
            "reblogs_count": 0,
            "favourites_count": 0,
            "edited_at": None,
            "content": paragraphs,
            "reblog": None,
            "account": {
                "id": "109000000000000004",
                "username": "acme",
                "acct": "acme",
                "display_name": "Acme Coffee",
                "followers_count": 20411,
            },
            "media_attachments": [],
            "mentions": [],
            "tags": [
                {"name": t, "url": f"{self.base_url}/tags/{t}"} for t in HASHTAG.findall(text)
            ],
            "emojis": [],
            "card": None,
            "poll": None,
        }

    async def _streaming(self, request: Request) -> Response:
        if refused := self._gate(request, needs_token=False):
            return refused
        return StreamingResponse(self._sse(), media_type="text/event-stream")

    async def _sse(self) -> AsyncIterator[str]:
        while not self._stopping:
            try:
                item = await asyncio.to_thread(self._events.get, True, 0.1)
            except queue.Empty:
                continue
            if item is None:
                return
            event, data = item
            if not event:
                yield data  # a raw capture
            else:
                yield f"event: {event}\ndata: {data}\n\n"


@pytest.fixture
def mastodon_server() -> Iterator[MastodonServer]:
    """A started `MastodonServer` (fixtures loaded), stopped after the test."""
    with MastodonServer() as server:
        yield server
