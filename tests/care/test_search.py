"""Full-text search of the inbox (both databases): what is searched, the small syntax, odd
input, pagination with a search, and the migration's backfill of existing conversations."""

from __future__ import annotations

import importlib.util
from datetime import timedelta
from pathlib import Path
from types import ModuleType

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import insert, update

import groundswell.migrations
from groundswell.care import search, service
from groundswell.care.search import MAX_TERMS, Term, fts5_expression, parse, tsquery_text
from groundswell.care.tables import CareMessage
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import Person, bearer, login, make_org, make_token
from tests.care.page_data import make_conversation

MIGRATION = (
    Path(groundswell.migrations.__file__).parent
    / "versions"
    / "2026-12-06-1931_care_inbox_search.py"
)


@pytest.mark.parametrize(
    ("query", "include", "exclude"),
    [
        ("Refund  DELAYED", [Term(("refund",)), Term(("delayed",))], []),
        ('"lost bag" -spam', [Term(("lost", "bag"))], [Term(("spam",))]),
        ("refund*", [Term(("refund",), prefix=True)], []),
        ('"lost ba"*', [Term(("lost", "ba"), prefix=True)], []),
        ("r*", [Term(("r",))], []),  # a one-letter prefix is a word
        ('"no closing quote', [Term(("no", "closing", "quote"))], []),
        ("ana@example.social", [Term(("ana", "example", "social"))], []),
        ("refund refund", [Term(("refund",))], []),
        ('*** - "" \' ; -- /* */', [], []),
        ("-", [], []),
    ],
)
def test_parse(query: str, include: list[Term], exclude: list[Term]) -> None:
    search = parse(query)

    assert list(search.include) == include
    assert list(search.exclude) == exclude


def test_expressions_quote_every_word() -> None:
    terms = parse('Café "lost bag"* x').include

    assert fts5_expression(terms) == '"café" "lost bag"* "x"'
    assert tsquery_text(terms) == "('café') & ('lost' <-> 'bag':*) & ('x')"
    assert len(parse(" ".join(f"w{i}" for i in range(100))).include) == MAX_TERMS


def _search(db: Database, person: Person, q: str, **kw: str) -> set[str]:
    with db.reader() as session:
        page = service.list_conversations(session, person.actor, q=q, status="any", **kw)
        return {c.id for c in page.items}


def _add_message(
    db: Database, person: Person, conversation_id: str, direction: str, text: str, **kw: str
) -> str:
    with db.unit_of_work() as session:
        message = CareMessage(
            organization_id=person.actor.organization_id,
            conversation_id=conversation_id,
            direction=direction,
            author_label="agent",
            text=text,
            created_at=FrozenClock().now(),
            **kw,
        )
        session.add(message)
        session.flush()
        return message.id


def test_search_covers_messages_handles_and_tags(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    other_org = make_org(db, name="Other")
    now = clock.now()
    ana = make_conversation(
        db, owner, now=now, handle="@ana@example.social", text="Mon CAFÉ était froid"
    )
    bo = make_conversation(db, owner, now=now, handle="@bo", text="Where is my refund?")
    elsewhere = make_conversation(db, other_org, now=now, text="Where is my refund?")
    _add_message(db, owner, bo, "outbound", "We have issued a voucher for the delay")
    _add_message(db, owner, bo, "note", "internal: escalate to finance")
    with db.unit_of_work() as session:
        service.update(session, owner.actor, ana, tags=["Bagages perdus"], now=now)

    assert _search(db, owner, "cafe") == {ana}  # accent- and case-insensitive
    assert _search(db, owner, "Café ÉTAIT") == {ana}
    assert _search(db, owner, "refund") == {bo}  # an inbound message; not the other org's
    assert _search(db, other_org, "refund") == {elsewhere}
    assert _search(db, owner, "voucher") == {bo}  # our reply
    assert _search(db, owner, "escalate") == set()  # internal notes are not searched
    assert _search(db, owner, "ana") == {ana}  # a word of the handle
    assert _search(db, owner, "@ana@example.social") == {ana}
    assert _search(db, owner, "bagages") == {ana}  # a tag
    assert _search(db, owner, "bo") == {bo}
    assert _search(db, owner, '"issued a voucher"') == {bo}
    assert _search(db, owner, '"voucher issued"') == set()
    assert _search(db, owner, "vouch*") == {bo}
    assert _search(db, owner, "refund -voucher") == set()
    assert _search(db, owner, "-voucher") == {ana}
    assert _search(db, owner, "refund froid") == set()  # every word is required


def test_index_follows_changes(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    c = make_conversation(db, owner, now=now, handle="@cy", text="Lost luggage")
    reply = _add_message(
        db, owner, c, "outbound", "Sorry, tracking number follows", delivery_status="queued"
    )
    assert _search(db, owner, "tracking") == {c}

    with db.unit_of_work() as session:  # an undone reply leaves the index
        session.execute(
            update(CareMessage).where(CareMessage.id == reply).values(delivery_status="cancelled")
        )
    assert _search(db, owner, "tracking") == set()
    assert _search(db, owner, "luggage") == {c}

    with db.unit_of_work() as session:
        session.execute(
            update(CareMessage).where(CareMessage.conversation_id == c).values(text="Found it")
        )
        service.update(session, owner.actor, c, tags=["vip"], now=now)
    assert _search(db, owner, "luggage") == set()
    assert _search(db, owner, "found vip") == {c}


def test_search_pages_through_every_match_once(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    hits = {
        make_conversation(db, owner, now=now, handle=f"@h{i}", text=f"refund number {i}",
                          age=timedelta(minutes=i % 4))  # ties on updated_at: the id decides
        for i in range(12)
    }  # fmt: skip
    make_conversation(db, owner, now=now, handle="@miss", text="nothing to see")
    seen: list[str] = []
    cursor: str | None = None
    with db.reader() as session:
        while True:
            page = service.list_conversations(
                session, owner.actor, q="refund", cursor=cursor, limit=5
            )
            seen += [c.id for c in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        unassigned = service.list_conversations(
            session, owner.actor, q="refund", view="unassigned", limit=50
        )

    assert len(seen) == 12
    assert set(seen) == hits
    assert {c.id for c in unassigned.items} == hits


def test_searches_with_many_hits_check_along_the_walk(
    db: Database, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MAX_CANDIDATES", 1)  # every search has "many" hits
    owner = make_org(db)
    now = clock.now()
    made = [
        make_conversation(db, owner, now=now, handle=f"@m{i}", text=f"lost bag number{i}",
                          age=timedelta(minutes=i))
        for i in range(5)
    ]  # fmt: skip
    make_conversation(db, owner, now=now, handle="@other", text="a refund")

    assert _search(db, owner, "lost") == set(made)
    assert _search(db, owner, '"lost bag" -number0') == set(made[1:])
    assert _search(db, owner, "numb*") == set(made)
    with db.reader() as session:
        first = service.list_conversations(session, owner.actor, q="bag", limit=3)
        assert first.next_cursor is not None
        rest = service.list_conversations(
            session, owner.actor, q="bag", limit=3, cursor=first.next_cursor
        )
    assert [c.id for c in first.items + rest.items] == made  # newest first, each once


ODD = [
    '"',
    '"""',
    "*",
    "-",
    "--",
    "-*",
    "refund*",
    '"refund',
    "'; DROP TABLE care_conversation; --",
    "NEAR(a b)",
    "a OR b AND NOT c",
    "col:refund",
    "^refund",
    "%_%",
    "\\",
    "(((",
    "@",
    "#",
    "é́́",
    "\u200b",
    "日本語",
    "x" * 199,
    "word " * 40,
]


def test_odd_searches_answer(client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    refund = make_conversation(db, owner, now=clock.now(), text="refund please")
    for q in ODD:  # every one is read as words (or none), never as an error
        _search(db, owner, q)
    assert _search(db, owner, '"refund') == {refund}
    login(client, owner)
    token = make_token(db, owner)

    for q in ['"', "-*", "'; DROP TABLE care_conversation; --", "x" * 199]:
        assert client.get("/care", params={"q": q}).status_code == 200, q
        api = client.get("/api/v1/care/conversations", params={"q": q}, headers=bearer(token))
        assert api.status_code == 200, q
    assert "No conversation matches" in client.get("/care", params={"q": "***"}).text


def _load_migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("care_inbox_search_migration", MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_migration_backfills_existing_conversations(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    now = clock.now()
    migration = _load_migration()
    with db.write_engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration.downgrade()
    # Written while there is no index (and no trigger).
    c = make_conversation(db, owner, now=now, handle="@dee", text="The seat was broken")
    _add_message(db, owner, c, "outbound", "We will refund the seat")
    with db.write_engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        migration.upgrade()

    assert _search(db, owner, "broken refund dee") == {c}
    _add_message(db, owner, c, "inbound", "Thanks a lot")
    assert _search(db, owner, "thanks") == {c}


def test_bulk_load_builds_the_documents_at_the_end(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    c = make_conversation(db, owner, now=clock.now(), text="first words")
    row = {
        "organization_id": owner.actor.organization_id,
        "conversation_id": c,
        "author_label": "x",
        "created_at": clock.now(),
        "mentioned_user_ids": [],
        "attempts": 0,
    }
    with db.write_engine.begin() as conn, search.bulk_messages(conn):
        conn.execute(
            insert(CareMessage.__table__),
            [
                row | {"id": "bulk-1", "direction": "inbound", "text": "bulky parcel"},
                row | {"id": "bulk-2", "direction": "note", "text": "secret memo"},
            ],
        )

    assert _search(db, owner, "first bulky") == {c}
    assert _search(db, owner, "memo") == set()
    _add_message(db, owner, c, "outbound", "after the load")  # the upkeep is back
    assert _search(db, owner, "after bulky") == {c}
