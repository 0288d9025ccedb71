"""The care inbox and conversation pages through the test client (both databases)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.care import presence
from groundswell.care.pages import snooze_until
from groundswell.care.tables import CareConversation, CareMessage
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import Person, login, make_org, make_user
from tests.care.page_data import (
    add_reply_source,
    add_saved_reply,
    make_conversation,
    make_team,
)

HX = {"HX-Request": "true"}


def _csrf(html: str) -> str:
    found = re.search(r'"X-CSRF-Token": "([^"]+)"', html)
    assert found, "the page carries its CSRF token for htmx"
    return found.group(1)


def _signed_in(client: TestClient, person: Person) -> dict[str, str]:
    login(client, person)
    return {"X-CSRF-Token": _csrf(client.get("/care").text)}


def _get(db: Database, conversation_id: str) -> CareConversation:
    with db.reader() as session:
        row = session.get(CareConversation, conversation_id)
        assert row is not None
        return row


def test_inbox_lists_conversations_with_sla_timers_and_keys(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    now = clock.now()
    late = make_conversation(db, owner, now=now, handle="@late", due_in=timedelta(minutes=-5))
    soon = make_conversation(db, owner, now=now, handle="@soon", due_in=timedelta(minutes=3))
    calm = make_conversation(db, owner, now=now, handle="@calm", due_in=timedelta(hours=5))
    login(client, owner)

    page = client.get("/care")

    assert page.status_code == 200
    html = page.text
    assert '<script src="/static/care.js" defer></script>' in html
    assert "data-inbox" in html
    for cid in (late, soon, calm):
        assert f'id="row-{cid}"' in html
    assert re.search(rf'id="row-{late}".*?class="sla sla-breach"', html, re.S)
    assert re.search(rf'id="row-{soon}".*?class="sla sla-warn"', html, re.S)
    assert re.search(rf'id="row-{calm}".*?class="sla sla-ok"', html, re.S)
    assert "breached 5 min ago" in html
    assert "Keyboard shortcuts" in html
    assert 'data-key="a"' in html
    assert 'data-key="e"' in html
    assert 'data-key="s"' in html
    assert f'data-server-now="{now.isoformat()}"' in html


def test_views_search_and_empty_states(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    now = clock.now()
    team = make_team(db, owner, "Care FR", now)
    mine = make_conversation(db, owner, now=now, handle="@mine", assignee_id=owner.actor.user_id)
    other = make_conversation(db, owner, now=now, handle="@ari", assignee_id=ari.actor.user_id)
    nobody = make_conversation(
        db, owner, now=now, handle="@nobody", team_id=team, text="Where is my refund?"
    )
    breaching = make_conversation(
        db, owner, now=now, handle="@far", due_in=timedelta(hours=9), text="Lost bag at MAD"
    )
    login(client, owner)

    def ids(url: str) -> set[str]:
        return set(re.findall(r'data-conversation-row data-id="([^"]+)"', client.get(url).text))

    assert ids("/care?view=mine") == {mine}
    assert ids("/care?view=unassigned") == {nobody, breaching}
    assert ids(f"/care?view=team:{team}") == {nobody}
    assert ids("/care?view=breaching") == {mine, other, nobody}
    assert ids("/care?q=refund") == {nobody}
    assert ids("/care?status=resolved") == set()
    assert "Care FR" in client.get("/care").text
    assert "No conversation matches" in client.get("/care?q=zzzz").text
    assert "Nothing assigned to you" in client.get("/care?view=mine&status=resolved").text


def test_empty_inbox_says_so(client: TestClient, db: Database) -> None:
    login(client, make_org(db))

    page = client.get("/care")

    assert page.status_code == 200
    assert "Inbox zero" in page.text


def test_pagination_walks_every_conversation_once(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    made = {
        make_conversation(db, owner, now=clock.now(), handle=f"@c{i}", age=timedelta(minutes=i + 1))
        for i in range(30)
    }
    login(client, owner)

    seen: list[str] = []
    url: str | None = "/care"
    while url:
        html = client.get(url).text
        seen += re.findall(r'data-conversation-row data-id="([^"]+)"', html)
        nxt = re.search(r'href="([^"]+)" rel="next"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else None

    assert len(seen) == 30
    assert set(seen) == made


def test_row_actions_answer_htmx_with_the_row(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    headers = _signed_in(client, owner) | HX | {"HX-Target": f"row-{cid}"}

    took = client.post(
        f"/care/conversations/{cid}/assign", data={"assignee_id": "me"}, headers=headers
    )
    assert took.status_code == 200
    assert took.text.lstrip().startswith(f'<li id="row-{cid}"')
    assert _get(db, cid).assignee_id == owner.actor.user_id

    snoozed = client.post(
        f"/care/conversations/{cid}/status",
        data={"status": "snoozed", "snooze": "4h"},
        headers=headers,
    )
    assert "Snoozed" in snoozed.text
    assert _get(db, cid).snoozed_until == clock.now() + timedelta(hours=4)

    resolved = client.post(
        f"/care/conversations/{cid}/status", data={"status": "resolved"}, headers=headers
    )
    assert "Resolved" in resolved.text
    assert 'data-key="e"' not in resolved.text
    assert _get(db, cid).status == "resolved"


def test_actions_refuse_without_csrf_and_across_organizations(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    stranger = make_org(db, "Other")
    cid = make_conversation(db, owner, now=clock.now())

    login(client, owner)
    forged = client.post(f"/care/conversations/{cid}/assign", data={"assignee_id": "me"})
    assert forged.status_code == 403

    client.cookies.clear()
    headers = _signed_in(client, stranger)
    assert client.get(f"/care/conversations/{cid}").status_code == 404
    assert (
        client.post(
            f"/care/conversations/{cid}/assign", data={"assignee_id": "me"}, headers=headers
        ).status_code
        == 404
    )
    assert _get(db, cid).assignee_id is None


def test_conversation_page_shows_thread_profile_triage_and_saved_replies(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    now = clock.now()
    cid = make_conversation(db, owner, now=now, handle="@ana", priority=82)
    make_conversation(db, owner, now=now, handle="@ana", text="Earlier: my seat was broken")
    add_saved_reply(db, owner, now, "Apology", "Sorry {customer.name}, we are on it.")
    add_reply_source(db, owner, now)
    login(client, owner)

    page = client.get(f"/care/conversations/{cid}")

    assert page.status_code == 200
    html = page.text
    assert "My flight was cancelled" in html
    assert "Priority <strong>82</strong>" in html
    assert "Sorry Ana, we are on it." in html  # the variable is filled in
    assert 'id="reply-text"' in html
    assert f'hx-post="/care/conversations/{cid}/presence"' in html
    assert 'hx-trigger="load, every 2s, beat"' in html
    assert "data-conversation-page" in html


def test_live_policy_check_reports_findings_and_the_decision(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    add_reply_source(db, owner, clock.now())
    headers = _signed_in(client, owner) | HX

    fine = client.post(
        f"/care/conversations/{cid}/check",
        data={"text": "Sorry about that, we are rebooking you now."},
        headers=headers,
    )
    long = client.post(
        f"/care/conversations/{cid}/check", data={"text": "x" * 600}, headers=headers
    )
    empty = client.post(f"/care/conversations/{cid}/check", data={"text": ""}, headers=headers)

    assert "Ready to send." in fine.text
    assert "600 / 500 characters" in long.text
    assert "too-long" in long.text
    assert "runs as you type" in empty.text


def test_policy_check_shows_blocking_findings(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    add_reply_source(db, owner, clock.now())
    headers = _signed_in(client, owner) | HX

    blocked = client.post(
        f"/care/conversations/{cid}/check",
        data={"text": "Send your credit card number 4111 1111 1111 1111 to us"},
        headers=headers,
    )

    warned = client.post(
        f"/care/conversations/{cid}/check",
        data={"text": "We guarantee a full refund"},
        headers=headers,
    )

    assert blocked.status_code == 200
    assert "<strong>Blocked:</strong>" in blocked.text
    assert '<mark class="finding-block">4111 1111 1111 1111</mark>' in blocked.text
    assert "<strong>Needs approval:</strong> 1 approval" in warned.text
    assert '<mark class="finding-warn">guarantee</mark>' in warned.text


def test_reply_queues_with_undo_then_undo_cancels(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    add_reply_source(db, owner, clock.now())
    headers = _signed_in(client, owner) | HX

    sent = client.post(
        f"/care/conversations/{cid}/replies",
        data={"text": "We rebooked you on the 18:05, sorry for the trouble."},
        headers=headers,
    )

    assert sent.status_code == 200
    assert "Sending…" in sent.text
    assert "data-undo-until" in sent.text
    assert 'hx-trigger="every 3s"' in sent.text  # the thread polls while the reply is on its way
    # The state under the title follows: replying opened the conversation and took it.
    status_line = sent.text[sent.text.index('id="conv-status" hx-swap-oob="true"') :]
    assert "Open" in status_line.split("</p>")[0]
    assert "Assigned to" in status_line.split("</p>")[0]
    with db.reader() as session:
        reply = session.scalars(
            select(CareMessage).where(CareMessage.direction == "outbound")
        ).one()
    assert reply.delivery_status == "queued"

    undone = client.post(f"/care/messages/{reply.id}/undo", headers=headers)
    assert "Not sent (undone)" in undone.text
    with db.reader() as session:
        assert session.get(CareMessage, reply.id).delivery_status == "cancelled"  # type: ignore[union-attr]


def test_reply_error_keeps_the_draft(client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())  # no source configured to reply through
    headers = _signed_in(client, owner) | HX

    answer = client.post(
        f"/care/conversations/{cid}/replies", data={"text": "Draft kept"}, headers=headers
    )

    assert answer.status_code == 200
    assert "Draft kept</textarea>" in answer.text
    assert "No configured source" in answer.text


def test_presence_heartbeat_tells_who_is_replying(
    client: TestClient, db: Database, clock: FrozenClock, app: object
) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    cid = make_conversation(db, owner, now=clock.now())
    owner_headers = _signed_in(client, owner) | HX

    with TestClient(app, base_url="http://testserver") as other:  # type: ignore[arg-type]
        ari_headers = _signed_in(other, ari) | HX
        other.post(f"/care/conversations/{cid}/presence", data={"typing": "1"}, headers=ari_headers)
        seen = client.post(
            f"/care/conversations/{cid}/presence", data={"typing": "0"}, headers=owner_headers
        )
        seen_by_ari = other.post(
            f"/care/conversations/{cid}/presence", data={"typing": "0"}, headers=ari_headers
        )

    assert "is replying" in seen.text
    assert 'id="collision" hx-swap-oob="true"' in seen.text
    assert "Check with them before you send" in seen.text
    assert "is viewing" in seen_by_ari.text
    assert "Check with them" not in seen_by_ari.text


def test_notes_and_status_forms_redirect_back(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    headers = _signed_in(client, owner)

    note = client.post(
        f"/care/conversations/{cid}/notes",
        data={"text": "Customer is a frequent flyer"},
        headers=headers,
        follow_redirects=False,
    )
    pending = client.post(
        f"/care/conversations/{cid}/status",
        data={"status": "pending_customer", "back": f"/care/conversations/{cid}"},
        headers=headers,
        follow_redirects=False,
    )
    snoozed = client.post(
        f"/care/conversations/{cid}/snooze",
        data={"until": "tomorrow"},
        headers=headers,
        follow_redirects=False,
    )

    assert note.status_code == pending.status_code == snoozed.status_code == 303
    assert pending.headers["location"] == f"/care/conversations/{cid}"
    page = client.get(f"/care/conversations/{cid}").text
    assert "Customer is a frequent flyer" in page
    assert "Internal note" in page
    assert _get(db, cid).status == "snoozed"


def test_resolved_conversation_offers_the_rating_link(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    headers = _signed_in(client, owner)

    client.post(f"/care/conversations/{cid}/status", data={"status": "resolved"}, headers=headers)
    page = client.get(f"/care/conversations/{cid}").text
    link = re.search(r"http://testserver/csat/([\w-]+)", page)

    assert link
    assert client.get(f"/csat/{link.group(1)}").status_code == 200
    client.post(f"/care/conversations/{cid}/csat-link", headers=headers)
    assert client.get(f"/csat/{link.group(1)}").status_code == 404


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("1h", datetime(2026, 1, 7, 16, 30, tzinfo=UTC)),
        ("4h", datetime(2026, 1, 7, 19, 30, tzinfo=UTC)),
        ("tomorrow", datetime(2026, 1, 8, 8, 0, tzinfo=UTC)),  # 09:00 in Paris
        ("next_week", datetime(2026, 1, 12, 8, 0, tzinfo=UTC)),  # Monday
    ],
)
def test_snooze_choices(choice: str, expected: datetime) -> None:
    now = datetime(2026, 1, 7, 15, 30, tzinfo=UTC)  # a Wednesday

    assert snooze_until(choice, now, "Europe/Paris") == expected


def test_failed_reply_shows_the_reason_and_retries(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    cid = make_conversation(db, owner, now=clock.now())
    add_reply_source(db, owner, clock.now())
    headers = _signed_in(client, owner) | HX
    client.post(f"/care/conversations/{cid}/replies", data={"text": "On it!"}, headers=headers)
    with db.unit_of_work() as session:
        reply = session.scalars(
            select(CareMessage).where(CareMessage.direction == "outbound")
        ).one()
        reply.delivery_status = "failed"
        reply.error = "The instance answered 503 Service Unavailable."
        reply_id = reply.id

    page = client.get(f"/care/conversations/{cid}")
    assert "Failed" in page.text
    assert "503 Service Unavailable" in page.text
    assert f'hx-post="/care/messages/{reply_id}/retry"' in page.text

    retried = client.post(f"/care/messages/{reply_id}/retry", headers=headers)

    assert retried.status_code == 200
    assert "Sending…" in retried.text
    with db.reader() as session:
        again = session.get(CareMessage, reply_id)
        assert again is not None
        assert again.delivery_status == "queued"


def test_leaving_the_page_removes_presence_at_once(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    cid = make_conversation(db, owner, now=clock.now())
    headers = _signed_in(client, ari) | HX
    client.post(f"/care/conversations/{cid}/presence", data={"typing": "1"}, headers=headers)
    csrf = headers["X-CSRF-Token"]

    gone = client.post(f"/care/conversations/{cid}/leave", data={"csrf_token": csrf})

    assert gone.status_code == 204
    with db.reader() as session:
        assert presence.others(session, owner.actor, cid, now=clock.now()) == []
