"""Direct messages end to end against the loopback Mastodon-compatible server: a DM read from
the mentions feed becomes a private conversation (with no saved query matching it), the
agent's reply lands with visibility direct, threaded and naming the customer, and the
customer's answer in that chain joins it; the same author's public mention and DM are two
conversations; DMs never show in listening's stream, counts, chart, search or API lists; a
private reply through a connector without direct messages is refused and nothing is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

import groundswell.care.handlers
from groundswell.care import sending, service
from groundswell.care.rules import Actions, Conditions, Facts, Rule, route
from groundswell.care.sending import NoPublisher
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.cli import main
from groundswell.connectors import registry
from groundswell.governance import approvals
from groundswell.governance import service as governance
from groundswell.governance.domain import CoordinationModel
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.settings import Settings
from groundswell.listening import ingest, sources, views, worker
from groundswell.listening.search import search_mentions
from groundswell.listening.tables import ListeningSource, Mention
from groundswell.triage.domain import Sentiment, Triage
from tests.builders import Person, bearer, login, make_org, make_token
from tests.care.care_helpers import add_mention, set_policy, take
from tests.care.page_data import add_reply_source, make_conversation
from tests.connectors.mastodon_server import MastodonServer
from tests.governance.gov_helpers import trained_user

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)  # ten minutes after the captured DM
DM = "113501000000000020"  # the captured direct message (fixtures/notifications_direct.json)
PUBLIC = "113501000000000011"  # the same author's public mention (fixtures/notifications.json)


@pytest.fixture
def masto() -> Iterator[MastodonServer]:
    with MastodonServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _handler_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groundswell.care.handlers, "handler_clock", FrozenClock(NOW))


def _triage(texts: Sequence[str], **_: Any) -> list[Triage]:
    """Posts about an order are complaints; everything else is small talk."""
    return [
        Triage(
            language="en",
            language_confidence=0.9,
            sentiment=Sentiment(label="negative", scores={"negative": 1.0}),
            intents={},
            labels=["complaint"] if "order" in text else [],
            emotion={},
            offensive=0.0,
            hate=0.0,
            irony=False,
            personal_data=[],
            priority=60 if "order" in text else 10,
            why="test triage",
        )
        for text in texts
    ]


def _setup(db: Database, settings: Settings, server: MastodonServer) -> tuple[Person, str]:
    """An organization listening to its Mastodon account's mentions (and replying there)."""
    owner = make_org(db)
    set_policy(db, owner, NOW)
    given = {"instance": server.base_url, "timeline": "mentions"}
    declared = registry.get("mastodon").capabilities.options
    with db.unit_of_work() as session:
        row = sources.add_source(
            session,
            owner.actor,
            Vault.open(settings.data_dir),
            name="masto",
            connector="mastodon",
            options={name: given.get(name, "") for name in declared},
            secrets={"access_token": server.token},
            clock=FrozenClock(NOW),
        )
        return owner, row.id


def _listen(db: Database, settings: Settings, source_id: str) -> None:
    """One fetch of the source, then the care handlers."""
    with httpx.Client() as client:
        result = worker.pull_once(
            db,
            Vault.open(settings.data_dir),
            source_id,
            resolve=registry.get,
            clock=FrozenClock(NOW),
            triage=_triage,
            client=client,
        )
    assert result is not None
    Dispatcher(db).dispatch_pending()


def _save_query(db: Database, owner: Person, text: str) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name=text, topic="support", query=text, clock=FrozenClock(NOW)
        )


def _conversations(db: Database, owner: Person, view: str = "all") -> list[CareConversation]:
    with db.reader() as session:
        return service.list_conversations(session, owner.actor, view=view, now=NOW).items


def _inbound(db: Database, owner: Person, conversation_id: str) -> list[str | None]:
    with db.reader() as session:
        return [
            m.external_id
            for m in service.messages(session, owner.actor, conversation_id)
            if m.direction == "inbound"
        ]


def test_a_direct_message_is_a_private_conversation_answered_privately(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, source_id = _setup(db, settings, masto)
    masto.add_direct_message()
    _listen(db, settings, source_id)  # no saved query at all: the DM reaches care anyway

    (c,) = _conversations(db, owner)
    assert (c.channel, c.customer_handle) == ("direct", "ana")
    assert [x.id for x in _conversations(db, owner, "direct")] == [c.id]
    assert _inbound(db, owner, c.id) == [DM]

    agent = trained_user(db, owner, Role.AGENT, NOW)
    with db.unit_of_work() as session:
        message = service.reply(session, agent.actor, c.id, "So sorry! A new one ships.", now=NOW)
        message_id, text = message.id, message.text
    assert text == "@ana So sorry! A new one ships."  # what is sent, as the agent sees it
    assert sending.send_due(db, FrozenClock(NOW + timedelta(seconds=10)), settings=settings) == 1

    posted = masto.posted[-1]
    assert posted["visibility"] == "direct"
    assert posted["in_reply_to_id"] == DM
    assert posted["status"] == "@ana So sorry! A new one ships."
    with db.reader() as session:
        sent = session.get(CareMessage, message_id)
        assert sent is not None
        assert sent.delivery_status == "sent"
    assert sent.external_id in masto.thread(DM)

    # The customer answers in the DM chain: it joins the same private conversation.
    masto.add_direct_message(
        id="113501000000000030",
        in_reply_to_id=sent.external_id,
        created_at="2026-11-23T10:28:00.000Z",
        content="<p>@acme thanks! Which carrier?</p>",
    )
    _listen(db, settings, source_id)
    assert [x.id for x in _conversations(db, owner)] == [c.id]
    assert _inbound(db, owner, c.id) == [DM, "113501000000000030"]


def test_a_private_reply_is_authorized_as_one(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, source_id = _setup(db, settings, masto)
    masto.add_direct_message()
    _listen(db, settings, source_id)
    (c,) = _conversations(db, owner)
    with db.unit_of_work() as session:
        governance.set_model(session, owner.actor, CoordinationModel.COMMAND_AND_CONTROL, now=NOW)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, NOW)
    with db.unit_of_work() as session:
        message = service.reply(session, contributor.actor, c.id, "We are on it.", now=NOW)
        assert message.delivery_status == "awaiting_approval"
        request = approvals.pending_for_subject(
            session, owner.actor.organization_id, "care.reply", message.id
        )
        assert request is not None
        assert request.action == "reply_private"
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=5)), settings=settings) == 0
    assert masto.posted == []


def test_one_authors_public_mention_and_direct_message_are_two_conversations(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, source_id = _setup(db, settings, masto)
    _save_query(db, owner, "order")  # matches both ana's public mention and her DM
    masto.add_direct_message()
    _listen(db, settings, source_id)

    by_channel = {c.channel: c for c in _conversations(db, owner)}
    assert set(by_channel) == {"public", "direct"}
    assert by_channel["public"].customer_id == by_channel["direct"].customer_id  # one customer
    assert _inbound(db, owner, by_channel["public"].id) == [PUBLIC]
    assert _inbound(db, owner, by_channel["direct"].id) == [DM]

    # A reply on the public conversation is public.
    agent = trained_user(db, owner, Role.AGENT, NOW)
    with db.unit_of_work() as session:
        service.reply(session, agent.actor, by_channel["public"].id, "@ana On it!", now=NOW)
    assert sending.send_due(db, FrozenClock(NOW + timedelta(seconds=10)), settings=settings) == 1
    assert masto.posted[-1]["visibility"] == "public"

    # Her next public mention, inside the author window, joins the public one only.
    later = add_mention(
        db,
        owner.actor.organization_id,
        handle="ana",
        external_id="113501000000000031",
        created_at=NOW,
    )
    message = take(db, settings, later, NOW)
    assert message is not None
    assert message.conversation_id == by_channel["public"].id
    # And a DM of hers with no thread joins the private one.
    dm = add_mention(
        db,
        owner.actor.organization_id,
        handle="ana",
        external_id="113501000000000032",
        channel="direct",
        created_at=NOW,
    )
    message = take(db, settings, dm, NOW)
    assert message is not None
    assert message.conversation_id == by_channel["direct"].id


def test_direct_messages_stay_out_of_listening(
    db: Database, settings: Settings, masto: MastodonServer, client: TestClient
) -> None:
    owner, source_id = _setup(db, settings, masto)
    _save_query(db, owner, "order")
    masto.add_direct_message()
    _listen(db, settings, source_id)
    with db.reader() as session:
        stored = dict(session.execute(select(Mention.external_id, Mention.channel)).all())
        dm_id = session.scalar(select(Mention.id).where(Mention.external_id == DM))
        clustered = session.scalar(select(Mention.cluster_id).where(Mention.external_id == DM))
        assert clustered is None  # cluster sizes and samples show on public pages
        assert stored[DM] == "direct"
        assert stored[PUBLIC] == "public"
        everything = views.Filters(range="all")
        page = views.list_mentions(session, owner.actor, everything, now=NOW)
        assert DM not in [m.external_id for m in page.items]
        assert PUBLIC in [m.external_id for m in page.items]
        with_query = views.list_mentions(
            session, owner.actor, views.Filters(q="order", range="all"), now=NOW
        )
        assert [m.external_id for m in with_query.items] == [PUBLIC]
        assert views.count_newer(session, owner.actor, everything, 0, now=NOW) == 2
        assert views.volume(session, owner.actor, everything, now=NOW).total == 2
        found = search_mentions(session, owner.actor.organization_id, "order")
        assert [m.external_id for m in found] == [PUBLIC]
        assert views.try_query(session, owner.actor, "order")[1] == 1

    auth = bearer(make_token(db, owner))
    listed = client.get("/api/v1/listening/mentions?range=all", headers=auth).json()
    assert DM not in [m["external_id"] for m in listed["items"]]
    searched = client.get("/api/v1/listening/search?q=order", headers=auth).json()
    assert [m["external_id"] for m in searched] == [PUBLIC]
    # Reachable by its id (care links to it), and marked private there.
    detail = client.get(f"/api/v1/listening/mentions/{dm_id}", headers=auth).json()
    assert detail["mention"]["channel"] == "direct"
    login(client, owner)
    assert "DM · private" in client.get(f"/listening/mentions/{dm_id}").text


def test_a_private_reply_without_direct_messages_is_refused_and_nothing_is_sent(
    db: Database, settings: Settings
) -> None:
    owner = make_org(db)
    set_policy(db, owner, NOW)
    with db.unit_of_work() as session:
        session.add(
            ListeningSource(
                organization_id=owner.actor.organization_id,
                name="bsky",
                connector="bluesky",
                options={"handle": "acme.example"},
                status="active",
                created_at=NOW,
                error_count=0,
                stored_count=0,
            )
        )
    dm = add_mention(
        db,
        owner.actor.organization_id,
        source="bsky",
        handle="ana.example",
        channel="direct",
        created_at=NOW,
    )
    message = take(db, settings, dm, NOW)
    assert message is not None
    conversation_id = message.conversation_id
    agent = trained_user(db, owner, Role.AGENT, NOW)
    with db.unit_of_work() as session, pytest.raises(NoPublisher) as caught:
        service.reply(session, agent.actor, conversation_id, "So sorry!", now=NOW)
    assert caught.value.status == 409
    assert "cannot send direct messages" in caught.value.message
    assert "not stay private" in caught.value.message

    # A reply queued anyway (e.g. before the source changed connector) is never published.
    with db.unit_of_work() as session:
        session.add(
            CareMessage(
                organization_id=owner.actor.organization_id,
                conversation_id=conversation_id,
                direction="outbound",
                text="So sorry!",
                created_at=NOW,
                delivery_status="queued",
                send_after=NOW,
                attempts=0,
            )
        )
    requests: list[httpx.Request] = []

    def client_factory() -> httpx.Client:
        def record(request: httpx.Request) -> httpx.Response:
            requests.append(request)
            return httpx.Response(200, json={})

        return httpx.Client(transport=httpx.MockTransport(record))

    sent = sending.send_due(db, FrozenClock(NOW), settings=settings, client_factory=client_factory)
    assert sent == 0
    assert requests == []
    with db.reader() as session:
        queued = session.scalars(
            select(CareMessage).where(CareMessage.direction == "outbound")
        ).one()
        assert queued.delivery_status in ("queued", "failed")
        assert queued.error is not None
        assert "cannot send direct messages" in queued.error


def test_the_inbox_marks_private_conversations_and_has_their_view(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    now = clock.now()
    add_reply_source(db, owner, now)
    dm = make_conversation(db, owner, now=now, handle="@ana", channel="direct")
    public = make_conversation(db, owner, now=now, handle="@bo")
    login(client, owner)

    everything = client.get("/care").text
    assert everything.count("DM · private") == 1
    direct = client.get("/care?view=direct").text
    assert f'id="row-{dm}"' in direct
    assert f'id="row-{public}"' not in direct
    assert 'aria-current="page">Direct messages' in direct
    private_page = client.get(f"/care/conversations/{dm}").text
    assert "replies are sent privately to @ana, never posted publicly" in private_page
    assert "Send private reply" in private_page
    public_page = client.get(f"/care/conversations/{public}").text
    assert "DM · private" not in public_page
    assert "Send reply" in public_page
    listed = client.get(
        "/api/v1/care/conversations?view=direct", headers=bearer(make_token(db, owner))
    )
    assert [(c["id"], c["channel"]) for c in listed.json()["items"]] == [(dm, "direct")]


def test_routing_rules_can_name_the_channel() -> None:
    rule = Rule(
        id="r1",
        name="DMs to the private team",
        conditions=Conditions(channels=["direct"]),
        actions=Actions(team_id="private-team"),
    )
    small_talk = Facts(text="hello", priority=0)
    assert not route([rule], small_talk, min_priority=60).open
    direct = route([rule], replace(small_talk, direct=True), min_priority=60)
    assert direct.open  # a direct message opens a conversation by default
    assert direct.team_id == "private-team"
    assert route([rule], replace(small_talk, priority=80), min_priority=60).team_id is None


def test_the_cli_lists_and_shows_the_channel(
    db: Database, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    owner = make_org(db)
    dm = add_mention(
        db, owner.actor.organization_id, handle="@dora", channel="direct", created_at=NOW
    )
    message = take(db, settings, dm, NOW)
    assert message is not None
    cid = message.conversation_id
    assert main(["care", "conversations", "list", "--view", "direct", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(c["id"], c["channel"]) for c in listed["items"]] == [(cid, "direct")]
    assert main(["care", "conversations", "show", cid, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["conversation"]["channel"] == "direct"
    assert main(["care", "conversations", "show", cid]) == 0
    assert "replies are private" in capsys.readouterr().out
