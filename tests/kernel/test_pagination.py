from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from groundswell.identity.tables import Organization
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import InvalidInput
from groundswell.kernel.pagination import decode_cursor, encode_cursor, paginate


def test_pages_walk_every_row_once_newest_first(db: Database, clock: FrozenClock) -> None:
    with db.unit_of_work() as session:
        for i in range(7):
            session.add(Organization(name=f"o{i}", slug=f"o{i}", created_at=clock.now()))
            if i % 2:
                clock.advance(timedelta(seconds=1))  # ties on the sort key are broken by id
    seen: list[str] = []
    cursor = None
    with db.reader() as session:
        while True:
            rows, cursor = paginate(
                session,
                select(Organization),
                key=Organization.created_at,
                id_=Organization.id,
                limit=3,
                cursor=cursor,
            )
            seen += [r.name for r in rows]
            if cursor is None:
                break
    assert sorted(seen) == [f"o{i}" for i in range(7)]
    assert len(seen) == 7


def test_bad_cursor_and_limit_are_clear_errors(db: Database) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor("!!not-a-cursor")
    with db.reader() as session, pytest.raises(InvalidInput, match="limit"):
        paginate(
            session,
            select(Organization),
            key=Organization.created_at,
            id_=Organization.id,
            limit=0,
            cursor=None,
        )
    assert decode_cursor(encode_cursor(5, "x")) == (5, "x")
