"""The ``reddit`` connector against captured Listing payloads and a Reddit double on
`httpx.MockTransport`: OAuth (client credentials, script app), ``before`` cursors (restart: no
gap, no duplicate), deleted things, rate-limit headers, 429 handling, replies via
``/api/comment``."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import (
    BadRecord,
    Batch,
    Publisher,
    PullSource,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import SourceUnavailable
from groundswell.connectors.reddit.connector import RedditConnector, user_agent
from groundswell.connectors.reddit.parse import FORMAT_THING, parse_thing

FIXTURES = Path(__file__).resolve().parents[2] / "src/groundswell/connectors/reddit/fixtures"
TOKEN = "eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1NjpzS3dsMnlsV0VtMjVmcXhwTU40cWY4MXE2OWFFdWFyMnpLMUdhVGxjdWNZIiwidHlwIjoiSldUIn0.loopback"


def _fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def _thing(listing: str, index: int) -> bytes:
    return json.dumps(_fixture(listing)["data"]["children"][index]).encode()


class Reddit:
    """Reddit as the connector sees it: the token endpoint and the OAuth API, listings over
    `things` (newest first) with ``before``/``after``/``limit`` as Reddit pages them."""

    def __init__(self, things: list[dict[str, Any]]) -> None:
        self.things = things
        self.requests: list[httpx.Request] = []
        self.fail: list[tuple[int, dict[str, str]]] = []
        self.headers: dict[str, str] = {}
        self.tokens_issued = 0
        self.revoked = False
        self.comment_answer: dict[str, Any] = _fixture("comment_created.json")
        self.comments: list[dict[str, list[str]]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            status, headers = self.fail.pop(0)
            return httpx.Response(status, headers=headers, text="Too Many Requests")
        if request.url.host == "www.reddit.com":
            return self._token(request)
        assert request.url.host == "oauth.reddit.com"
        assert request.headers["User-Agent"].startswith("python:groundswell.")
        if request.headers.get("Authorization") != f"bearer {TOKEN}" or self.revoked:
            self.revoked = False  # a fresh token works again
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        if request.url.path == "/api/comment":
            self.comments.append(parse_qs(request.content.decode()))
            return httpx.Response(200, json=self.comment_answer)
        return self._listing(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        basic = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
        form = parse_qs(request.content.decode())
        if basic != "app-id:app-secret":
            return httpx.Response(401, json={"message": "Unauthorized", "error": 401})
        if form["grant_type"] == ["password"] and form.get("password") != ["hunter2"]:
            return httpx.Response(200, json={"error": "invalid_grant"})
        self.tokens_issued += 1
        return httpx.Response(200, json=_fixture("access_token.json"))

    def _listing(self, request: httpx.Request) -> httpx.Response:
        params = request.url.params
        assert params["raw_json"] == "1"
        limit = int(params["limit"])
        names = [t["data"]["name"] for t in self.things]
        if "before" in params:
            end = names.index(params["before"]) if params["before"] in names else 0
            page = self.things[max(0, end - limit) : end]
        else:
            page = self.things[:limit]
        body = {
            "kind": "Listing",
            "data": {
                "after": page[-1]["data"]["name"] if page else None,
                "before": page[0]["data"]["name"] if page else None,
                "dist": len(page),
                "modhash": "",
                "children": page,
            },
        }
        return httpx.Response(200, json=body, headers=self.headers)


def _config(**options: str) -> SourceConfig:
    return SourceConfig(
        options={"subreddit": "AcmeCoffee", "username": "AcmeCoffeeTeam", **options},
        secrets={"client_id": "app-id", "client_secret": "app-secret"},
    )


def _names(connector: RedditConnector, batch: Batch) -> list[str]:
    return [connector.parse(r).external_id for r in batch.records]


# -- parsing ---------------------------------------------------------------------------------


def test_registered_with_its_capabilities() -> None:
    connector = registry.get("reddit")
    assert isinstance(connector, PullSource)
    assert isinstance(connector, Publisher)
    assert connector.capabilities.can_reply
    assert connector.capabilities.max_length == 10_000
    assert "client_secret" in connector.capabilities.secrets


def test_self_post_parsed() -> None:
    post = parse_thing(_thing("listing_new.json", 0))
    assert post.external_id == "t3_1h4k9zq"
    assert post.text == (
        "Acme support finally answered\n\n"
        "Took 5 days, but they replaced the grinder. Credit where due.\n\n> not bad"
    )
    assert post.author_handle == "latte_larry"
    assert post.created_at == datetime.fromtimestamp(1795428000, tz=UTC)
    assert post.url is not None
    assert post.url.startswith("https://www.reddit.com/r/AcmeCoffee/comments/1h4k9zq/")
    assert post.links == ()
    assert post.metrics["score"] == 12


def test_link_post_and_comment_parsed() -> None:
    link = parse_thing(_thing("listing_new.json", 1))
    assert link.text == "Acme's new blend review"
    assert link.links == ("https://roastwatch.example/acme-blend-2026?utm_source=reddit",)
    assert link.metrics["replies"] == 21
    comment = parse_thing(_thing("listing_comments.json", 0))
    assert comment.external_id == "t1_m0zz9kq"
    assert comment.text == "Same here, my order is stuck too 😤"
    assert comment.in_reply_to == "t3_1h4k3bc"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff", "invalid_utf8"),
        (b"{", "invalid_json"),
        (b'{"kind": "t5", "data": {}}', "wrong_type"),
        (b'{"kind": "t1", "data": {"body": "x"}}', "missing_id"),
        (b'{"kind": "t1", "data": {"name": "t1_a", "body": "[deleted]"}}', "empty_text"),
        (b'{"kind": "t1", "data": {"name": "t1_a", "body": 3}}', "wrong_type"),
        (
            b'{"kind": "t1", "data": {"name": "t1_a", "body": "x", "created_utc": "noon"}}',
            "bad_timestamp",
        ),
    ],
)
def test_bad_things_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        RedditConnector().parse(RawRecord(payload, 1, FORMAT_THING))
    assert caught.value.reason == reason


# -- reading ---------------------------------------------------------------------------------


def test_listing_reads_oldest_first_and_reports_removed_things() -> None:
    reddit = Reddit(_fixture("listing_new.json")["data"]["children"])
    connector = RedditConnector()
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        batch = connector.fetch(_config(), None, client=client)
    assert _names(connector, batch) == ["t3_1h4k3bc", "t3_1h4k7mx", "t3_1h4k9zq"]
    assert batch.deleted == ("t3_1h4k5aa",)
    assert batch.cursor == "t3_1h4k9zq"
    token_request, listing_request = reddit.requests
    assert parse_qs(token_request.content.decode()) == {"grant_type": ["client_credentials"]}
    assert listing_request.url.path == "/r/AcmeCoffee/new"
    assert listing_request.headers["User-Agent"] == (
        "python:groundswell.app-id:" + user_agent(_config()).split(":")[2]
    )
    assert listing_request.headers["User-Agent"].endswith("(by /u/AcmeCoffeeTeam)")


def test_restart_pages_forward_with_no_gap_and_no_duplicate() -> None:
    everything = _fixture("listing_new.json")["data"]["children"]
    reddit = Reddit(everything[3:])  # the oldest exists at first
    seen: list[str] = []
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        first = RedditConnector(page_size=1).fetch(_config(), None, client=client)
        seen += _names(RedditConnector(), first)
        reddit.things = everything  # three more arrive, one of them removed already
        cursor = first.cursor
        for _ in range(4):  # a restart between fetches: a new connector, the saved cursor
            batch = RedditConnector(page_size=1).fetch(_config(), cursor, client=client)
            seen += _names(RedditConnector(), batch)
            cursor = batch.cursor
    assert seen == ["t3_1h4k3bc", "t3_1h4k7mx", "t3_1h4k9zq"]  # 1h4k5aa was removed
    assert cursor == "t3_1h4k9zq"
    befores = [
        r.url.params.get("before") for r in reddit.requests if r.url.host == "oauth.reddit.com"
    ]
    assert befores[1:3] == ["t3_1h4k3bc", "t3_1h4k5aa"]


def test_comments_listing_and_deleted_comment() -> None:
    reddit = Reddit(_fixture("listing_comments.json")["data"]["children"])
    connector = RedditConnector()
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        batch = connector.fetch(_config(listing="comments"), None, client=client)
    assert _names(connector, batch) == ["t1_m0zz7bb", "t1_m0zz9kq"]
    assert batch.deleted == ("t1_m0zz8aa",)
    assert reddit.requests[-1].url.path == "/r/AcmeCoffee/comments"


def test_search_restricted_to_a_subreddit_or_everywhere() -> None:
    reddit = Reddit(_fixture("listing_new.json")["data"]["children"])
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        RedditConnector().fetch(_config(query="acme grinder"), None, client=client)
        RedditConnector().fetch(
            SourceConfig(options={"query": "acme"}, secrets=_config().secrets), None, client=client
        )
    restricted, everywhere = [r for r in reddit.requests if r.url.host == "oauth.reddit.com"]
    assert restricted.url.path == "/r/AcmeCoffee/search"
    assert restricted.url.params["restrict_sr"] == "on"
    assert restricted.url.params["q"] == "acme grinder"
    assert restricted.url.params["sort"] == "new"
    assert everywhere.url.path == "/search"


def test_rate_limit_headers_become_a_wait() -> None:
    reddit = Reddit(_fixture("listing_new.json")["data"]["children"])
    connector = RedditConnector()
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        reddit.headers = {"X-Ratelimit-Remaining": "12.0", "X-Ratelimit-Reset": "300"}
        plenty = connector.fetch(_config(), None, client=client)
        reddit.headers = {
            "X-Ratelimit-Used": "600",
            "X-Ratelimit-Remaining": "0.0",
            "X-Ratelimit-Reset": "212",
        }
        exhausted = connector.fetch(_config(), plenty.cursor, client=client)
    assert plenty.wait_seconds is None
    assert exhausted.wait_seconds == 212.0
    assert reddit.tokens_issued == 1  # the token is reused until it expires


def test_429_is_retried_after_retry_after() -> None:
    reddit = Reddit(_fixture("listing_new.json")["data"]["children"])
    sleeps: list[float] = []
    connector = RedditConnector(sleep=sleeps.append, rand=lambda: 0.5)
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        connector.fetch(_config(), None, client=client)  # signed in
        reddit.fail = [(429, {"Retry-After": "6"}), (429, {})]
        batch = connector.fetch(_config(), None, client=client)
    assert sleeps == [6.0, 0.5]  # Retry-After, then jittered backoff when none is given
    assert len(batch.records) == 3


def test_expired_token_is_renewed_once() -> None:
    reddit = Reddit(_fixture("listing_new.json")["data"]["children"])
    connector = RedditConnector()
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        connector.fetch(_config(), None, client=client)
        reddit.revoked = True
        batch = connector.fetch(_config(), None, client=client)
    assert reddit.tokens_issued == 2
    assert len(batch.records) == 3


def test_bad_credentials_and_options_are_explained() -> None:
    reddit = Reddit([])
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        wrong = SourceConfig(
            options={"subreddit": "x"}, secrets={"client_id": "app-id", "client_secret": "no"}
        )
        with pytest.raises(SourceUnavailable, match="check client_id"):
            RedditConnector().fetch(wrong, None, client=client)
        with pytest.raises(SourceUnavailable, match="subreddit"):
            RedditConnector().fetch(SourceConfig(secrets=_config().secrets), None, client=client)
        with pytest.raises(SourceUnavailable, match="client_id"):
            RedditConnector().fetch(SourceConfig(options={"subreddit": "x"}), None, client=client)
    assert all("app-secret" not in str(r.url) for r in reddit.requests)


# -- replying --------------------------------------------------------------------------------


def _script_config() -> SourceConfig:
    config = _config()
    return SourceConfig(options=config.options, secrets={**config.secrets, "password": "hunter2"})


def test_reply_is_a_comment_on_the_thing() -> None:
    reddit = Reddit([])
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        published = RedditConnector().publish(
            _script_config(),
            "Sorry about this! We sent you a DM to sort out order 4471.",
            in_reply_to="t3_1h4k3bc",
            client=client,
        )
    assert parse_qs(reddit.requests[0].content.decode())["grant_type"] == ["password"]
    assert reddit.comments == [
        {
            "api_type": ["json"],
            "thing_id": ["t3_1h4k3bc"],
            "text": ["Sorry about this! We sent you a DM to sort out order 4471."],
        }
    ]
    assert published.external_id == "t1_m1aa0cd"
    assert published.url == (
        "https://www.reddit.com/r/AcmeCoffee/comments/1h4k3bc/grinder_died_after_3_weeks/m1aa0cd/"
    )


def test_reply_refusals() -> None:
    reddit = Reddit([])
    reddit.comment_answer = _fixture("comment_ratelimited.json")
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        with pytest.raises(SourceUnavailable) as caught:
            RedditConnector().publish(
                _script_config(), "hi", in_reply_to="t1_m0zz9kq", client=client
            )
        assert caught.value.retry_after == 420.0
        assert "RATELIMIT" in str(caught.value)
        with pytest.raises(SourceUnavailable, match="fullname"):
            RedditConnector().publish(_script_config(), "hi", client=client)
        with pytest.raises(SourceUnavailable, match="at most 10000"):
            RedditConnector().publish(
                _script_config(), "x" * 10_001, in_reply_to="t3_a", client=client
            )
        with pytest.raises(SourceUnavailable, match="secret password"):
            RedditConnector().publish(_config(), "hi", in_reply_to="t3_a", client=client)
