"""kernel.bulk: rows straight to the driver store what the ORM would store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from groundswell.kernel.bulk import allocate_ids, insert_rows, probe_keys
from groundswell.kernel.db import Database
from groundswell.kernel.tables import OutboxDelivery, OutboxEvent

NOW = datetime(2026, 12, 6, 19, 30, tzinfo=UTC)


def test_values_read_back_as_the_orm_wrote_them(db: Database) -> None:
    with db.unit_of_work() as session:
        session.add(OutboxEvent(event_type="orm", payload={"a": [1, True]}, created_at=NOW))
        session.flush()
        ids = allocate_ids(session, OutboxEvent, 3)
        insert_rows(
            session,
            OutboxEvent,
            [
                {
                    "id": ids[0],
                    "event_type": "bulk",
                    "payload": {"a": [1, True]},
                    "created_at": NOW,
                },
                {"id": ids[1], "event_type": "bulk", "payload": ["x"], "created_at": NOW},
                # an instant in another zone is stored in UTC; 1 and True stay apart in JSON
                {
                    "id": ids[2],
                    "event_type": "bulk",
                    "payload": [True],
                    "created_at": NOW.astimezone(timezone(timedelta(hours=2))),
                },
            ],
        )
    with db.reader() as session:
        rows = session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [(r.event_type, r.payload, r.created_at) for r in rows] == [
        ("orm", {"a": [1, True]}, NOW),
        ("bulk", {"a": [1, True]}, NOW),
        ("bulk", ["x"], NOW),
        ("bulk", [True], NOW),
    ]
    assert [r.id for r in rows][1:] == ids


def test_ids_are_new_and_ascending(db: Database) -> None:
    with db.unit_of_work() as session:
        first = allocate_ids(session, OutboxEvent, 2)
        insert_rows(
            session,
            OutboxEvent,
            [{"id": i, "event_type": "e", "payload": {}, "created_at": NOW} for i in first],
        )
        second = allocate_ids(session, OutboxEvent, 2)
    assert first == sorted(first)
    assert second[0] > first[-1]


def test_conflicts_skipped_only_when_asked(db: Database) -> None:
    with db.unit_of_work() as session:
        (event_id,) = allocate_ids(session, OutboxEvent, 1)
        row = {"id": event_id, "event_type": "e", "payload": {}, "created_at": NOW}
        insert_rows(session, OutboxEvent, [row])
        delivery = {"event_id": event_id, "handler": "h", "attempts": 0}
        insert_rows(session, OutboxDelivery, [delivery])
        insert_rows(session, OutboxDelivery, [delivery, delivery], ignore_conflicts=True)
    with db.reader() as session:
        stored = session.scalars(select(OutboxDelivery)).all()
    assert [(d.event_id, d.handler, d.attempts, d.delivered_at) for d in stored] == [
        (event_id, "h", 0, None)
    ]


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """The statements the session's connection runs inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    connection = session.connection()
    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


def test_probe_keys_finds_a_batch_in_one_statement(db: Database) -> None:
    with db.unit_of_work() as session:
        ids = allocate_ids(session, OutboxEvent, 3)
        insert_rows(
            session,
            OutboxEvent,
            [
                {"id": ids[0], "event_type": "a", "payload": {}, "created_at": NOW},
                {"id": ids[1], "event_type": "a", "payload": {}, "created_at": NOW},
                {"id": ids[2], "event_type": "b", "payload": {}, "created_at": NOW},
            ],
        )
        insert_rows(
            session,
            OutboxDelivery,
            [
                {"event_id": ids[0], "handler": "mail", "attempts": 2},
                {"event_id": ids[0], "handler": "hook", "attempts": 0},
                {"event_id": ids[1], "handler": "h" * 200, "attempts": 5},
            ],
        )
    missing = max(ids) + 1
    with db.reader() as session, counted(session) as statements:
        # integer keys, one filter, one selected column; a key asked twice comes back once
        by_id = probe_keys(
            session,
            OutboxEvent,
            "id",
            [ids[2], ids[0], missing, ids[0]],
            {"event_type": "a"},
            ["event_type"],
        )
        # string keys, a filter on another column, no column selected
        handlers = probe_keys(
            session, OutboxDelivery, "handler", ["mail", "sms", "hook"], {"event_id": ids[0]}
        )
        # two filters, and a key longer than the column: never cut to match a stored one
        long = probe_keys(
            session,
            OutboxDelivery,
            "handler",
            ["h" * 201, "h" * 200],
            {"event_id": ids[1], "attempts": 5},
            ["attempts", "event_id"],
        )
        assert len(statements) == 3
        assert probe_keys(session, OutboxEvent, "id", [], {"event_type": "a"}) == []
        assert len(statements) == 3  # no keys, no statement
    assert by_id == [(ids[0], "a")]
    assert sorted(handlers) == [("hook",), ("mail",)]
    assert long == [("h" * 200, 5, ids[1])]
