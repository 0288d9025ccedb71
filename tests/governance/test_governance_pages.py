"""Pages of coordination: the model picker, units, the approvals queue (TestClient)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from groundswell.governance import service
from groundswell.governance.domain import CoordinationModel
from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import Person, csrf_from, login, make_org, make_user
from tests.governance.gov_helpers import add_unit, ask, join, trained_user

CC = CoordinationModel.COMMAND_AND_CONTROL


def _model(db: Database, person: Person) -> CoordinationModel:
    with db.reader() as session:
        return service.current_model(session, person.actor.organization_id)


def test_model_page_explains_and_an_owner_saves(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    login(client, owner)
    page = client.get("/governance/model")
    assert page.status_code == 200
    assert 'Current model: <span id="current-model">Empowered Units' in page.text
    assert 'type="radio" id="model-command_and_control"' in page.text
    assert ">Save</button>" in page.text
    assert "Units</a>" in page.text
    assert "Approvals</a>" in page.text
    # The table of the chosen model, also alone for htmx.
    table = client.get("/governance/model/table", params={"model": CC.value})
    assert "What Command &amp; Control changes" in table.text
    assert "<html" not in table.text
    saved = client.post(
        "/governance/model",
        data={"model": CC.value, "csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )
    assert "The coordination model is now Command &amp; Control" in saved.text
    assert _model(db, owner) is CC


def test_model_page_admin_asks_an_owner_and_others_cannot(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    admin = make_user(db, owner, Role.ADMIN)
    agent = make_user(db, owner, Role.AGENT)
    login(client, agent)
    page = client.get("/governance/model")
    assert "<fieldset disabled>" in page.text
    refused = client.post(
        "/governance/model", data={"model": CC.value, "csrf_token": csrf_from(page.text)}
    )
    assert refused.status_code == 403
    client.cookies.clear()
    login(client, admin)
    page = client.get("/governance/model")
    sent = client.post(
        "/governance/model",
        data={"model": CC.value, "csrf_token": csrf_from(page.text)},
        follow_redirects=True,
    )
    assert "Sent to an owner for approval" in sent.text
    assert _model(db, owner) is CoordinationModel.EMPOWERED_UNITS


def test_model_post_needs_csrf(client: TestClient, db: Database) -> None:
    login(client, make_org(db))
    assert client.post("/governance/model", data={"model": CC.value}).status_code == 403


def test_units_page_add_unit_and_member(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    login(client, owner)
    page = client.get("/governance/units")
    assert "works as one team" in page.text
    token = csrf_from(page.text)
    made = client.post(
        "/governance/units",
        data={"name": "Social team", "kind": "hub", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Hub Social team added (key hub)" in made.text
    added = client.post(
        "/governance/units/hub/members",
        data={"user": agent.email, "role": "agent", "csrf_token": token},
        follow_redirects=True,
    )
    assert f"{agent.email} is agent in hub" in added.text
    assert "works as one team" not in added.text
    too_high = client.post(
        "/governance/units/hub/members",
        data={"user": agent.email, "role": "manager", "csrf_token": token},
    )
    assert too_high.status_code == 422
    assert "never exceeds" in too_high.text
    removed = client.post(
        "/governance/units/hub/members/remove",
        data={"user": agent.email, "csrf_token": token},
        follow_redirects=True,
    )
    assert f"{agent.email} left hub" in removed.text


def test_units_page_is_read_only_for_members(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    add_unit(db, owner, "north", UnitKind.REGION, clock.now())
    login(client, agent)
    page = client.get("/governance/units")
    assert "North" in page.text
    assert "Add member" not in page.text
    assert "Add a unit" not in page.text


def _cc_request(db: Database, clock: FrozenClock) -> tuple[Person, Person, Person, str]:
    now = clock.now()
    owner = make_org(db)
    manager = trained_user(db, owner, Role.MANAGER, now)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    add_unit(db, owner, "hub", UnitKind.HUB, now)
    join(db, owner, "hub", manager, Role.MANAGER, now)
    join(db, owner, "hub", contributor, Role.CONTRIBUTOR, now)
    with db.unit_of_work() as session:
        service.set_model(session, owner.actor, CC, now=now)
    return owner, manager, contributor, ask(db, contributor, now, text="Sorry about that!")


def test_approvals_queue_approve_with_htmx(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    _owner, manager, contributor, request_id = _cc_request(db, clock)
    login(client, contributor)
    mine = client.get("/governance/approvals", params={"box": "mine"})
    assert "Reply: Sorry about that!" in mine.text
    assert ">Approve</button>" not in mine.text  # never on your own request
    assert "Withdraw request" in mine.text
    assert ">Approve</button>" not in client.get(f"/governance/approvals/{request_id}").text
    client.cookies.clear()
    login(client, manager)
    queue = client.get("/governance/approvals")
    assert queue.status_code == 200
    assert re.search(r'aria-label="1 waiting"', queue.text)
    assert ">Approve</button>" in queue.text
    assert ">Reject</button>" in queue.text
    done = client.post(
        f"/governance/approvals/{request_id}/approve",
        data={"comment": "Fine", "csrf_token": csrf_from(queue.text)},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    assert "<html" not in done.text
    assert "approved" in done.text
    assert "“Fine”" in done.text
    empty = client.get("/governance/approvals")
    assert "Nothing waits for your approval" in empty.text
    decided = client.get("/governance/approvals", params={"box": "decided"})
    assert "Reply: Sorry about that!" in decided.text


def test_reject_without_comment_is_explained(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    _owner, manager, _contributor, request_id = _cc_request(db, clock)
    login(client, manager)
    page = client.get(f"/governance/approvals/{request_id}")
    token = csrf_from(page.text)
    plain = client.post(
        f"/governance/approvals/{request_id}/reject", data={"comment": "", "csrf_token": token}
    )
    assert plain.status_code == 422
    assert "Say why you reject it" in plain.text
    htmx = client.post(
        f"/governance/approvals/{request_id}/reject",
        data={"comment": "", "csrf_token": token},
        headers={"HX-Request": "true"},
    )
    assert htmx.status_code == 422
    assert "Say why you reject it" in htmx.text
    rejected = client.post(
        f"/governance/approvals/{request_id}/reject",
        data={"comment": "Wrong tone", "csrf_token": token},
        follow_redirects=True,
    )
    assert "Rejected. The requester has been told why." in rejected.text


def test_other_people_cannot_open_a_request(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner, _manager, _contributor, request_id = _cc_request(db, clock)
    bystander = trained_user(db, owner, Role.AGENT, clock.now())
    login(client, bystander)
    assert client.get(f"/governance/approvals/{request_id}").status_code == 404
