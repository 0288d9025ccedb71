"""Direct messages at the connector contract: a Mastodon status of visibility ``direct`` is a
post on the ``direct`` channel, a reply to it is posted with visibility ``direct``, threaded,
naming its recipient; the files/webhook format says ``"channel": "direct"``; connectors that
cannot send direct messages refuse a private reply before any request."""

from __future__ import annotations

import json

import httpx
import pytest

from groundswell.connectors import registry
from groundswell.connectors.bluesky.connector import BlueskyConnector
from groundswell.connectors.contract import BadRecord, SourceConfig, addressed_to
from groundswell.connectors.files.parse import FORMAT_CSV, FORMAT_JSONL, parse_payload
from groundswell.connectors.http import SourceUnavailable
from groundswell.connectors.mastodon.connector import MastodonConnector
from groundswell.connectors.mastodon.parse import parse_status
from groundswell.connectors.reddit.connector import RedditConnector
from groundswell.connectors.webhook.parse import parse_record, records_from_body
from tests.connectors.mastodon_server import FIXTURES, MastodonServer, mastodon_server

__all__ = ["mastodon_server"]  # the fixture, imported for pytest

DM = json.loads((FIXTURES / "notifications_direct.json").read_text(encoding="utf-8"))[0]


def test_a_direct_status_parses_as_a_direct_message() -> None:
    post = parse_status(json.dumps(DM["status"]).encode())
    assert post.channel == "direct"
    assert post.external_id == "113501000000000020"
    assert post.author_handle == "ana"
    assert post.text.startswith("@acme writing privately: order 4471")
    assert "don't ask me" in post.text  # entities unescaped
    public = json.loads((FIXTURES / "notifications.json").read_text(encoding="utf-8"))[0]
    assert parse_status(json.dumps(public["status"]).encode()).channel == "public"
    followers_only = dict(public["status"], visibility="private")
    assert parse_status(json.dumps(followers_only).encode()).channel == "public"


def test_capabilities_say_who_handles_direct_messages() -> None:
    mastodon = registry.get("mastodon").capabilities
    assert mastodon.reads_direct
    assert mastodon.sends_direct
    assert mastodon.direct_names_recipient
    for name in ("bluesky", "reddit"):
        assert not registry.get(name).capabilities.sends_direct
    for name in ("files", "webhook"):
        assert registry.get(name).capabilities.reads_direct


def test_direct_messages_are_read_from_the_mentions_feed(
    mastodon_server: MastodonServer,
) -> None:
    mastodon_server.add_direct_message()
    connector = MastodonConnector(sleep=lambda _: None)
    with httpx.Client() as client:
        batch = connector.fetch(mastodon_server.config(timeline="mentions"), None, client=client)
    posts = {p.external_id: p for p in map(connector.parse, batch.records)}
    assert posts["113501000000000020"].channel == "direct"
    assert posts["113501000000000011"].channel == "public"


def test_direct_messages_arrive_on_the_notification_stream(
    mastodon_server: MastodonServer,
) -> None:
    # Pushed while the stream is open (not in the REST catch-up): a mention notification.
    mastodon_server.push_event("notification", json.dumps(DM))
    mastodon_server.end_stream()
    connector = MastodonConnector(sleep=lambda _: None)
    config = mastodon_server.config(timeline="mentions")
    batches = list(connector.stream(config, "34975861"))  # after the public mentions
    posts = [connector.parse(r) for b in batches for r in b.records]
    assert [(p.external_id, p.channel) for p in posts] == [("113501000000000020", "direct")]


def test_a_private_reply_is_direct_threaded_and_names_the_customer(
    mastodon_server: MastodonServer,
) -> None:
    mastodon_server.add_direct_message()
    connector = MastodonConnector(sleep=lambda _: None)
    # The source posts publicly by default; a private reply is direct all the same.
    config = mastodon_server.config(visibility="public")
    with httpx.Client() as client:
        reply = connector.publish(
            config,
            "So sorry! A new grinder ships today.",
            in_reply_to="113501000000000020",
            channel="direct",
            recipient="ana",
            client=client,
        )
        again = connector.publish(
            config,
            "@Ana and here is the tracking link.",
            in_reply_to="113501000000000020",
            channel="direct",
            recipient="@ana",
            client=client,
        )
    first, second = mastodon_server.posted
    assert first["visibility"] == second["visibility"] == "direct"
    assert first["in_reply_to_id"] == "113501000000000020"
    assert first["status"] == "@ana So sorry! A new grinder ships today."
    assert second["status"] == "@Ana and here is the tracking link."  # named already
    assert mastodon_server.thread("113501000000000020") == [reply.external_id, again.external_id]


def test_a_direct_message_to_nobody_is_refused(mastodon_server: MastodonServer) -> None:
    with httpx.Client() as client, pytest.raises(SourceUnavailable, match="mention"):
        MastodonConnector().publish(
            mastodon_server.config(), "hello", channel="direct", client=client
        )
    assert mastodon_server.posted == []


def test_addressed_to_names_the_recipient_once() -> None:
    assert addressed_to("thanks", "ana") == "@ana thanks"
    assert addressed_to("thanks", "@ana@other.social") == "@ana@other.social thanks"
    assert addressed_to("hi @ANA, thanks", "ana") == "hi @ANA, thanks"
    # "@anabel" and "@ana@elsewhere" are other people.
    assert addressed_to("cc @anabel", "ana") == "@ana cc @anabel"
    assert addressed_to("cc @ana@elsewhere.example", "ana") == "@ana cc @ana@elsewhere.example"
    assert addressed_to("thanks", None) == "thanks"


def _refusing_client(seen: list[httpx.Request]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(500)

    return httpx.Client(transport=httpx.MockTransport(handler))


@pytest.mark.parametrize(
    ("connector", "config", "in_reply_to", "network"),
    [
        (
            BlueskyConnector(),
            SourceConfig(options={"handle": "acme.example"}, secrets={"app_password": "x"}),
            "at://did:plc:ana/app.bsky.feed.post/3kabc",
            "Bluesky",
        ),
        (
            RedditConnector(),
            SourceConfig(options={"username": "acme"}, secrets={"password": "x"}),
            "t1_abc",
            "Reddit",
        ),
    ],
)
def test_networks_without_direct_messages_refuse_a_private_reply(
    connector: BlueskyConnector | RedditConnector,
    config: SourceConfig,
    in_reply_to: str,
    network: str,
) -> None:
    seen: list[httpx.Request] = []
    with _refusing_client(seen) as client, pytest.raises(SourceUnavailable) as caught:
        connector.publish(
            config, "hi", in_reply_to=in_reply_to, channel="direct", recipient="ana", client=client
        )
    assert "not posted publicly" in str(caught.value)
    assert network in str(caught.value)
    assert seen == []  # refused before any request: nothing published


def test_files_and_webhook_posts_may_be_direct() -> None:
    line = {"id": "1", "text": "hi, privately", "channel": "direct"}
    assert parse_payload(json.dumps(line).encode(), FORMAT_JSONL).channel == "direct"
    assert parse_payload(b'{"id": "2", "text": "hi"}', FORMAT_JSONL).channel == "public"
    cells = {"id": "3", "text": "hi", "channel": "direct"}
    assert parse_payload(json.dumps(cells).encode(), FORMAT_CSV).channel == "direct"
    for bad in ("private", 1, True):
        with pytest.raises(BadRecord) as caught:
            parse_payload(json.dumps({**line, "channel": bad}).encode(), FORMAT_JSONL)
        assert caught.value.reason == "wrong_type"
    (record,) = records_from_body(json.dumps(line).encode())
    assert parse_record(record).channel == "direct"
