"""`POST /care/conversations/from-mention/{id}` (the mention page's "Open a care conversation")
and its API twin, on both databases."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from groundswell.care.from_mention import AUDIT_ACTION
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.tables import AuditEntry
from tests.builders import Person, bearer, login, make_org, make_token, make_user
from tests.care.care_helpers import add_mention


def _csrf(client: TestClient) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/care").text)
    assert found
    return found.group(1)


def _post(client: TestClient, mention_id: int, csrf: str | None) -> str:
    data = {"csrf_token": csrf} if csrf else {}
    answer = client.post(
        f"/care/conversations/from-mention/{mention_id}", data=data, follow_redirects=False
    )
    return f"{answer.status_code} {answer.headers.get('location', '')}"


def _count(db: Database, stmt: object) -> int:
    with db.reader() as session:
        return int(session.scalar(stmt) or 0)  # type: ignore[call-overload]  # a select


def test_opens_once_then_leads_to_the_same_conversation(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    # An old post with no complaint: routing alone would leave it in listening.
    mention = add_mention(
        db, org, text="Nice plane", labels=[], priority=0, sentiment="positive",
        created_at=clock.now() - timedelta(days=30),
    )  # fmt: skip
    login(client, owner)
    csrf = _csrf(client)

    first = _post(client, mention.id, csrf)
    second = _post(client, mention.id, csrf)

    assert first.startswith("303 /care/conversations/")
    assert second == first
    conversation_id = first.rsplit("/", 1)[1]
    assert _count(db, select(func.count()).select_from(CareConversation)) == 1
    held = select(func.count()).where(CareMessage.mention_id == mention.id)
    assert _count(db, held) == 1
    audited = select(func.count()).where(
        AuditEntry.action == AUDIT_ACTION, AuditEntry.object_id == conversation_id
    )
    assert _count(db, audited) == 1  # the second post changed nothing


def test_refusals(app: FastAPI, client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    other = make_org(db, name="Other")
    viewer = make_user(db, owner, Role.VIEWER)
    theirs = add_mention(db, other.actor.organization_id, created_at=clock.now())
    ours = add_mention(db, owner.actor.organization_id, created_at=clock.now())
    login(client, owner)
    csrf = _csrf(client)

    assert _post(client, theirs.id, csrf).startswith("404")  # another organization's
    assert _post(client, 987654, csrf).startswith("404")
    assert _post(client, ours.id, None).startswith("403")  # no CSRF token
    assert _post(client, ours.id, "forged").startswith("403")
    with TestClient(app, base_url="http://testserver") as as_viewer:
        login(as_viewer, viewer)
        assert _post(as_viewer, ours.id, _csrf(as_viewer)).startswith("403")  # not in care
    assert _count(db, select(func.count()).select_from(CareMessage)) == 0


def test_api_twin(client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    other: Person = make_org(db, name="Other")
    mention = add_mention(db, owner.actor.organization_id, created_at=clock.now())
    theirs = add_mention(db, other.actor.organization_id, created_at=clock.now())
    auth = bearer(make_token(db, owner))
    url = "/api/v1/care/conversations/from-mention/{}"

    first = client.post(url.format(mention.id), headers=auth)
    again = client.post(url.format(mention.id), headers=auth)

    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert client.post(url.format(theirs.id), headers=auth).status_code == 404
