"""The ``bluesky`` connector: captured Jetstream frames replayed by a loopback websocket server
(resume from ``time_us``: no gap, no duplicate; deletions; a broken connection), search over
``app.bsky.feed.searchPosts`` and publishing over XRPC with `httpx.MockTransport`."""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from groundswell.connectors import registry
from groundswell.connectors.bluesky.connector import BlueskyConnector
from groundswell.connectors.bluesky.parse import (
    FORMAT_EVENT,
    FORMAT_POST_VIEW,
    graphemes,
    link_facets,
    parse_event,
)
from groundswell.connectors.contract import (
    BadRecord,
    Batch,
    Publisher,
    PullSource,
    RawRecord,
    SourceConfig,
    StreamSource,
)
from groundswell.connectors.http import RetryPolicy, SourceUnavailable

FIXTURES = Path(__file__).resolve().parents[2] / "src/groundswell/connectors/bluesky/fixtures"
FRAMES = (FIXTURES / "jetstream.jsonl").read_text(encoding="utf-8").splitlines()
A = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
B = "did:plc:z72i7hdynmk6r22z27h6tvur"
C = "did:plc:4hqjfn7m6n5hno3doamuhgef"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class Jetstream:
    """A loopback Jetstream: replays `frames` with ``time_us`` at or after the ``cursor`` query
    parameter (inclusive, as Jetstream does), then closes with `close_code`. `break_after`
    frames sent, it drops the connection abnormally (code 1011) instead."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames
        self.paths: list[str] = []
        self.break_after: int | None = None
        self.refuse: int | None = None
        self._server: Server = serve(self._handle, "127.0.0.1", 0, process_request=self._gate)
        self.url = f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}/subscribe"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _gate(self, connection: ServerConnection, request: Request) -> Response | None:
        if self.refuse is None:
            return None
        response = connection.respond(self.refuse, "Too many connections\n")
        response.headers["Retry-After"] = "7"
        return response

    def _handle(self, connection: ServerConnection) -> None:
        path = connection.request.path if connection.request else ""
        self.paths.append(path)
        cursor = parse_qs(urlsplit(path).query).get("cursor")
        after = int(cursor[0]) if cursor else 0
        sent = 0
        for frame in self.frames:
            if json.loads(frame)["time_us"] < after:
                continue
            if self.break_after is not None and sent == self.break_after:
                connection.close(code=1011, reason="internal error")
                return
            connection.send(frame)
            sent += 1
        connection.close()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)


@pytest.fixture
def jetstream() -> Iterator[Jetstream]:
    server = Jetstream(FRAMES)
    yield server
    server.stop()


def _stream_config(server: Jetstream, **options: str) -> SourceConfig:
    return SourceConfig(options={"jetstream_url": server.url, **options})


def _uris(connector: BlueskyConnector, batches: list[Batch]) -> list[str]:
    return [connector.parse(r).external_id for b in batches for r in b.records]


def _uri(did: str, rkey: str) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


# -- parsing ---------------------------------------------------------------------------------


def test_registered_with_its_capabilities() -> None:
    connector = registry.get("bluesky")
    assert isinstance(connector, StreamSource)
    assert isinstance(connector, PullSource)
    assert isinstance(connector, Publisher)
    assert connector.capabilities.max_length == 300
    assert connector.capabilities.can_reply
    assert connector.capabilities.secrets == ("app_password",)


def test_jetstream_create_parsed() -> None:
    post = parse_event(FRAMES[0].encode())
    assert post.external_id == _uri(A, "3lbq2aaaaa22a")
    assert post.url == f"https://bsky.app/profile/{A}/post/3lbq2aaaaa22a"
    assert post.author_handle == A
    assert post.created_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert post.lang == "en"
    assert post.links == ("https://acme.example/grinder",)
    reply = parse_event(FRAMES[2].encode())
    assert reply.in_reply_to == _uri(A, "3lbq2aaaaa22a")
    assert reply.text == "@acme.example o meu pedido 4471 ainda não chegou 😕"
    assert reply.lang == "pt"
    embed = parse_event(FRAMES[4].encode())
    assert embed.links == ("https://video.example/cat",)


def test_search_post_view_parsed() -> None:
    view = _fixture("search_posts_page1.json")["posts"][0]
    post = BlueskyConnector().parse(RawRecord(json.dumps(view).encode(), 1, FORMAT_POST_VIEW))
    assert post.external_id == _uri(C, "3lbq3ggggg22g")
    assert post.author_handle == "rui.bsky.social"
    assert post.author_name == "Rui"
    assert post.url == "https://bsky.app/profile/rui.bsky.social/post/3lbq3ggggg22g"
    assert post.metrics == {"replies": 1, "reposts": 0, "likes": 4, "quotes": 0}


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        (b"\xc3\x28", "invalid_utf8"),
        (b'{"did":', "invalid_json"),
        (b'{"commit": {}}', "missing_id"),
        (
            json.dumps(
                {
                    "did": A,
                    "commit": {
                        "rkey": "x",
                        "collection": "app.bsky.feed.post",
                        "record": {"text": "  "},
                    },
                }
            ).encode(),
            "empty_text",
        ),
        (
            json.dumps(
                {
                    "did": A,
                    "commit": {
                        "rkey": "x",
                        "collection": "app.bsky.feed.post",
                        "record": {"text": "hi", "createdAt": "soon"},
                    },
                }
            ).encode(),
            "bad_timestamp",
        ),
        (
            json.dumps(
                {
                    "did": A,
                    "commit": {
                        "rkey": "x",
                        "collection": "app.bsky.feed.post",
                        "record": {"text": 5},
                    },
                }
            ).encode(),
            "wrong_type",
        ),
    ],
)
def test_bad_frames_are_refused_with_a_reason(frame: bytes, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        BlueskyConnector().parse(RawRecord(frame, 1, FORMAT_EVENT))
    assert caught.value.reason == reason


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("hello", 5),
        ("café", 4),
        ("cafe\u0301", 4),  # e + combining acute
        ("👍🏽", 1),  # skin-tone modifier
        ("👩‍👩‍👧", 1),  # zero-width-joiner family
        ("🇵🇹🇧🇷", 2),  # two flags
        ("❤️", 1),  # variation selector
        ("a\r\nb", 3),
    ],
)
def test_graphemes_are_counted_as_people_see_them(text: str, count: int) -> None:
    assert graphemes(text) == count


def test_link_facets_use_utf8_byte_offsets() -> None:
    text = "ℹ️ see https://acme.example/status."
    [facet] = link_facets(text)
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert text.encode()[start:end] == b"https://acme.example/status"


# -- Jetstream -------------------------------------------------------------------------------


def test_stream_reads_posts_and_deletions(jetstream: Jetstream) -> None:
    connector = BlueskyConnector(flush_seconds=0.2)
    batches = list(connector.stream(_stream_config(jetstream), None))
    assert _uris(connector, batches) == [
        _uri(A, "3lbq2aaaaa22a"),
        _uri(B, "3lbq2bbbbb22b"),
        _uri(C, "3lbq2ccccc22c"),
        _uri(C, "3lbq2eeeee22e"),
    ]
    assert [d for b in batches for d in b.deleted] == [_uri(A, "3lbq2aaaaa22a")]
    assert batches[-1].cursor == "1795424400000007"
    assert "wantedCollections=app.bsky.feed.post" in jetstream.paths[0]


def test_restart_resumes_from_time_us_with_no_gap_and_no_duplicate(jetstream: Jetstream) -> None:
    connector = BlueskyConnector(batch_size=2, flush_seconds=0.2)
    jetstream.break_after = 3  # the connection drops after three frames
    first: list[Batch] = []
    with pytest.raises(SourceUnavailable, match="1011"):
        first.extend(connector.stream(_stream_config(jetstream), None))
    cursor = first[-1].cursor
    assert cursor == "1795424400000003"  # everything received before the drop is yielded
    jetstream.break_after = None
    restarted = BlueskyConnector(batch_size=2, flush_seconds=0.2)
    second = list(restarted.stream(_stream_config(jetstream), cursor))
    assert f"cursor={cursor}" in jetstream.paths[1]
    everything = _uris(connector, first) + _uris(restarted, second)
    assert everything == [
        _uri(A, "3lbq2aaaaa22a"),
        _uri(B, "3lbq2bbbbb22b"),
        _uri(C, "3lbq2ccccc22c"),
        _uri(C, "3lbq2eeeee22e"),
    ]
    assert all(len(b.records) <= 2 for b in first + second)


def test_keywords_filter_posts_but_the_cursor_still_advances(jetstream: Jetstream) -> None:
    connector = BlueskyConnector(flush_seconds=0.2)
    batches = list(connector.stream(_stream_config(jetstream, keywords="acme, pedido"), None))
    assert _uris(connector, batches) == [
        _uri(A, "3lbq2aaaaa22a"),
        _uri(B, "3lbq2bbbbb22b"),
        _uri(C, "3lbq2eeeee22e"),
    ]
    assert batches[-1].cursor == "1795424400000007"


def test_refused_connection_reports_the_wait(jetstream: Jetstream) -> None:
    jetstream.refuse = 429
    with pytest.raises(SourceUnavailable) as caught:
        list(BlueskyConnector().stream(_stream_config(jetstream), "1795424400000001"))
    assert caught.value.status == 429
    assert caught.value.retry_after == 7.0


def test_unreachable_jetstream_is_unavailable() -> None:
    config = SourceConfig(options={"jetstream_url": "ws://127.0.0.1:9/subscribe"})
    with pytest.raises(SourceUnavailable, match="cannot be reached"):
        list(BlueskyConnector().stream(config, None))


# -- search ----------------------------------------------------------------------------------


class Appview:
    """searchPosts over a fixed result list, newest first, offset cursors (as the AppView)."""

    def __init__(self, posts: list[dict[str, Any]]) -> None:
        self.posts = posts
        self.requests: list[httpx.Request] = []
        self.fail: list[int] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            return httpx.Response(self.fail.pop(0), headers={"Retry-After": "4"})
        params = request.url.params
        limit = int(params["limit"])
        offset = int(params.get("cursor", "0"))
        since = params.get("since")
        hits = sorted(self.posts, key=lambda p: p["indexedAt"], reverse=True)
        if since:
            hits = [p for p in hits if p["indexedAt"] >= since]
        page = hits[offset : offset + limit]
        body: dict[str, Any] = {"posts": page, "hitsTotal": len(hits)}
        if offset + limit < len(hits):
            body["cursor"] = str(offset + limit)
        return httpx.Response(200, json=body)


def _search_posts() -> list[dict[str, Any]]:
    first: list[dict[str, Any]] = _fixture("search_posts_page1.json")["posts"]
    second: list[dict[str, Any]] = _fixture("search_posts_page2.json")["posts"]
    return first + second


def _view(rkey: str, indexed: str) -> dict[str, Any]:
    view = dict(_search_posts()[2])
    return dict(view, uri=_uri(A, rkey), indexedAt=indexed)


def test_search_sweeps_resume_with_no_gap_and_no_duplicate() -> None:
    appview = Appview(_search_posts())
    config = SourceConfig(options={"query": "acme"})
    connector = BlueskyConnector(search_page=2, sleep=lambda s: None)
    read: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(appview)) as client:
        first = connector.fetch(config, None, client=client)  # newest page only
        read += _uris(connector, [first])
        # New posts arrive: three, one at the very instant already read.
        appview.posts += [
            _view("3lbq5aaaaa22a", "2026-11-23T10:05:00.000Z"),
            _view("3lbq5bbbbb22b", "2026-11-23T10:06:00.000Z"),
            _view("3lbq5ccccc22c", "2026-11-23T10:02:00.812Z"),
        ]
        cursor = first.cursor
        for _ in range(6):  # a restart between every fetch: a new connector, the saved cursor
            batch = BlueskyConnector(search_page=2).fetch(config, cursor, client=client)
            read += _uris(connector, [batch])
            cursor = batch.cursor
    assert read[:2] == [_uri(B, "3lbq3fffff22f"), _uri(C, "3lbq3ggggg22g")]
    assert sorted(read[2:]) == sorted(
        [_uri(A, "3lbq5aaaaa22a"), _uri(A, "3lbq5bbbbb22b"), _uri(A, "3lbq5ccccc22c")]
    )
    assert len(read) == len(set(read))
    assert appview.requests[1].url.params["since"] == "2026-11-23T10:02:00.812Z"
    assert appview.requests[0].url.host == "public.api.bsky.app"


def test_search_429_is_retried_after_retry_after() -> None:
    appview = Appview(_search_posts())
    appview.fail = [429, 503]
    sleeps: list[float] = []
    connector = BlueskyConnector(sleep=sleeps.append, policy=RetryPolicy(attempts=3))
    with httpx.Client(transport=httpx.MockTransport(appview)) as client:
        batch = connector.fetch(SourceConfig(options={"query": "acme"}), None, client=client)
    assert sleeps == [4.0, 4.0]
    assert len(batch.records) == 3


# -- publishing ------------------------------------------------------------------------------


class Pds:
    """createSession, getRecord and createRecord as a PDS answers them (captured bodies)."""

    def __init__(self) -> None:
        self.created: list[dict[str, Any]] = []
        self.calls: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        self.calls.append(method)
        if method == "com.atproto.server.createSession":
            body = json.loads(request.content)
            if body["password"] != "app-pass-1234":
                return httpx.Response(
                    401,
                    json={
                        "error": "AuthenticationRequired",
                        "message": "Invalid identifier or password",
                    },
                )
            return httpx.Response(200, json=_fixture("create_session.json"))
        assert (
            request.headers["Authorization"] == "Bearer eyJhbGciOiJFUzI1NksifQ.loopback-access.sig"
        )
        if method == "com.atproto.repo.getRecord":
            return httpx.Response(200, json=_fixture("get_record_reply.json"))
        if method == "com.atproto.repo.createRecord":
            self.created.append(json.loads(request.content))
            return httpx.Response(200, json=_fixture("create_record.json"))
        return httpx.Response(404, json={"error": "MethodNotImplemented"})


def _publish_config(password: str = "app-pass-1234") -> SourceConfig:
    return SourceConfig(
        options={"handle": "acme.example", "service": "https://pds.example", "lang": "en"},
        secrets={"app_password": password},
    )


def test_reply_refers_to_root_and_parent() -> None:
    pds = Pds()
    connector = BlueskyConnector(now=lambda: datetime(2026, 11, 23, 10, 30, tzinfo=UTC))
    with httpx.Client(transport=httpx.MockTransport(pds)) as client:
        published = connector.publish(
            _publish_config(),
            "Sorry! Details: https://acme.example/help",
            in_reply_to=_uri(B, "3lbq2bbbbb22b"),
            client=client,
        )
    assert pds.calls == [
        "com.atproto.server.createSession",
        "com.atproto.repo.getRecord",
        "com.atproto.repo.createRecord",
    ]
    created = pds.created[0]
    assert created["repo"] == "did:plc:acmebrandaccount0000000"
    record = created["record"]
    assert record["createdAt"] == "2026-11-23T10:30:00.000Z"
    assert record["langs"] == ["en"]
    # The parent is itself a reply: the root is the thread's root, the parent the post answered.
    assert record["reply"]["root"]["uri"] == _uri(A, "3lbq2aaaaa22a")
    assert record["reply"]["parent"] == {
        "uri": _uri(B, "3lbq2bbbbb22b"),
        "cid": "bafyreib6nnpmhb2ivdkqbicmt4qd6ysd2xkrf5oovxtwuknypphhlfbyra",
    }
    assert record["facets"][0]["features"][0]["uri"] == "https://acme.example/help"
    assert (
        published.external_id
        == "at://did:plc:acmebrandaccount0000000/app.bsky.feed.post/3lbq4zzzzz22z"
    )
    assert published.url == "https://bsky.app/profile/acme.example/post/3lbq4zzzzz22z"


def test_publish_refusals() -> None:
    pds = Pds()
    with httpx.Client(transport=httpx.MockTransport(pds)) as client:
        with pytest.raises(SourceUnavailable, match="at most 300"):
            BlueskyConnector().publish(_publish_config(), "é" * 301, client=client)
        # 300 graphemes made of many code points are fine.
        BlueskyConnector().publish(_publish_config(), "👩‍👩‍👧" * 300, client=client)
        with pytest.raises(SourceUnavailable, match="Invalid identifier or password"):
            BlueskyConnector().publish(_publish_config("wrong"), "hi", client=client)
        with pytest.raises(SourceUnavailable, match="handle"):
            BlueskyConnector().publish(SourceConfig(), "hi", client=client)
    assert len(pds.created) == 1


def test_a_search_source_runs_as_a_polling_stream() -> None:
    appview = Appview(_search_posts())
    sleeps: list[float] = []
    connector = BlueskyConnector(
        search_page=2, sleep=sleeps.append, transport=httpx.MockTransport(appview)
    )
    config = SourceConfig(options={"query": "acme", "poll_seconds": "90"})
    batches = list(itertools.islice(connector.stream(config, None), 2))
    assert [len(b.records) for b in batches] == [2, 0]  # the newest page, then nothing new
    assert sleeps == [90.0]  # a sweep done: pause before the next
    assert all(r.url.path == "/xrpc/app.bsky.feed.searchPosts" for r in appview.requests)


def test_the_session_is_reused_and_renewed_when_its_token_expires() -> None:
    pds = Pds()
    clock = [0.0]
    connector = BlueskyConnector(monotonic=lambda: clock[0])
    expired = [True]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("createRecord") and expired and expired.pop():
            return httpx.Response(
                400, json={"error": "ExpiredToken", "message": "Token has expired"}
            )
        return pds(request)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        connector.publish(_publish_config(), "one", client=client)  # expired: signs in again
        connector.publish(_publish_config(), "two", client=client)  # the session is reused
        clock[0] = 16 * 60.0
        connector.publish(_publish_config(), "three", client=client)  # too old: a new one
    assert pds.calls.count("com.atproto.server.createSession") == 3
    assert [c["record"]["text"] for c in pds.created] == ["one", "two", "three"]
