"""Cursor pagination: stable under inserts, no OFFSET scans.

A cursor is an opaque, URL-safe token holding the sort key and id of the last row seen.
Lists are ordered by (sort key DESC, id DESC): newest first.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from groundswell.kernel.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(key: Any, row_id: Any) -> str:
    if isinstance(key, datetime):
        key = {"dt": key.isoformat()}
    raw = json.dumps([key, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key, row_id = json.loads(raw)
    except (ValueError, TypeError) as exc:
        raise InvalidInput("The cursor is not valid; start again without one.") from exc
    if isinstance(key, dict) and "dt" in key:
        key = datetime.fromisoformat(key["dt"])
    return key, row_id


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}.")
    return limit


def paginate(
    session: Session,
    stmt: Select[T],
    *,
    key: InstrumentedAttribute[Any],
    id_: InstrumentedAttribute[Any],
    limit: int,
    cursor: str | None,
) -> tuple[Sequence[T], str | None]:
    """Run `stmt` (which selects one ORM entity) one page at a time."""
    check_limit(limit)
    if cursor:
        last_key, last_id = decode_cursor(cursor)
        stmt = stmt.where(or_(key < last_key, and_(key == last_key, id_ < last_id)))
    rows = session.execute(stmt.order_by(key.desc(), id_.desc()).limit(limit + 1)).scalars().all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], encode_cursor(getattr(last, key.key), getattr(last, id_.key))
