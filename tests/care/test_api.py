"""The care JSON API under /api/v1/care."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.care import sending
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.settings import Settings
from groundswell.listening import sources
from tests.builders import bearer, make_org, make_token, make_user
from tests.care.care_helpers import add_mention, set_policy, take
from tests.care.test_reply_mastodon import POST, _options
from tests.connectors.mastodon_server import MastodonServer
from tests.governance.gov_helpers import train

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # the `clock` fixture's start


@pytest.fixture
def masto() -> Iterator[MastodonServer]:
    with MastodonServer() as server:
        yield server


def test_conversations_list_show_assign_note_resolve(
    db: Database, settings: Settings, client: TestClient, clock: FrozenClock
) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    viewer = make_user(db, owner, Role.VIEWER)
    other_org = make_org(db, name="Other")
    org = owner.actor.organization_id
    set_policy(db, owner, T0, first=60)
    ids = []
    for i in range(3):
        mention = add_mention(db, org, handle=f"@c{i}", text=f"Help {i}", created_at=T0)
        message = take(db, settings, mention, T0 + timedelta(minutes=i))
        assert message is not None
        ids.append(message.conversation_id)
    headers = bearer(make_token(db, agent))

    page = client.get("/api/v1/care/conversations?limit=2", headers=headers).json()
    assert [c["customer_handle"] for c in page["items"]] == ["@c2", "@c1"]
    assert page["next_cursor"]
    rest = client.get(
        f"/api/v1/care/conversations?limit=2&cursor={page['next_cursor']}", headers=headers
    ).json()
    assert [c["customer_handle"] for c in rest["items"]] == ["@c0"]
    assert rest["next_cursor"] is None

    shown = client.get(f"/api/v1/care/conversations/{ids[0]}", headers=headers).json()
    assert shown["conversation"]["sla_target"] == "first_response"
    assert shown["customer"]["identities"] == [{"source": "masto", "handle": "@c0"}]
    assert [m["direction"] for m in shown["messages"]] == ["inbound"]

    saved = client.post(
        "/api/v1/care/saved-replies",
        json={"name": "Hi", "body": "Hi {customer.handle}, {agent.name} here."},
        headers=headers,
    ).json()
    rendered = client.get(
        f"/api/v1/care/saved-replies/{saved['id']}/render?conversation_id={ids[0]}",
        headers=headers,
    ).json()
    assert rendered["text"].startswith("Hi @c0, agent ")  # the agent's name, "agent <n>"
    assert rendered["text"].endswith(" here.")
    customer_id = shown["customer"]["id"]
    history = client.get(f"/api/v1/care/customers/{customer_id}/conversations", headers=headers)
    assert [c["id"] for c in history.json()["items"]] == [ids[0]]

    # Other organizations see nothing.
    foreign = bearer(make_token(db, other_org))
    assert client.get(f"/api/v1/care/conversations/{ids[0]}", headers=foreign).status_code == 404
    assert client.get("/api/v1/care/conversations", headers=foreign).json()["items"] == []

    assigned = client.post(
        f"/api/v1/care/conversations/{ids[0]}/assign",
        json={"assignee_id": agent.actor.user_id},
        headers=headers,
    )
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["assignee"]["email"] == agent.email
    assert assigned.json()["status"] == "open"
    mine = client.get("/api/v1/care/conversations?view=mine", headers=headers).json()
    assert [c["id"] for c in mine["items"]] == [ids[0]]
    unassigned = client.get("/api/v1/care/conversations?view=unassigned", headers=headers).json()
    assert {c["id"] for c in unassigned["items"]} == {ids[1], ids[2]}

    owner_local = owner.email.split("@")[0]
    note = client.post(
        f"/api/v1/care/conversations/{ids[0]}/notes",
        json={"text": f"@{owner_local} can you approve a refund?"},
        headers=headers,
    )
    assert note.status_code == 201, note.text
    assert note.json()["mentioned_user_ids"] == [owner.actor.user_id]
    with db.reader() as session:
        kinds = session.scalars(
            select(Notification.kind).where(Notification.user_id == owner.actor.user_id)
        ).all()
    assert "care.mentioned" in kinds

    pending = client.post(
        f"/api/v1/care/conversations/{ids[0]}/status",
        json={"status": "pending_customer"},
        headers=headers,
    ).json()
    assert pending["paused_at"] is not None
    bad = client.post(
        f"/api/v1/care/conversations/{ids[0]}/status", json={"status": "later"}, headers=headers
    )
    assert bad.status_code == 422
    resolved = client.post(f"/api/v1/care/conversations/{ids[0]}/resolve", headers=headers).json()
    assert resolved["status"] == "resolved"
    assert resolved["sla_due_at"] is None
    open_ids = [
        c["id"] for c in client.get("/api/v1/care/conversations", headers=headers).json()["items"]
    ]
    assert ids[0] not in open_ids

    # A viewer reads but does not change.
    viewer_headers = bearer(make_token(db, viewer))
    assert client.get("/api/v1/care/conversations", headers=viewer_headers).status_code == 200
    refused = client.post(f"/api/v1/care/conversations/{ids[1]}/resolve", headers=viewer_headers)
    assert refused.status_code == 403


def test_setup_routes(db: Database, client: TestClient) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    headers = bearer(make_token(db, owner))
    team = client.post(
        "/api/v1/care/teams",
        json={
            "name": "EMEA",
            "timezone": "Europe/Berlin",
            "business_hours": "mon-fri 09:00-17:00",
            "holidays": ["2026-12-25"],
            "assignment": "load",
        },
        headers=headers,
    )
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    bad = client.post(
        "/api/v1/care/teams",
        json={"name": "Bad", "business_hours": "mon-fri 18:00-09:00"},
        headers=headers,
    )
    assert bad.status_code == 422
    assert "crosses midnight" in bad.json()["detail"]
    member = client.put(
        f"/api/v1/care/teams/{team_id}/members/{agent.email}",
        json={"capacity": 3, "languages": ["de", "en"]},
        headers=headers,
    )
    assert member.status_code == 200, member.text
    assert client.get(f"/api/v1/care/teams/{team_id}/members", headers=headers).json()[0][
        "languages"
    ] == ["de", "en"]
    policy = client.post(
        "/api/v1/care/sla-policies",
        json={
            "team": "EMEA",
            "min_priority": 70,
            "first_response_minutes": 15,
            "next_response_minutes": 15,
            "resolution_minutes": 240,
        },
        headers=headers,
    )
    assert policy.status_code == 200, policy.text
    rule = client.post(
        "/api/v1/care/rules",
        json={
            "name": "German to EMEA",
            "conditions": {"languages": ["de"]},
            "actions": {"team_id": team_id, "tags": ["de"]},
        },
        headers=headers,
    )
    assert rule.status_code == 201, rule.text
    assert (
        client.post(
            "/api/v1/care/rules",
            json={"name": "Bad", "conditions": {"colour": ["red"]}},
            headers=headers,
        ).status_code
        == 422
    )
    assert [r["name"] for r in client.get("/api/v1/care/rules", headers=headers).json()] == [
        "German to EMEA"
    ]
    saved = client.post(
        "/api/v1/care/saved-replies",
        json={"name": "Sorry", "shortcut": "sorry", "body": "Hi {customer.name}, sorry!"},
        headers=headers,
    )
    assert saved.status_code == 201, saved.text
    # An agent may not change rules.
    agent_headers = bearer(make_token(db, agent))
    assert (
        client.delete(f"/api/v1/care/rules/{rule.json()['id']}", headers=agent_headers).status_code
        == 403
    )
    assert (
        client.delete(f"/api/v1/care/rules/{rule.json()['id']}", headers=headers).status_code == 204
    )


def test_reply_through_the_api(
    db: Database,
    settings: Settings,
    client: TestClient,
    clock: FrozenClock,
    masto: MastodonServer,
) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    train(db, agent, T0)
    with db.unit_of_work() as session:
        sources.add_source(
            session,
            owner.actor,
            Vault.open(settings.data_dir),
            name="masto",
            connector="mastodon",
            options=_options(masto),
            secrets={"access_token": masto.token},
            clock=clock,
        )
    mention = add_mention(
        db, owner.actor.organization_id, external_id=POST, handle="@ana", created_at=T0
    )
    message = take(db, settings, mention, T0)
    assert message is not None
    headers = bearer(make_token(db, agent))
    url = f"/api/v1/care/conversations/{message.conversation_id}/replies"

    blocked = client.post(url, json={"text": "this is shit"}, headers=headers)
    assert blocked.status_code == 422
    assert blocked.json()["code"] == "reply_blocked"
    assert blocked.json()["findings"][0]["rule"] == "respect.profanity"

    too_long = client.post(url, json={"text": "x" * 501}, headers=headers)
    assert too_long.status_code == 422
    assert "allows 500" in too_long.json()["detail"]

    sent = client.post(url, json={"text": "@ana On its way!"}, headers=headers)
    assert sent.status_code == 201, sent.text
    assert sent.json()["delivery_status"] == "queued"
    message_id = sent.json()["id"]
    undone = client.post(f"/api/v1/care/messages/{message_id}/undo", headers=headers)
    assert undone.json()["delivery_status"] == "cancelled"
    again = client.post(url, json={"text": "@ana On its way!"}, headers=headers).json()
    clock.advance(timedelta(seconds=10))
    assert sending.send_due(db, clock, settings=settings) == 1
    shown = client.get(f"/api/v1/care/conversations/{message.conversation_id}", headers=headers)
    statuses = {m["id"]: m["delivery_status"] for m in shown.json()["messages"]}
    assert statuses[again["id"]] == "sent"
    assert masto.posted[-1]["in_reply_to_id"] == POST
    late = client.post(f"/api/v1/care/messages/{again['id']}/undo", headers=headers)
    assert late.status_code == 409
