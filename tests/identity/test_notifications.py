"""In-app notifications: scoped to the organization and the person, unread count in the top
bar, marking read one or all, pagination."""

from __future__ import annotations

from fastapi.testclient import TestClient

from groundswell.identity import notifications
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import csrf_from, login, make_org, make_user


def test_notify_reaches_members_only_and_counts_unread(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db, "Acme")
    agent = make_user(db, owner, Role.CONTRIBUTOR)
    stranger = make_org(db, "Other")
    with db.unit_of_work() as session:
        added = notifications.notify(
            session,
            organization_id=owner.actor.organization_id,
            user_ids=[agent.actor.user_id, agent.actor.user_id, stranger.actor.user_id],
            kind="care.sla_warning",
            title="SLA at 75% on a complaint",
            link="/care",
            now=clock.now(),
        )
    assert added == 1  # the duplicate and the other organization's owner are skipped
    with db.reader() as session:
        assert notifications.unread_count(session, agent.actor.user_id) == 1
        assert notifications.unread_count(session, stranger.actor.user_id) == 0


def test_off_site_links_are_dropped(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db, "Acme")
    with db.unit_of_work() as session:
        notifications.notify(
            session,
            organization_id=owner.actor.organization_id,
            user_ids=[owner.actor.user_id],
            kind="x",
            title="t",
            link="https://evil.example/phish",
            now=clock.now(),
        )
        items, _ = notifications.list_for(session, owner.actor)
    assert items[0].link is None


def test_page_lists_marks_read_and_shows_count(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db, "Acme")
    with db.unit_of_work() as session:
        for i in range(3):
            notifications.notify(
                session,
                organization_id=owner.actor.organization_id,
                user_ids=[owner.actor.user_id],
                kind="governance.approval_requested",
                title=f"Approval {i} waits for you",
                now=clock.now(),
            )
    login(client, owner)
    page = client.get("/notifications")
    assert page.status_code == 200
    assert "Approval 2 waits for you" in page.text
    assert 'aria-label="3 unread"' in page.text
    done = client.post(
        "/notifications/read", data={"csrf_token": csrf_from(page.text)}, follow_redirects=True
    )
    assert done.status_code == 200
    assert "unread" not in done.text.split("<main", 1)[0]
    with db.reader() as session:
        assert notifications.unread_count(session, owner.actor.user_id) == 0


def test_mark_read_needs_csrf(client: TestClient, db: Database) -> None:
    owner = make_org(db, "Acme")
    login(client, owner)
    assert client.post("/notifications/read").status_code == 403


def test_empty_state(client: TestClient, db: Database) -> None:
    owner = make_org(db, "Acme")
    login(client, owner)
    assert "Nothing yet" in client.get("/notifications").text
