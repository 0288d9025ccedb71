"""The ``rss`` connector against captured RSS 2.0 and Atom documents over `httpx.MockTransport`:
parse, conditional GET (ETag / Last-Modified kept in the cursor; 304 is an empty batch),
entries deduplicated by id or link, resume after a restart with no gap and no duplicate, and
429/5xx retried honouring Retry-After."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import BadRecord, PullSource, RawRecord, SourceConfig
from groundswell.connectors.http import RetryPolicy, SourceUnavailable
from groundswell.connectors.rss.connector import RssConnector, read_cursor
from groundswell.connectors.rss.parse import (
    FORMAT,
    encode_entry,
    html_to_text,
    parse_entry,
    parse_feed,
)

FIXTURES = Path(__file__).parents[2] / "src/groundswell/connectors/rss/fixtures"
URL = "https://news.example/travel/feed.xml"
CONFIG = SourceConfig(options={"url": URL})


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


class Feed:
    """A feed server: serves `body` with an ETag and Last-Modified, answers 304 to a request
    that already has them, and can be told to fail first (status, headers) N times."""

    def __init__(self, body: bytes, etag: str = '"v1"') -> None:
        self.body = body
        self.etag = etag
        self.modified = "Mon, 02 Nov 2026 10:30:00 GMT"
        self.failures: list[tuple[int, dict[str, str]]] = []
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.failures:
            status, headers = self.failures.pop(0)
            return httpx.Response(status, headers=headers, text="busy")
        if (
            request.headers.get("If-None-Match") == self.etag
            and request.headers.get("If-Modified-Since") == self.modified
        ):
            return httpx.Response(304)
        headers = {
            "ETag": self.etag,
            "Last-Modified": self.modified,
            "Content-Type": "application/rss+xml",
        }
        return httpx.Response(200, headers=headers, content=self.body)


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def _ids(connector: RssConnector, records: tuple[RawRecord, ...]) -> list[str]:
    return [connector.parse(r).external_id for r in records]


def test_is_registered_as_a_pull_source() -> None:
    connector = registry.get("rss")
    assert isinstance(connector, PullSource)
    assert connector.capabilities.options == ("url",)


def test_rss2_items_parse_to_posts() -> None:
    feed = parse_feed(_fixture("rss2.xml"), location=URL)
    assert feed.title == "Travel Desk"
    assert feed.ttl_seconds == 15 * 60
    assert len(feed.entries) == 4
    first = parse_entry(encode_entry(feed.entries[0]))
    assert first.external_id == "news.example:article:9312"
    assert first.text == (
        "Aurora Air app outage strands passengers at check-in\n\n"
        "Passengers of Aurora Air could not check in for two hours on Monday morning.\n\n"
        "The airline said on its account that the problem was fixed & apologised."
    )
    assert first.created_at == datetime(2026, 11, 2, 10, 20, tzinfo=UTC)
    assert first.author_name == "Maria Lopez"
    assert first.lang == "en-gb"
    assert first.url == "https://news.example/travel/aurora-outage?utm_source=rss&utm_medium=feed"
    assert first.links == ("https://social.example/@auroraair/1",)
    # No guid: the link identifies the item; no author: the feed's title stands in.
    last = parse_entry(encode_entry(feed.entries[3]))
    assert last.external_id == "https://news.example/travel/strikes"
    assert last.author_handle == "Travel Desk"
    # A date with an offset is read in UTC.
    porto = parse_entry(encode_entry(feed.entries[1]))
    assert porto.created_at == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)


def test_atom_entries_parse_to_posts() -> None:
    feed = parse_feed(_fixture("atom.xml"), location="https://blog.example/feed.atom")
    posts = [parse_entry(encode_entry(e)) for e in feed.entries]
    assert [p.external_id for p in posts] == [
        "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a",
        "urn:uuid:0d3a4c1e-5b6f-4d2a-9e8f-1a2b3c4d5e6f",
    ]
    assert posts[0].text == (
        "Aurora Air : l'appli en panne ce matin\n\n"
        "Impossible de s'enregistrer avec l'appli Aurora Air ce matin.\n"
        "Détails sur la page d'état."
    )
    assert posts[0].created_at == datetime(2026, 11, 2, 9, 45, tzinfo=UTC)
    assert posts[0].author_handle == "Claire Martin"
    assert posts[0].lang == "fr"
    assert posts[0].links == ("https://status.example/aurora",)
    # Only <updated>: it dates the entry.
    assert posts[1].created_at == datetime(2026, 10, 28, 9, 0, tzinfo=UTC)


def test_html_to_text_keeps_lines_and_drops_scripts() -> None:
    html = "<div>One &amp; two<br>three</div><script>alert(1)</script><p>  four   five </p>"
    assert html_to_text(html) == "One & two\nthree\n\nfour five"


def test_a_bad_entry_record_is_a_bad_record() -> None:
    with pytest.raises(BadRecord) as exc:
        RssConnector().parse(RawRecord(b'{"id": "x", "title": "", "summary": ""}', 1, FORMAT))
    assert exc.value.reason == "empty_text"
    with pytest.raises(BadRecord) as exc:
        RssConnector().parse(RawRecord(b"\xff", 1, FORMAT))
    assert exc.value.reason == "invalid_utf8"


def test_fetch_gives_entries_oldest_first_once_then_304_is_an_empty_batch() -> None:
    server = Feed(_fixture("rss2.xml"))
    connector = RssConnector()
    with _client(server) as client:
        batch = connector.fetch(CONFIG, None, client=client)
        assert _ids(connector, batch.records) == [
            "https://news.example/travel/strikes",
            "https://news.example/travel/aurora-porto",  # listed twice, given once
            "news.example:article:9312",
        ]
        assert connector.parse(batch.records[1]).text.endswith("three times a week.")
        assert batch.wait_seconds == 900
        assert "If-None-Match" not in server.requests[0].headers
        assert server.requests[0].headers["User-Agent"].startswith("Groundswell/")
        state = read_cursor(batch.cursor)
        assert state["etag"] == '"v1"'
        again = connector.fetch(CONFIG, batch.cursor, client=client)
    assert server.requests[1].headers["If-None-Match"] == '"v1"'
    assert server.requests[1].headers["If-Modified-Since"] == "Mon, 02 Nov 2026 10:30:00 GMT"
    assert again.records == ()
    assert again.cursor == batch.cursor


def test_a_restart_from_the_saved_cursor_gives_only_new_entries() -> None:
    server = Feed(_fixture("rss2.xml"))
    with _client(server) as client:
        first = RssConnector().fetch(CONFIG, None, client=client)
        saved = first.cursor
        # The feed changes while the process is down: two new items, one old item gone.
        server.body, server.etag = _fixture("rss2_updated.xml"), '"v2"'
        restarted = RssConnector()
        second = restarted.fetch(CONFIG, saved, client=client)
        third = restarted.fetch(CONFIG, second.cursor, client=client)
    assert _ids(restarted, second.records) == [
        "news.example:article:9316",
        "news.example:article:9320",
    ]
    assert third.records == ()
    # Without ETag support the seen keys alone keep out duplicates.
    server.etag = '"v3"'
    with _client(server) as client:
        fourth = restarted.fetch(CONFIG, second.cursor, client=client)
    assert fourth.records == ()


def test_429_is_retried_after_the_time_the_feed_asks() -> None:
    server = Feed(_fixture("atom.xml"))
    server.failures = [(429, {"Retry-After": "7"}), (503, {"Retry-After": "2"})]
    slept: list[float] = []
    connector = RssConnector(sleep=slept.append, rand=lambda: 0.5)
    with _client(server) as client:
        batch = connector.fetch(CONFIG, None, client=client)
    assert slept == [7.0, 2.0]
    assert len(batch.records) == 2
    assert len(server.requests) == 3


def test_a_feed_that_keeps_failing_is_unavailable_with_its_status() -> None:
    server = Feed(_fixture("atom.xml"))
    server.failures = [(429, {"Retry-After": "30"})] * 3
    slept: list[float] = []
    connector = RssConnector(sleep=slept.append, policy=RetryPolicy(attempts=3))
    with _client(server) as client, pytest.raises(SourceUnavailable) as exc:
        connector.fetch(CONFIG, None, client=client)
    assert exc.value.status == 429
    assert exc.value.retry_after == 30
    assert slept == [30.0, 30.0]


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (httpx.Response(404, text="gone"), "answered HTTP 404"),
        (httpx.Response(200, text="<html><body>Sign in</body></html>"), "not an RSS or Atom"),
    ],
)
def test_a_feed_that_is_not_there_is_unavailable(response: httpx.Response, message: str) -> None:
    with (
        _client(lambda request: response) as client,
        pytest.raises(SourceUnavailable, match=message),
    ):
        RssConnector().fetch(CONFIG, None, client=client)


def test_a_huge_document_is_refused_unparsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("groundswell.connectors.rss.connector.MAX_FEED_BYTES", 1000)
    with _client(Feed(_fixture("rss2.xml"))) as client, pytest.raises(SourceUnavailable) as exc:
        RssConnector().fetch(CONFIG, None, client=client)
    assert "over 1,000" in str(exc.value)


def test_options_and_cursor_are_checked() -> None:
    with _client(Feed(b"")) as client:
        with pytest.raises(SourceUnavailable, match="option url"):
            RssConnector().fetch(SourceConfig(options={"url": "ftp://x"}), None, client=client)
        with pytest.raises(SourceUnavailable, match="unreadable cursor"):
            RssConnector().fetch(CONFIG, "{not json", client=client)
