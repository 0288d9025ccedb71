"""Bulk inserts for hot paths: plain tuples to the driver's `executemany`.

The ORM's bulk insert costs tens of microseconds a row in Python (parameter dictionaries,
compiled-statement bookkeeping, RETURNING rows); the ingest pipeline writes thousands of rows
a batch (mentions, matches, band keys, outbox events). Here each column's own SQLAlchemy bind
processor runs once per value, so the stored values are exactly those the ORM writes (JSON
text, UTC timestamps, booleans), and the DBAPI cursor takes the tuples. Integer keys are
allocated before the insert (`allocate_ids`), so nothing needs RETURNING. `probe_keys` is the
matching read: which of a batch's keys a table holds, in one statement.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import JSON, DateTime, Table, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine


def _words_key(value: Any) -> Any:
    """A key for a JSON value a batch repeats (an empty object, a list of words such as
    labels or links), or None. Equal keys mean equal JSON, so no key for numbers or mixed
    lists (True == 1 in Python, not in JSON)."""
    if isinstance(value, list | tuple) and all(type(v) is str for v in value):
        return (list, *value)
    if isinstance(value, dict) and not value:
        return dict
    return None


def _convert(values: list[Any], type_: TypeEngine[Any], dialect: Dialect) -> list[Any]:
    """`values` through the column type's bind processor, each distinct instant or word list
    processed once (a batch shares its `now`, its labels, its empty lists)."""
    process = type_._cached_bind_processor(dialect)
    if process is None:
        return values
    memo: dict[Any, Any] = {}
    if isinstance(type_, DateTime) or isinstance(getattr(type_, "impl_instance", None), DateTime):
        return [memo[v] if v in memo else memo.setdefault(v, process(v)) for v in values]
    if isinstance(type_, JSON):
        out = []
        for value in values:
            key = _words_key(value)
            if key is None:
                out.append(process(value))
            elif key in memo:
                out.append(memo[key])
            else:
                out.append(memo.setdefault(key, process(value)))
        return out
    return list(map(process, values))


def table_of(target: Table | type[Any]) -> Table:
    """The table itself, or a mapped class's table."""
    table = target if isinstance(target, Table) else getattr(target, "__table__", None)
    if not isinstance(table, Table):
        raise TypeError(f"{target!r} is not a table or a class mapped to one")
    return table


def insert_rows(
    session: Session,
    target: Table | type[Any],
    rows: Sequence[Mapping[str, Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """INSERT `rows` (dictionaries with the same keys, column names of `target`, a table or
    a mapped class) in the
    session's transaction, values converted by each column's bind processor. Column defaults
    of the model do not apply: give every value. With `ignore_conflicts`, a row whose key
    exists already is skipped (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    table = table_of(target)
    dialect = session.get_bind().dialect
    names = list(rows[0])
    columns = [_convert([row[name] for row in rows], table.c[name].type, dialect) for name in names]
    params = list(zip(*columns, strict=True))
    if dialect.name == "postgresql" and not ignore_conflicts:
        _copy_rows(session, table, names, params)
        return
    placeholder = "?" if dialect.paramstyle == "qmark" else "%s"
    # Identifiers come from the table's metadata, never from input; values are parameters.
    sql = (
        f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608
        f"VALUES ({', '.join([placeholder] * len(names))})"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    # A list of tuples: the driver's executemany, no per-row work in SQLAlchemy.
    session.connection().exec_driver_sql(sql, params)


def _copy_rows(session: Session, table: Table, names: list[str], params: list[Any]) -> None:
    """PostgreSQL: COPY FROM STDIN on the session's connection (same transaction), several
    times faster than executemany for thousands of rows (one statement, no round trip a
    row). psycopg dumps each value as the column expects (JSON, bytea, timestamptz)."""
    connection = session.connection()
    driver: Any = connection.connection.driver_connection
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    error = connection.dialect.loaded_dbapi.Error
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in params:
                copy.write_row(row)
    except error as exc:  # as SQLAlchemy raises it elsewhere (IntegrityError, ...)
        raise DBAPIError.instance(sql, None, exc, error) from exc


def allocate_ids(session: Session, target: Table | type[Any], count: int) -> list[int]:
    """`count` new values, ascending, of `target`'s integer key `id` for rows this transaction
    is about to insert. SQLite: after the largest id, as SQLite itself numbers rows (the
    writer holds the write lock from BEGIN IMMEDIATE, so no other insert comes between).
    PostgreSQL: from the column's sequence (safe with concurrent writers)."""
    if count <= 0:
        return []
    table = table_of(target)
    if session.get_bind().dialect.name == "sqlite":
        last = session.execute(
            text(f"SELECT coalesce(max(id), 0) FROM {table.name}")  # noqa: S608  # metadata
        ).scalar_one()
        return list(range(int(last) + 1, int(last) + 1 + count))
    found = session.execute(
        text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
        {"table": table.name, "n": count},
    ).scalars()
    return sorted(int(i) for i in found)


def probe_keys(
    session: Session,
    target: Table | type[Any],
    key: str,
    keys: Sequence[Any],
    where: Mapping[str, Any],
    columns: Sequence[str] = (),
) -> list[tuple[Any, ...]]:
    """The rows of `target` (a table or a mapped class) whose column `key` is one of `keys`
    (strings or integers) and whose columns named in `where` equal the values given there,
    as tuples ``(key, *columns)``: one statement for a whole batch of keys, whatever its
    size. SQLite: the keys as one JSON array (`json_each`). PostgreSQL: one index probe
    per key (`unnest` + ``LATERAL ... LIMIT 1``, so at most one row a key): the plan must
    not hang on statistics, and a freshly created table has none, where a plain
    ``= ANY(...)`` was planned as a scan of every row the filters match (quadratic in an
    import). Meant for a key that, with `where`, is unique (an index leading with the
    `where` columns and `key`)."""
    unique = list(dict.fromkeys(keys))
    if not unique:
        return []
    table = table_of(target)
    # Identifiers come from the table's metadata (`table.c` refuses unknown names), never
    # from input; values are parameters.
    key_column = table.c[key]
    filters = [table.c[name].name for name in where]
    selected = [table.c[name].name for name in columns]
    connection = session.connection()
    dialect = connection.dialect
    if dialect.name == "sqlite":
        conditions = "".join(f"{name} = ? AND " for name in filters)
        sql = (
            f"SELECT {', '.join([key_column.name, *selected])} FROM {table.name} "  # noqa: S608
            f"WHERE {conditions}{key_column.name} IN (SELECT value FROM json_each(?))"
        )
        params: tuple[Any, ...] = (*where.values(), json.dumps(unique))
    else:
        # The array's element type without a length: a cast to varchar(n) would truncate
        # a longer key, which could then match a stored one.
        element = re.sub(r"\(.*\)", "", key_column.type.compile(dialect=dialect))
        conditions = "".join(f"t.{name} = %s AND " for name in filters)
        sql = (
            f"SELECT {', '.join(['x.key', *(f'hit.{name}' for name in selected)])} "  # noqa: S608
            f"FROM unnest(%s::{element}[]) AS x(key) CROSS JOIN LATERAL ("
            f"SELECT {', '.join(f't.{name}' for name in selected) or '1'} FROM {table.name} t "
            f"WHERE {conditions}t.{key_column.name} = x.key LIMIT 1) AS hit"
        )
        params = (unique, *where.values())
    return [tuple(row) for row in connection.exec_driver_sql(sql, params)]
