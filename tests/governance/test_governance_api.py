"""JSON API of coordination: model, units, authorize, approvals; scopes and isolation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role, Scope
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import bearer, make_org, make_token, make_user
from tests.governance.gov_helpers import add_unit, ask, join, trained_user

API = "/api/v1/governance"


def test_model_get_and_put(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    auth = bearer(make_token(db, owner))
    got = client.get(f"{API}/model", headers=auth).json()
    assert (got["model"], got["crisis_mode"]) == ("empowered_units", False)
    put = client.put(f"{API}/model", json={"model": "decentralized"}, headers=auth)
    assert put.status_code == 200
    assert put.json()["applied"] is True
    assert put.json()["settings"]["model"] == "decentralized"
    # An admin's change waits for an owner: 202 with the request.
    asked = client.put(
        f"{API}/model", json={"model": "command_and_control"}, headers=bearer(make_token(db, admin))
    )
    assert asked.status_code == 202
    request_id = asked.json()["approval_request_id"]
    assert asked.json()["applied"] is False
    approved = client.post(f"{API}/approvals/{request_id}/approve", json={}, headers=auth)
    assert approved.json()["status"] == "approved"
    assert client.get(f"{API}/model", headers=auth).json()["model"] == "command_and_control"


def test_scopes_are_enforced(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    read_only = bearer(make_token(db, owner, [Scope.READ]))
    assert client.get(f"{API}/model", headers=read_only).status_code == 200
    refused = client.put(f"{API}/model", json={"model": "decentralized"}, headers=read_only)
    assert refused.status_code == 403
    assert (
        client.post(
            f"{API}/units", json={"name": "Hub", "kind": "hub"}, headers=read_only
        ).status_code
        == 403
    )
    assert client.get(f"{API}/model").status_code == 401


def test_units_round_trip(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    auth = bearer(make_token(db, owner))
    made = client.post(f"{API}/units", json={"name": "North", "kind": "region"}, headers=auth)
    assert made.status_code == 201
    assert made.json()["key"] == "north"
    member = client.put(
        f"{API}/units/north/members/{agent.email}", json={"role": "agent"}, headers=auth
    )
    assert member.status_code == 200
    assert [m["email"] for m in member.json()["members"]] == [agent.email]
    too_high = client.put(
        f"{API}/units/north/members/{agent.email}", json={"role": "manager"}, headers=auth
    )
    assert too_high.status_code == 422
    assert too_high.headers["content-type"].startswith("application/problem+json")
    assert (
        client.delete(f"{API}/units/north/members/{agent.email}", headers=auth).status_code == 204
    )
    assert client.delete(f"{API}/units/north", headers=auth).status_code == 204
    assert client.get(f"{API}/units", headers=auth).json() == []
    other = bearer(make_token(db, make_org(db, "Globex")))
    client.post(f"{API}/units", json={"name": "South", "kind": "region"}, headers=auth)
    assert client.get(f"{API}/units", headers=other).json() == []
    assert client.delete(f"{API}/units/south", headers=other).status_code == 404


def test_authorize_endpoint(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    auth = bearer(make_token(db, owner))
    ok = client.post(f"{API}/authorize", json={"action": "publish", "text": "Hello"}, headers=auth)
    assert ok.status_code == 200
    assert ok.json()["decision"] == {
        "allowed": True,
        "approvals_needed": 0,
        "reason": "Owners and admins may speak on every brand account.",
    }
    blocked = client.post(
        f"{API}/authorize",
        json={"action": "publish", "text": "card 4111 1111 1111 1111"},
        headers=auth,
    ).json()
    assert blocked["decision"]["allowed"] is False
    assert blocked["findings"][0]["severity"] == "block"


def test_approvals_queue_approve_reject(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    now = clock.now()
    owner = make_org(db)
    manager = trained_user(db, owner, Role.MANAGER, now)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    add_unit(db, owner, "hub", UnitKind.HUB, now)
    join(db, owner, "hub", manager, Role.MANAGER, now)
    join(db, owner, "hub", contributor, Role.CONTRIBUTOR, now)
    client.put(
        f"{API}/model", json={"model": "command_and_control"}, headers=bearer(make_token(db, owner))
    )
    first = ask(db, contributor, now, subject_id="a")
    second = ask(db, contributor, now, subject_id="b")
    m_auth = bearer(make_token(db, manager))
    c_auth = bearer(make_token(db, contributor))
    queue = client.get(f"{API}/approvals", headers=m_auth).json()
    assert {i["id"] for i in queue["items"]} == {first, second}
    assert all(i["can_decide"] for i in queue["items"])
    own = client.post(f"{API}/approvals/{first}/approve", json={}, headers=c_auth)
    assert own.status_code == 403
    assert "own request" in own.json()["detail"]
    assert (
        client.post(
            f"{API}/approvals/{first}/approve", json={"comment": "ok"}, headers=m_auth
        ).json()["status"]
        == "approved"
    )
    no_reason = client.post(f"{API}/approvals/{second}/reject", json={}, headers=m_auth)
    assert no_reason.status_code == 422
    rejected = client.post(
        f"{API}/approvals/{second}/reject", json={"comment": "No"}, headers=m_auth
    )
    assert rejected.json()["status"] == "rejected"
    again = client.post(f"{API}/approvals/{second}/approve", json={}, headers=m_auth)
    assert again.status_code == 409
    mine = client.get(f"{API}/approvals", params={"box": "mine", "limit": 1}, headers=c_auth).json()
    assert len(mine["items"]) == 1
    assert mine["next_cursor"]
    rest = client.get(
        f"{API}/approvals", params={"box": "mine", "cursor": mine["next_cursor"]}, headers=c_auth
    ).json()
    assert {mine["items"][0]["id"], rest["items"][0]["id"]} == {first, second}
    other = bearer(make_token(db, make_org(db, "Globex")))
    assert client.get(f"{API}/approvals/{first}", headers=other).status_code == 404
