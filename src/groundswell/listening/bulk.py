"""Storing a batch of mentions with their full-text entries (`kernel.bulk` inserts).

On SQLite the full-text index is fed once per batch (`INSERT INTO mention_fts ... SELECT`)
instead of row by row, which cost more than the mention rows themselves: the insert trigger
skips the ids named in `mention_fts_deferred`, a row that lives only inside the storing
transaction (see the 2026-12-06 migration). Other writers of `mention` (care, crisis, tests)
keep the trigger. On PostgreSQL the GIN index follows by itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from groundswell.kernel.bulk import allocate_ids as _allocate_ids
from groundswell.kernel.bulk import insert_rows, probe_keys
from groundswell.listening.tables import Mention

# The SQLite insert trigger as the 2026-12-06 migration leaves it (for tools that drop it
# around a bulk load and put it back, such as bench/search.py).
FTS_INSERT_TRIGGER = (
    "CREATE TRIGGER mention_fts_insert AFTER INSERT ON mention "
    "WHEN NOT EXISTS (SELECT 1 FROM mention_fts_deferred "
    "WHERE new.id BETWEEN first_id AND last_id) BEGIN "
    "INSERT INTO mention_fts(rowid, text) VALUES (new.id, new.text); END"
)


def stored_external_ids(
    session: Session, organization_id: str, source: str, external_ids: Sequence[str]
) -> set[str]:
    """Those of `external_ids` the organization has stored under `source`: one statement
    for a whole batch, one index probe per id on PostgreSQL (`kernel.bulk.probe_keys`)."""
    found = probe_keys(
        session,
        Mention,
        "external_id",
        external_ids,
        {"organization_id": organization_id, "source": source},
    )
    return {str(external_id) for (external_id,) in found}


def allocate_ids(session: Session, count: int) -> list[int]:
    """`count` new mention ids, ascending (`kernel.bulk.allocate_ids`)."""
    return _allocate_ids(session, Mention, count)


def insert_mentions(session: Session, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert mention rows and their full-text entries, in the session's transaction. Each
    row has its `id` from `allocate_ids` (on SQLite: consecutive, above every stored id, so
    the batch's index entries are one id range)."""
    if not rows:
        return
    if session.get_bind().dialect.name != "sqlite":
        insert_rows(session, Mention, rows)
        return
    ids = [int(row["id"]) for row in rows]
    span = {"first": min(ids), "last": max(ids)}
    connection = session.connection()
    connection.execute(
        text("INSERT INTO mention_fts_deferred (first_id, last_id) VALUES (:first, :last)"),
        span,
    )
    try:
        insert_rows(session, Mention, rows)
        connection.execute(
            text(
                "INSERT INTO mention_fts (rowid, text) "
                "SELECT id, text FROM mention WHERE id BETWEEN :first AND :last"
            ),
            span,
        )
    finally:
        # Never left behind, even when the insert failed and the caller goes on.
        connection.execute(
            text("DELETE FROM mention_fts_deferred WHERE first_id = :first"),
            {"first": span["first"]},
        )
