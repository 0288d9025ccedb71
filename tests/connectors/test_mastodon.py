"""The ``mastodon`` connector against captured payloads and a loopback Mastodon-compatible
server: parsing, polling with cursors (restart: no gap, no duplicate), mentions, streaming with
deletions, 429 handling, posting and threaded replies."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
    StreamSource,
)
from groundswell.connectors.http import RetryPolicy, SourceUnavailable
from groundswell.connectors.mastodon.connector import MastodonConnector
from groundswell.connectors.mastodon.parse import (
    FORMAT_STATUS,
    html_to_text,
    iter_sse,
    link_param,
    parse_status,
)
from tests.connectors.mastodon_server import FIXTURES, MastodonServer, mastodon_server

__all__ = ["mastodon_server"]  # the fixture, imported for pytest

TIMELINE = json.loads((FIXTURES / "tag_timeline.json").read_text(encoding="utf-8"))


def _payload(status: dict[str, object]) -> bytes:
    return json.dumps(status, ensure_ascii=False).encode("utf-8")


def _connector(sleeps: list[float] | None = None, page_size: int = 40) -> MastodonConnector:
    record = sleeps if sleeps is not None else []
    return MastodonConnector(
        sleep=record.append, rand=lambda: 0.5, page_size=page_size, policy=RetryPolicy(attempts=4)
    )


def _config(server: MastodonServer, **options: str) -> SourceConfig:
    return SourceConfig(
        options={"instance": server.base_url, "hashtag": "acmecoffee", **options},
        secrets={"access_token": server.token},
    )


def _ids(connector: MastodonConnector, batch: Batch) -> list[str]:
    return [connector.parse(record).external_id for record in batch.records]


# -- parsing captured payloads ---------------------------------------------------------------


def test_registered_with_its_capabilities() -> None:
    connector = registry.get("mastodon")
    assert isinstance(connector, PullSource)
    assert isinstance(connector, StreamSource)
    assert isinstance(connector, Publisher)
    caps = connector.capabilities
    assert caps.can_reply
    assert caps.threads
    assert caps.max_length == 500
    assert caps.secrets == ("access_token",)
    assert "instance" in caps.options
    assert "hashtag" in caps.options


def test_status_parsed_from_captured_timeline() -> None:
    post = parse_status(_payload(TIMELINE[0]))
    assert post.external_id == "113501000000000005"
    assert post.text == (
        "My Acme grinder died after 3 weeks & support won't answer. #acmecoffee\n\n"
        "Order #4471, anyone?\nStill waiting."
    )
    assert post.created_at == datetime(2026, 11, 23, 9, 14, 7, 120000, tzinfo=UTC)
    assert post.author_handle == "ana"
    assert post.author_name == "Ana Souza"
    assert post.author_followers == 1532
    assert post.lang == "en"
    assert post.url == "https://mastodon.example/@ana/113501000000000005"
    assert post.metrics == {"replies": 2, "reposts": 1, "likes": 5}
    assert post.links == ()  # the hashtag is not a link out


def test_shortened_links_read_in_full_and_mentions_are_not_links() -> None:
    post = parse_status(_payload(TIMELINE[1]))
    assert post.text.startswith("Café crème from #acmecoffee this morning: perfect ☕ ")
    assert post.text.endswith("https://blog.social.example/2026/11/cafe?utm_source=mastodon")
    assert post.links == ("https://blog.social.example/2026/11/cafe?utm_source=mastodon",)
    assert post.author_handle == "bo@social.example"
    mention = parse_status(_payload(TIMELINE[2]))
    assert mention.text.startswith("@acme does the new bean subscription")
    assert mention.links == ()


def test_content_warning_card_and_line_breaks() -> None:
    post = parse_status(_payload(TIMELINE[3]))
    assert (
        post.text
        == "Long review, caffeine talk\n\nSpoilers for the new blend review below #acmecoffee"
    )
    assert post.links == ("https://reviews.example/acme-blend",)
    plain = parse_status(_payload(TIMELINE[4]))
    assert plain.text == "Line one\nline two\nline three #acmecoffee <not a tag>"
    assert plain.lang is None


def test_html_to_text_unescapes_and_keeps_breaks() -> None:
    text, links = html_to_text(
        '<p>a &amp; b<br>c</p><p>d &#128512; <a href="https://x.example/">x</a></p>'
    )
    assert text == "a & b\nc\n\nd 😀 x"
    assert links == ("https://x.example/",)


def test_boost_is_read_as_the_boosted_post() -> None:
    boost = dict(TIMELINE[4], id="113501000000000099", content="", reblog=TIMELINE[0])
    assert parse_status(_payload(boost)).external_id == "113501000000000005"


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "invalid_utf8"),
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "wrong_type"),
        (_payload({"content": "<p>x</p>"}), "missing_id"),
        (_payload({"id": None, "content": "<p>x</p>"}), "null_value"),
        (_payload({"id": "1"}), "missing_text"),
        (_payload({"id": "1", "content": "<p> </p>"}), "empty_text"),
        (_payload({"id": "1", "content": "<p>x</p>", "created_at": "yesterday"}), "bad_timestamp"),
        (_payload({"id": "1", "content": "<p>x</p>", "account": "ana"}), "wrong_type"),
        (b'{"id": "1", "x": ' + b"[" * 100 + b"]" * 100 + b"}", "too_deep"),
    ],
)
def test_bad_statuses_are_refused_with_a_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(BadRecord) as caught:
        MastodonConnector().parse(RawRecord(payload, 1, FORMAT_STATUS))
    assert caught.value.reason == reason


def test_server_sent_events_and_link_header() -> None:
    capture = (FIXTURES / "streaming_hashtag.txt").read_text(encoding="utf-8").splitlines()
    events = list(iter_sse(capture))
    assert [name for name, _ in events] == ["update", "update", "status.update", "delete"]
    assert json.loads(events[0][1])["id"] == "113501000000000021"
    assert events[3][1] == "113501000000000004"
    header = (
        '<https://m.example/api/v1/timelines/tag/x?max_id=7>; rel="next", '
        '<https://m.example/api/v1/timelines/tag/x?min_id=9>; rel="prev"'
    )
    assert link_param(header, "prev", "min_id") == "9"
    assert link_param(header, "next", "max_id") == "7"
    assert link_param(None, "prev", "min_id") is None


# -- polling: cursors, restart, mentions, 429 ------------------------------------------------


def test_polling_pages_forward_with_no_gap_and_no_duplicate(
    mastodon_server: MastodonServer,
) -> None:
    config = _config(mastodon_server)
    connector = _connector(page_size=2)
    seen: list[str] = []
    with httpx.Client() as client:
        first = connector.fetch(config, "113501000000000001", client=client)
        seen += _ids(connector, first)
        # A restart: a new connector instance with only the persisted cursor.
        restarted = _connector(page_size=2)
        cursor = first.cursor
        while True:
            batch = restarted.fetch(config, cursor, client=client)
            if not batch.records:
                assert batch.cursor == cursor  # nothing new: the cursor stays
                break
            seen += _ids(restarted, batch)
            cursor = batch.cursor
        # Posts arriving later are read after the same cursor.
        mastodon_server.add_status(dict(TIMELINE[0], id="113501000000000006"))
        later = restarted.fetch(config, cursor, client=client)
    assert seen == [
        "113501000000000002",
        "113501000000000003",
        "113501000000000004",
        "113501000000000005",
    ]
    assert _ids(restarted, later) == ["113501000000000006"]
    assert later.cursor == "113501000000000006"
    assert all("min_id=" in r for r in mastodon_server.requests if "since_id" not in r)


def test_first_fetch_reads_the_newest_page_oldest_first(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    with httpx.Client() as client:
        batch = connector.fetch(_config(mastodon_server), None, client=client)
    assert _ids(connector, batch) == [s["id"] for s in reversed(TIMELINE)]
    assert batch.cursor == "113501000000000005"


def test_mentions_are_read_from_notifications(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    config = _config(mastodon_server, timeline="mentions")
    with httpx.Client() as client:
        batch = connector.fetch(config, None, client=client)
        again = connector.fetch(config, batch.cursor, client=client)
    posts = [connector.parse(r) for r in batch.records]
    assert [p.external_id for p in posts] == ["113501000000000010", "113501000000000011"]
    assert posts[0].in_reply_to == "113501000000000007"
    assert batch.cursor == "34975861"  # a notification id
    assert again.records == ()
    assert again.cursor == "34975861"
    assert any("types%5B%5D=mention" in r for r in mastodon_server.requests)


def test_429_is_retried_after_the_servers_retry_after(mastodon_server: MastodonServer) -> None:
    sleeps: list[float] = []
    mastodon_server.fail_next(2, status=429, retry_after="3")
    connector = _connector(sleeps)
    with httpx.Client() as client:
        batch = connector.fetch(_config(mastodon_server), "113501000000000004", client=client)
    assert sleeps == [3.0, 3.0]
    assert _ids(connector, batch) == ["113501000000000005"]


def test_persistent_503_raises_source_unavailable(mastodon_server: MastodonServer) -> None:
    mastodon_server.fail_next(4, status=503, retry_after=None)
    sleeps: list[float] = []
    with httpx.Client() as client, pytest.raises(SourceUnavailable) as caught:
        _connector(sleeps).fetch(_config(mastodon_server), None, client=client)
    assert caught.value.status == 503
    assert sleeps == [0.25, 0.5, 1.0]  # jittered backoff (rand fixed at 0.5)
    assert mastodon_server.token not in str(caught.value)


def test_bad_token_is_a_clear_refusal(mastodon_server: MastodonServer) -> None:
    config = SourceConfig(
        options={"instance": mastodon_server.base_url, "timeline": "mentions"},
        secrets={"access_token": "wrong"},
    )
    with httpx.Client() as client, pytest.raises(SourceUnavailable, match="check the access token"):
        _connector().fetch(config, None, client=client)


def test_rate_limit_headers_become_a_wait() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json=[],
            headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "2026-11-23T12:05:00.000Z"},
        )

    connector = MastodonConnector(now=lambda: datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    config = SourceConfig(options={"instance": "https://m.example", "timeline": "public"})
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        batch = connector.fetch(config, "5", client=client)
    assert batch.wait_seconds == 300.0
    assert batch.cursor == "5"


def test_missing_options_are_explained() -> None:
    with httpx.Client() as client, pytest.raises(SourceUnavailable, match="instance"):
        MastodonConnector().fetch(SourceConfig(options={"hashtag": "x"}), None, client=client)
    config = SourceConfig(options={"instance": "https://m.example", "timeline": "tag"})
    with httpx.Client() as client, pytest.raises(SourceUnavailable, match="hashtag"):
        MastodonConnector().fetch(config, None, client=client)


# -- streaming ---------------------------------------------------------------------------------


def _drain(stream: Iterator[Batch]) -> list[Batch]:
    return list(stream)


def test_stream_catches_up_then_follows_events_with_deletions(
    mastodon_server: MastodonServer,
) -> None:
    connector = _connector()
    # Queued before the connection opens: replayed as soon as it does, then the stream ends.
    mastodon_server.push_capture()
    mastodon_server.end_stream()
    batches = _drain(connector.stream(_config(mastodon_server), "113501000000000003"))
    records = [connector.parse(r).external_id for b in batches for r in b.records]
    deleted = [d for b in batches for d in b.deleted]
    # Catch-up over REST (4, 5), then the two streamed updates; the edit is not a new post.
    assert records == [
        "113501000000000004",
        "113501000000000005",
        "113501000000000021",
        "113501000000000022",
    ]
    assert deleted == ["113501000000000004"]
    assert batches[-1].cursor == "113501000000000022"
    assert any(
        r.startswith("GET /api/v1/streaming/hashtag?tag=acmecoffee")
        for r in mastodon_server.requests
    )


def test_stream_restart_skips_what_was_already_read(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    status = dict(TIMELINE[0], id="113501000000000007")
    mastodon_server.add_status(status)  # stored, and also pushed while the stream is open
    mastodon_server.push_event("update", json.dumps(status))
    newer = dict(TIMELINE[1], id="113501000000000008")
    mastodon_server.push_event("update", json.dumps(newer))
    mastodon_server.end_stream()
    batches = _drain(connector.stream(_config(mastodon_server), "113501000000000005"))
    records = [connector.parse(r).external_id for b in batches for r in b.records]
    assert records == ["113501000000000007", "113501000000000008"]  # 7 once, not twice


def test_stream_refused_raises(mastodon_server: MastodonServer) -> None:
    mastodon_server.fail_next(1, status=429, retry_after="30")
    with pytest.raises(SourceUnavailable) as caught:
        _drain(_connector().stream(_config(mastodon_server), None))
    assert caught.value.status == 429
    assert caught.value.retry_after == 30.0


# -- publishing --------------------------------------------------------------------------------


def test_reply_lands_threaded_with_an_idempotency_key(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    config = _config(mastodon_server, visibility="unlisted")
    with httpx.Client() as client:
        reply = connector.publish(
            config, "@ana so sorry! We sent a DM.", in_reply_to="113501000000000005", client=client
        )
        again = connector.publish(
            config, "@ana so sorry! We sent a DM.", in_reply_to="113501000000000005", client=client
        )
        context = client.get(
            f"{mastodon_server.base_url}/api/v1/statuses/113501000000000005/context"
        )
    assert again == reply  # the same idempotency key: posted once
    assert len(mastodon_server.posted) == 1
    posted = mastodon_server.posted[0]
    assert posted["in_reply_to_id"] == "113501000000000005"
    assert posted["visibility"] == "unlisted"
    assert posted["idempotency_key"]
    assert reply.url == f"{mastodon_server.base_url}/@acme/{reply.external_id}"
    assert [s["id"] for s in context.json()["descendants"]] == [reply.external_id]
    assert mastodon_server.thread("113501000000000005") == [reply.external_id]


def test_post_without_reply_and_429_on_post(mastodon_server: MastodonServer) -> None:
    sleeps: list[float] = []
    mastodon_server.fail_next(1, status=429, retry_after="2")
    with httpx.Client() as client:
        published = _connector(sleeps).publish(
            _config(mastodon_server), "New beans are in #acmecoffee", client=client
        )
    assert sleeps == [2.0]
    assert mastodon_server.posted[0]["in_reply_to_id"] is None
    assert published.external_id in mastodon_server.statuses


def test_publish_refusals_are_clear(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    with httpx.Client() as client:
        with pytest.raises(SourceUnavailable, match=r"501 characters.*at most 500"):
            connector.publish(_config(mastodon_server), "x" * 501, client=client)
        with pytest.raises(SourceUnavailable, match="Record not found"):
            connector.publish(_config(mastodon_server), "hi", in_reply_to="404404", client=client)
        no_token = SourceConfig(options={"instance": mastodon_server.base_url})
        with pytest.raises(SourceUnavailable, match="access_token"):
            connector.publish(no_token, "hi", client=client)
        wrong = SourceConfig(
            options={"instance": mastodon_server.base_url}, secrets={"access_token": "nope"}
        )
        with pytest.raises(SourceUnavailable, match="HTTP 401"):
            connector.publish(wrong, "hi", client=client)
    assert mastodon_server.posted == []


def test_instance_max_length_option_allows_longer_posts(mastodon_server: MastodonServer) -> None:
    mastodon_server.max_characters = 1000
    with httpx.Client() as client:
        published = _connector().publish(
            _config(mastodon_server, max_length="1000"), "y" * 800, client=client
        )
    assert published.external_id in mastodon_server.statuses


def test_fixture_files_are_in_the_documented_format() -> None:
    for path in sorted(Path(FIXTURES).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(data, list), path
        assert data, path
        for item in data:
            assert isinstance(item["id"], str)  # Mastodon ids are strings


def test_unreachable_streaming_server_is_unavailable() -> None:
    config = SourceConfig(options={"instance": "http://127.0.0.1:9", "timeline": "public"})
    with pytest.raises(SourceUnavailable, match="streaming connection failed"):
        _drain(MastodonConnector().stream(config, None))


def test_poll_mode_runs_fetch_as_a_stream(mastodon_server: MastodonServer) -> None:
    sleeps: list[float] = []
    connector = _connector(sleeps, page_size=3)
    config = _config(mastodon_server, mode="poll", poll_seconds="45")
    batches = list(itertools.islice(connector.stream(config, "113501000000000001"), 4))
    assert [len(b.records) for b in batches] == [3, 1, 0, 0]
    assert batches[-1].cursor == "113501000000000005"
    assert sleeps == [45.0]  # paused only once nothing new came
    assert not any("/streaming/" in r for r in mastodon_server.requests)


def test_a_mention_heard_is_answered_in_its_thread(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    with httpx.Client() as client:
        heard = connector.fetch(mastodon_server.config(timeline="mentions"), None, client=client)
        mention = connector.parse(heard.records[-1])
        reply = connector.publish(
            mastodon_server.config(),
            f"@{mention.author_handle} we are on it, sorry!",
            in_reply_to=mention.external_id,
            client=client,
        )
    assert mention.external_id == "113501000000000011"
    assert mastodon_server.thread(mention.external_id) == [reply.external_id]
    assert mastodon_server.statuses[reply.external_id]["content"] == (
        "<p>@ana we are on it, sorry!</p>"
    )


def test_public_and_local_timelines(mastodon_server: MastodonServer) -> None:
    connector = _connector()
    with httpx.Client() as client:
        public = connector.fetch(mastodon_server.config(timeline="public"), None, client=client)
        connector.fetch(mastodon_server.config(timeline="local"), None, client=client)
    assert len(public.records) == 7  # the five #acmecoffee statuses and the two mentions
    public_request, local_request = mastodon_server.requests
    assert public_request.startswith("GET /api/v1/timelines/public?")
    assert "local=true" not in public_request
    assert "local=true" in local_request
