"""CSAT: the rating link of a resolved conversation, the public one-click page (no sign-in,
once), and results by agent, team and source."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.care import csat
from groundswell.care.tables import CareConversation, CareCsat
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound
from groundswell.kernel.tables import AuditEntry
from tests.builders import Person, make_org, make_user
from tests.care.page_data import make_conversation, make_team


def _issue(db: Database, person: Person, conversation_id: str, clock: FrozenClock) -> str:
    with db.unit_of_work() as session:
        conversation = session.get(CareConversation, conversation_id)
        assert conversation is not None
        return csat.issue_link(session, person.actor, conversation, clock=clock)


def test_a_link_only_for_resolved_conversations(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    open_one = make_conversation(db, owner, now=clock.now())
    resolved = make_conversation(
        db, owner, now=clock.now(), status="resolved", resolved_after=timedelta(minutes=5)
    )

    with pytest.raises(Conflict, match="resolved"):
        _issue(db, owner, open_one, clock)
    token = _issue(db, owner, resolved, clock)

    with db.reader() as session:
        stored = session.get(CareConversation, resolved)
        audited = session.scalars(select(AuditEntry.action)).all()
    assert stored is not None
    assert stored.csat_token == token
    assert len(token) >= 40
    assert "care.csat_link_issued" in audited


def test_another_organization_cannot_issue_a_link(db: Database, clock: FrozenClock) -> None:
    owner, stranger = make_org(db), make_org(db, "Other")
    resolved = make_conversation(db, owner, now=clock.now(), status="resolved")

    with pytest.raises(NotFound):
        _issue(db, stranger, resolved, clock)


def test_rate_once_with_a_comment(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    resolved = make_conversation(db, owner, now=clock.now(), status="resolved")
    token = _issue(db, owner, resolved, clock)

    with db.unit_of_work() as session:
        csat.rate(session, token, 4, "  Quick and kind  ", clock=clock)
    with db.unit_of_work() as session, pytest.raises(Conflict, match="already"):
        csat.rate(session, token, 1, "", clock=clock)
    with db.unit_of_work() as session, pytest.raises(InvalidInput):
        csat.rate(session, token, 6, "", clock=clock)
    with db.unit_of_work() as session, pytest.raises(NotFound):
        csat.rate(session, "not-a-token", 5, "", clock=clock)

    with db.reader() as session:
        answers = session.scalars(select(CareCsat)).all()
        page = csat.rating_page(session, token)
    assert [(a.rating, a.comment) for a in answers] == [(4, "Quick and kind")]
    assert page.already_rated
    assert page.rating == 4


def test_a_new_link_replaces_the_old_one(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    resolved = make_conversation(db, owner, now=clock.now(), status="resolved")
    old = _issue(db, owner, resolved, clock)
    new = _issue(db, owner, resolved, clock)

    with db.reader() as session:
        with pytest.raises(NotFound):
            csat.rating_page(session, old)
        assert not csat.rating_page(session, new).already_rated


def test_results_by_agent_team_and_source(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    team = make_team(db, owner, "Care EN", clock.now())
    ratings: list[tuple[str | None, str | None, str, int]] = [
        (ari.actor.user_id, team, "mastodon", 5),
        (ari.actor.user_id, team, "bluesky", 3),
    ]
    ratings.append((None, None, "mastodon", 4))
    for assignee, team_id, source, rating in ratings:
        conversation = make_conversation(
            db,
            owner,
            now=clock.now(),
            status="resolved",
            assignee_id=assignee,
            team_id=team_id,
            source=source,
            handle=f"@c{rating}",
        )
        token = _issue(db, owner, conversation, clock)
        with db.unit_of_work() as session:
            csat.rate(session, token, rating, f"rated {rating}", clock=clock)

    with db.reader() as session:
        found = csat.results(
            session,
            owner.actor,
            start=clock.now() - timedelta(days=1),
            end=clock.now() + timedelta(seconds=1),
        )
        elsewhere = csat.results(
            session,
            make_org(db, "Else").actor,
            start=clock.now() - timedelta(days=1),
            end=clock.now() + timedelta(seconds=1),
        )

    assert found.overall.responses == 3
    assert found.overall.average == pytest.approx(4.0)
    assert found.overall.satisfied_share == pytest.approx(2 / 3)
    assert [(s.label, s.responses, s.average) for s in found.by_agent] == [
        (ari.email.split("@")[0].replace("agent", "agent "), 2, 4.0),
        ("Unassigned", 1, 4.0),
    ]
    assert [(s.label, s.responses) for s in found.by_team] == [("Care EN", 2), ("No team", 1)]
    assert [(s.label, s.responses) for s in found.by_source] == [("mastodon", 2), ("bluesky", 1)]
    assert len(found.recent_comments) == 3
    assert elsewhere.overall.responses == 0


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_public_page_rates_in_one_click_without_sign_in(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db, "Acme Air")
    resolved = make_conversation(db, owner, now=clock.now(), status="resolved")
    token = _issue(db, owner, resolved, clock)

    page = client.get(f"/csat/{token}")
    assert page.status_code == 200
    assert "How did we do?" in page.text
    assert "Acme Air" in page.text
    assert "traveller" not in page.text.lower()  # nothing about the customer or the thread
    answer = client.post(
        f"/csat/{token}", data={"rating": "5", "comment": "Great", "csrf_token": _csrf(page.text)}
    )
    again = client.get(f"/csat/{token}")
    second = client.post(f"/csat/{token}", data={"rating": "1", "csrf_token": _csrf(page.text)})

    assert answer.status_code == 200
    assert "Thank you" in answer.text
    assert "You already rated this conversation 5 out of 5" in again.text
    assert "already have your rating" in second.text
    with db.reader() as session:
        assert session.scalars(select(CareCsat.rating)).all() == [5]


def test_public_page_refuses_a_bad_token_and_a_missing_csrf(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    resolved = make_conversation(db, owner, now=clock.now(), status="resolved")
    token = _issue(db, owner, resolved, clock)

    bad = client.get("/csat/nope")
    forged = client.post(f"/csat/{token}", data={"rating": "5"})

    assert bad.status_code == 404
    assert "This link does not work" in bad.text
    assert forged.status_code == 403
    with db.reader() as session:
        assert session.scalars(select(CareCsat)).all() == []
