"""listening.bulk: a batch's mentions and their full-text entries, and the exact dedupe."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from groundswell.kernel.db import Database
from groundswell.listening import bulk
from groundswell.listening.search import search_mentions
from groundswell.listening.tables import Mention
from tests.builders import make_org

NOW = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)


def row(org_id: str, external_id: str, words: str) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "source": "files",
        "external_id": external_id,
        "text": words,
        "created_at": NOW,
        "imported_at": NOW,
        "links": [],
        "metrics": {},
        "labels": [],
        "channel": "public",
    }


def found(db: Database, org_id: str, query: str) -> list[str]:
    with db.reader() as session:
        return [m.external_id for m in search_mentions(session, org_id, query)]


def test_a_batch_is_searchable_and_other_writers_still_index(db: Database) -> None:
    org_id = make_org(db).actor.organization_id
    with db.unit_of_work() as session:
        rows = [row(org_id, "a", "lost luggage again"), row(org_id, "b", "luggage found")]
        for id_, r in zip(bulk.allocate_ids(session, 2), rows, strict=True):
            r["id"] = id_
        bulk.insert_mentions(session, rows)
    with db.unit_of_work() as session:  # the ORM, as care and crisis write mentions
        session.add(Mention(**row(org_id, "c", "luggage on the wrong belt")))
    assert sorted(found(db, org_id, "luggage")) == ["a", "b", "c"]
    assert found(db, org_id, "belt") == ["c"]
    if db.is_sqlite:  # the marker never outlives the batch that wrote it
        with db.reader() as session:
            assert session.execute(text("SELECT count(*) FROM mention_fts_deferred")).scalar() == 0


def test_a_failed_batch_leaves_no_marker_and_no_entry(db: Database) -> None:
    org_id = make_org(db).actor.organization_id
    with db.unit_of_work() as session:
        first = row(org_id, "a", "first words")
        first["id"] = bulk.allocate_ids(session, 1)[0]
        bulk.insert_mentions(session, [first])

    def store_again() -> None:
        with db.unit_of_work() as session:
            again = row(org_id, "a", "duplicate words")  # same (org, source, external id)
            again["id"] = bulk.allocate_ids(session, 1)[0]
            bulk.insert_mentions(session, [again])

    with pytest.raises(IntegrityError):
        store_again()
    with db.unit_of_work() as session:
        session.add(Mention(**row(org_id, "b", "later words")))
    assert found(db, org_id, "duplicate") == []
    assert found(db, org_id, "later") == ["b"]


def test_stored_external_ids(db: Database) -> None:
    org_id = make_org(db).actor.organization_id
    with db.unit_of_work() as session:
        rows = [row(org_id, "1", "one"), row(org_id, "2", "two")]
        for id_, r in zip(bulk.allocate_ids(session, 2), rows, strict=True):
            r["id"] = id_
        bulk.insert_mentions(session, rows)
    with db.reader() as session:
        assert bulk.stored_external_ids(session, org_id, "files", ["2", "3", "1"]) == {"1", "2"}
        assert bulk.stored_external_ids(session, org_id, "other", ["1"]) == set()
        assert bulk.stored_external_ids(session, org_id, "files", []) == set()


def test_the_full_text_index_is_the_migrated_one(db: Database) -> None:
    with db.reader() as session:
        if not db.is_sqlite:
            # PostgreSQL: no trigger, a GIN index over the accent-folded text.
            index = session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_mention_search'")
            ).scalar()
            assert index is not None
            assert "gin (to_tsvector('simple'::regconfig, mention_search_fold(text)))" in index
            return
        created = session.execute(
            text("SELECT sql FROM sqlite_master WHERE name = 'mention_fts_insert'")
        ).scalar()
    assert created == bulk.FTS_INSERT_TRIGGER
