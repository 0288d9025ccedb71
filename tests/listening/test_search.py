"""Full-text search over mentions: one function on SQLite (FTS5) and PostgreSQL (GIN)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import ingest, search
from groundswell.listening.search import search_mentions, search_words
from groundswell.listening.tables import Mention
from tests.builders import Person, make_org

POSTS = [
    {"id": "1", "text": "My REFUND never arrived", "created_at": "2026-11-01T10:00:00Z"},
    {"id": "2", "text": "refund and parcel both missing", "created_at": "2026-11-02T10:00:00Z"},
    {"id": "3", "text": "parcel arrived, thanks", "created_at": "2026-11-03T10:00:00Z"},
    {"id": "4", "text": "Le café était froid", "created_at": "2026-11-04T10:00:00Z"},
]


@pytest.fixture
def owner(db: Database, clock: FrozenClock, tmp_path: Path) -> Person:
    person = make_org(db)
    path = tmp_path / "posts.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    ingest.import_posts(db, person.actor, FilesConnector(), str(path), clock=clock)
    return person


def find(db: Database, person: Person, query: str, limit: int = 20) -> list[str]:
    with db.reader() as session:
        hits = search_mentions(session, person.actor.organization_id, query, limit=limit)
        return [m.external_id for m in hits]


def test_finds_by_word_case_insensitively_newest_first(db: Database, owner: Person) -> None:
    assert find(db, owner, "refund") == ["2", "1"]
    assert find(db, owner, "PARCEL") == ["3", "2"]
    assert find(db, owner, "café") == ["4"]


def test_all_words_are_required(db: Database, owner: Person) -> None:
    assert find(db, owner, "refund parcel") == ["2"]
    assert find(db, owner, "refund unicorn") == []


def test_operators_and_punctuation_are_plain_text(db: Database, owner: Person) -> None:
    assert find(db, owner, 'refund" AND "parcel') == ["2"]  # "and" is a word of post 2
    assert find(db, owner, 'refund" OR "parcel') == []  # "or" is a word too: no post has it
    assert find(db, owner, "NOT refund") == []
    assert find(db, owner, "*:()'\"") == []


def test_limit(db: Database, owner: Person) -> None:
    assert find(db, owner, "refund", limit=1) == ["2"]
    assert find(db, owner, "refund", limit=0) == []


def test_other_organizations_mentions_are_not_found(db: Database, owner: Person) -> None:
    other = make_org(db, "Other")
    assert find(db, other, "refund") == []


def test_index_follows_updates_and_deletes(db: Database, owner: Person) -> None:
    with db.unit_of_work() as session:
        session.execute(
            update(Mention).where(Mention.external_id == "1").values(text="now about pizza")
        )
        session.execute(delete(Mention).where(Mention.external_id == "3"))
    assert find(db, owner, "refund") == ["2"]
    assert find(db, owner, "pizza") == ["1"]
    assert find(db, owner, "parcel") == ["2"]


def test_search_words() -> None:
    assert search_words("Refund, refund; PARCEL!") == ["refund", "parcel"]
    assert search_words("  ") == []


def test_many_mentions_are_searchable(db: Database, clock: FrozenClock, tmp_path: Path) -> None:
    person = make_org(db, "Bulk")
    path = tmp_path / "bulk.jsonl"
    lines = [
        json.dumps({"id": str(i), "text": f"ticket {i} {'urgent' if i % 10 == 0 else 'routine'}"})
        for i in range(300)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ingest.import_posts(db, person.actor, FilesConnector(), str(path), clock=clock)
    assert len(find(db, person, "urgent", limit=1000)) == 30
    assert find(db, person, "ticket 42") == ["42"]


def test_searches_with_more_hits_than_the_candidates_stay_newest_first(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "many.jsonl"
    lines = [
        {"id": f"m{i}", "text": f"refund request {i}", "created_at": f"2026-11-{10 + i}T10:00:00Z"}
        for i in range(8)
    ]
    path.write_text("\n".join(json.dumps(p) for p in lines) + "\n", encoding="utf-8")
    ingest.import_posts(db, owner.actor, FilesConnector(), str(path), clock=clock)
    monkeypatch.setattr(search, "MAX_CANDIDATES", 3)  # 10 hits: the many-hits path
    assert find(db, owner, "refund", limit=4) == ["m7", "m6", "m5", "m4"]
    assert find(db, owner, "request 2") == ["m2"]  # few hits: every one of them
    other = make_org(db, "Other")
    assert find(db, other, "refund") == []


def test_accents_are_ignored_both_ways_on_both_databases(db: Database, owner: Person) -> None:
    assert find(db, owner, "cafe") == ["4"]
    assert find(db, owner, "CAFÉ etait") == ["4"]
    assert find(db, owner, "ÉTAIT froid") == ["4"]
    assert find(db, owner, "refünd") == ["2", "1"]
