"""Listening pages through the TestClient: the stream with its filters, chart and empty
states, the "N new mentions" poll, saved searches, the mention page with its actions."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.tables import AuditEntry, OutboxEvent
from groundswell.listening import ingest
from groundswell.listening.query import compile_query
from groundswell.listening.tables import ListeningQuery, Mention
from tests.builders import Person, csrf_from, login, make_org, make_user
from tests.listening.pages_support import ingest_posts

POSTS = [
    {"id": "1", "text": "I love the new menu", "lang": "en", "author": "ana"},
    {"id": "2", "text": "Bad service, I want a <b>refund</b>", "lang": "en", "author": "bob"},
    {"id": "3", "text": "refund please, this is bad", "lang": "fr", "author": "ana"},
]


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


@pytest.fixture
def signed_in(client: TestClient, owner: Person) -> TestClient:
    login(client, owner)
    return client


def rows(page: str) -> list[str]:
    return re.findall(r'data-mention-id="(\d+)"', page)


def mention_id(db: Database, external_id: str) -> int:
    with db.reader() as session:
        return int(session.scalar(select(Mention.id).where(Mention.external_id == external_id)))


def test_empty_stream_says_what_to_do(signed_in: TestClient) -> None:
    page = signed_in.get("/listening")
    assert page.status_code == 200
    assert "No mentions yet" in page.text
    assert "groundswell listening sources add" in page.text
    assert "Save a listening query" in page.text


def test_stream_lists_filters_and_charts(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="refunds", topic="risk terms", query="refund", clock=clock
        )
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    page = signed_in.get("/listening")
    assert page.status_code == 200
    assert len(rows(page.text)) == 3
    # The post text is escaped; the words of the saved search that matched it are marked.
    assert "&lt;b&gt;<mark>refund</mark>&lt;/b&gt;" in page.text
    assert "I love the new menu" in page.text  # matched nothing: nothing marked
    assert "@bob" in page.text
    assert "priority 80" in page.text
    assert 'class="badge sentiment-negative"' in page.text
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", page.text).group(1)))
    assert sum(sum(s["values"]) for s in chart["series"]) == 3
    assert "<caption>Mentions per hour by sentiment" in page.text

    narrowed = signed_in.get("/listening", params={"q": "refund", "language": "en"})
    assert len(rows(narrowed.text)) == 1
    assert "<mark>refund</mark>" in narrowed.text
    chart = json.loads(html.unescape(re.search(r"data-chart='([^']*)'", narrowed.text).group(1)))
    assert sum(sum(s["values"]) for s in chart["series"]) == 1
    # "Save as a search" carries the query and the language as the query language says it.
    assert "q=%28refund%29+lang%3Aen" in narrowed.text

    assert len(rows(signed_in.get("/listening?topic=risk+terms").text)) == 2
    assert len(rows(signed_in.get("/listening?sentiment=positive").text)) == 1
    assert len(rows(signed_in.get("/listening?label=complaint").text)) == 2
    none = signed_in.get("/listening?source=nowhere")
    assert rows(none.text) == []
    assert "No mentions match these filters" in none.text


def test_bad_query_shows_the_caret_never_a_500(signed_in: TestClient) -> None:
    page = signed_in.get("/listening", params={"q": "refund AND (late"})
    assert page.status_code == 200
    assert "This query does not parse" in page.text
    assert re.search(r"column \d+", page.text)
    assert "^" in page.text
    bad_range = signed_in.get("/listening?range=forever")
    assert bad_range.status_code == 400
    assert "Unknown time range" in bad_range.text


def test_pagination_links_to_older_mentions(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    ingest_posts(
        db, owner, tmp_path, [{"id": str(i), "text": f"p {i}"} for i in range(30)], clock=clock
    )
    first = signed_in.get("/listening")
    assert len(rows(first.text)) == 25
    older = re.search(r'rel="next" href="([^"]+)"', first.text).group(1)
    second = signed_in.get(html.unescape(older))
    assert len(rows(second.text)) == 5
    assert not set(rows(first.text)) & set(rows(second.text))
    assert ">Newest</a>" in second.text


def test_new_mentions_poll_counts_without_moving_the_list(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    page = signed_in.get("/listening?q=refund")
    poll = html.unescape(re.search(r'hx-get="(/listening/new[^"]+)"', page.text).group(1))
    assert "new mention" not in signed_in.get(poll).text
    ingest_posts(
        db,
        owner,
        tmp_path,
        [{"id": "4", "text": "refund now"}, {"id": "5", "text": "unrelated"}],
        clock=clock,
        name="more.jsonl",
    )
    answer = signed_in.get(poll, headers={"HX-Request": "true"})
    assert "1 new mention — show" in answer.text
    assert 'hx-trigger="every 5s"' in answer.text  # the poll keeps going


def test_saved_searches_test_save_and_deactivate(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    page = signed_in.get("/listening/queries?q=refund&topic=brand")
    assert "No saved searches yet" in page.text
    assert ">refund</textarea>" in page.text
    assert 'value="brand"' in page.text
    token = csrf_from(page.text)
    tried = signed_in.post("/listening/queries/test", data={"query": "refund", "csrf_token": token})
    assert "<strong>2</strong> of the 3 most recent mentions match" in tried.text
    bad = signed_in.post(
        "/listening/queries/test", data={"query": "refund NEAR/x", "csrf_token": token}
    )
    assert bad.status_code == 200
    assert "does not parse" in bad.text
    assert "^" in bad.text

    saved = signed_in.post(
        "/listening/queries",
        data={"name": "Refunds", "topic": "brand", "query": "refund", "csrf_token": token},
    )
    assert saved.status_code == 200
    assert "Saved &#39;Refunds&#39;" in saved.text
    assert 'data-query-name="Refunds"' in saved.text
    again = signed_in.post(
        "/listening/queries",
        data={"name": "Refunds", "topic": "", "query": "refund", "csrf_token": token},
    )
    assert again.status_code == 409
    assert "exists already" in again.text
    broken = signed_in.post(
        "/listening/queries", data={"name": "X", "query": '"open', "csrf_token": token}
    )
    assert broken.status_code == 422
    assert "^" in broken.text
    assert ">&#34;open</textarea>" in broken.text
    with db.reader() as session:
        query_id = session.scalar(select(ListeningQuery.id).where(ListeningQuery.name == "Refunds"))
    off = signed_in.post(
        f"/listening/queries/{query_id}/active", data={"active": "false", "csrf_token": token}
    )
    assert "switched off" in off.text
    assert ">Activate</button>" in off.text
    with db.reader() as session:
        assert session.get(ListeningQuery, query_id).active is False  # type: ignore[union-attr]
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "listening.query.add" in actions
    assert "listening.query.deactivate" in actions


def test_viewer_sees_but_cannot_save_or_flag(
    client: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    viewer = make_user(db, owner, Role.VIEWER)
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    login(client, viewer)
    page = client.get("/listening/queries")
    assert "Save a search" not in page.text
    token = csrf_from(client.get("/listening").text)  # the sign-out form carries it
    refused = client.post(
        "/listening/queries", data={"name": "x", "query": "refund", "csrf_token": token}
    )
    assert refused.status_code == 403
    detail = client.get(f"/listening/mentions/{mention_id(db, '2')}")
    assert detail.status_code == 200
    assert "Flag a risk" not in detail.text


def test_mention_page_shows_thread_triage_and_actions(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="refunds", topic="", query="refund", clock=clock
        )
    ingest_posts(
        db,
        owner,
        tmp_path,
        [
            {
                "id": "root",
                "text": "Where is my refund?",
                "author": {"handle": "ana", "name": "Ana", "followers": 12000, "verified": True},
            },
            {
                "id": "reply",
                "text": "Still waiting for the refund",
                "in_reply_to": "root",
                "author": "ana",
            },
        ],
        clock=clock,
    )
    page = signed_in.get(f"/listening/mentions/{mention_id(db, 'reply')}")
    assert page.status_code == 200
    assert "Where is my refund?" in page.text  # the parent, from the thread
    assert "<mark>refund</mark>" in page.text
    assert "Priority" in page.text
    assert 'class="why"' in page.text
    assert ">refunds</a>" in page.text  # matched saved search
    assert "Their other mentions" in page.text
    # Care serves "from mention" in this app, so the button shows; ideas: disabled, saying why.
    assert "Open a care conversation" in page.text
    assert re.search(r"<button[^>]*disabled[^>]*>Suggest as an idea</button>", page.text)
    assert "co-creation room is not built yet" in page.text
    assert signed_in.get("/listening/mentions/999999").status_code == 404


def test_care_button_appears_when_the_care_route_exists(
    app: FastAPI,
    signed_in: TestClient,
    db: Database,
    owner: Person,
    tmp_path: Path,
    clock: FrozenClock,
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    mid = mention_id(db, "1")

    @app.post("/care/conversations/from-mention/{mention_id}")
    def from_mention(mention_id: int) -> dict[str, int]:
        return {"mention_id": mention_id}

    page = signed_in.get(f"/listening/mentions/{mid}")
    assert f'action="/care/conversations/from-mention/{mid}"' in page.text
    assert "Open a care conversation" in page.text


def test_flag_a_risk_is_audited_emitted_and_shown(
    signed_in: TestClient, db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    mid = mention_id(db, "2")
    page = signed_in.get(f"/listening/mentions/{mid}")
    token = csrf_from(page.text)
    empty = signed_in.post(
        f"/listening/mentions/{mid}/flag", data={"note": " ", "csrf_token": token}
    )
    assert empty.status_code == 422
    assert "what the risk is" in empty.text
    done = signed_in.post(
        f"/listening/mentions/{mid}/flag", data={"note": "journalist asking", "csrf_token": token}
    )
    assert done.status_code == 200
    assert "Flagged as a risk" in done.text
    assert "journalist asking" in done.text
    assert owner.email in done.text
    with db.reader() as session:
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "listening.mention_flagged")
        ).all()
        assert len(events) == 1
        assert session.scalar(
            select(AuditEntry.object_id).where(AuditEntry.action == "listening.mention.flag")
        ) == str(mid)
    no_csrf = signed_in.post(f"/listening/mentions/{mid}/flag", data={"note": "x"})
    assert no_csrf.status_code == 403


def test_listening_is_a_built_room_with_its_parts(signed_in: TestClient) -> None:
    home = signed_in.get("/listening")
    for label in ("Stream", "Saved searches", "Sources", "Quarantine"):
        assert f">{label}</a>" in home.text


def test_example_queries_shown_on_the_pages_compile(signed_in: TestClient) -> None:
    examples = re.findall(r"<code>([^<]+)</code>", signed_in.get("/listening/queries").text)
    placeholder = re.search(
        r'id="f-q"[^>]*placeholder=\'([^\']+)\'', signed_in.get("/listening").text
    )
    assert placeholder is not None
    shown = [html.unescape(e) for e in examples] + [html.unescape(placeholder.group(1))]
    assert len(shown) >= 5
    for example in shown:
        compile_query(example)


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "(" * 300,
        "NEAR/99999999999999999999",
        "a NEAR/3",
        "\x00é\u200b",
        "followers:>abc",
        "lang:",
        "*",
        "x" * 3000,
        "AND OR NOT",
    ],
)
def test_any_query_text_renders_a_page_never_a_500(signed_in: TestClient, query: str) -> None:
    page = signed_in.get("/listening", params={"q": query})
    assert page.status_code in (200, 400)
    poll = signed_in.get("/listening/new", params={"q": query, "after": "0"})
    assert poll.status_code == 200
