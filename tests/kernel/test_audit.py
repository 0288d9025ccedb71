"""The audit chain detects every kind of tampering, and the CLI reports it."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, insert, text
from sqlalchemy.exc import DatabaseError

from groundswell.cli import main
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.tables import AuditEntry

ACTOR = audit.AuditActor("u-1", "ana@example.org", "org-1", "127.0.0.1")


def _fill(db: Database, n: int, clock: FrozenClock) -> None:
    with db.unit_of_work() as session:
        for i in range(n):
            audit.record(
                session,
                ACTOR,
                "thing.update",
                "thing",
                f"t{i}",
                before={"n": i},
                after={"n": i + 1},
                clock=clock,
            )


def _disable_guards(conn: Connection) -> None:
    """Play an attacker with direct database access: drop the append-only triggers."""
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
    else:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))


def _restore_guards(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))


def _verify(db: Database) -> audit.ChainReport:
    with db.reader() as session:
        return audit.verify_chain(session)


@pytest.fixture
def chain(db: Database, clock: FrozenClock) -> Database:
    _fill(db, 6, clock)
    return db


def test_intact_chain_verifies(chain: Database) -> None:
    report = _verify(chain)
    assert report.ok
    assert report.rows == 6


def test_edited_row_is_caught(chain: Database) -> None:
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        conn.execute(text("UPDATE audit_log SET actor_label = 'mallory@example.org' WHERE seq = 3"))
        _restore_guards(conn)
    report = _verify(chain)
    assert report.problem is not None
    assert report.problem.seq == 3
    assert "content changed" in report.problem.reason


def test_deleted_row_is_caught(chain: Database) -> None:
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq = 4"))
        _restore_guards(conn)
    report = _verify(chain)
    assert report.problem is not None
    assert report.problem.seq == 5
    assert "deleted" in report.problem.reason


def test_inserted_row_is_caught(chain: Database) -> None:
    """A forged row slipped in after row 2, with a self-consistent hash and the later rows
    renumbered to make room."""
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        for seq in range(6, 2, -1):
            conn.execute(text("UPDATE audit_log SET seq = seq + 1 WHERE seq = :s"), {"s": seq})
        prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = 2")).scalar_one()
        forged = AuditEntry(
            seq=3,
            organization_id="org-1",
            at=FrozenClock().now(),
            actor_id=None,
            actor_label="mallory",
            action="user.create",
            object_type="user",
            object_id="x",
            before=None,
            after={"role": "owner"},
            ip=None,
            prev_hash=prev,
        )
        forged.hash = audit.chain_hash(prev, audit.canonical(forged))
        conn.execute(
            insert(AuditEntry).values(
                seq=3,
                organization_id="org-1",
                at=forged.at,
                actor_id=None,
                actor_label="mallory",
                action="user.create",
                object_type="user",
                object_id="x",
                before=None,
                after={"role": "owner"},
                ip=None,
                prev_hash=prev,
                hash=forged.hash,
            )
        )
        _restore_guards(conn)
    report = _verify(chain)
    assert report.problem is not None
    assert report.problem.seq == 4  # the first genuine row after the forgery no longer fits


def test_reordered_rows_are_caught(chain: Database) -> None:
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        conn.execute(text("UPDATE audit_log SET seq = -1 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_log SET seq = 2 WHERE seq = 5"))
        conn.execute(text("UPDATE audit_log SET seq = 5 WHERE seq = -1"))
        _restore_guards(conn)
    report = _verify(chain)
    assert report.problem is not None
    assert report.problem.seq == 2


def test_the_database_refuses_updates_and_deletes(chain: Database) -> None:
    statements = ["UPDATE audit_log SET action = 'x' WHERE seq = 1", "DELETE FROM audit_log"]
    if chain.is_sqlite is False:
        statements.append("TRUNCATE audit_log")
    for statement in statements:
        with pytest.raises(DatabaseError, match="append-only"), chain.write_engine.begin() as conn:
            conn.execute(text(statement))
    assert _verify(chain).ok


def test_secrets_are_masked_before_writing(db: Database, clock: FrozenClock) -> None:
    with db.unit_of_work() as session:
        entry = audit.record(
            session,
            ACTOR,
            "vault.put",
            "credential",
            "c1",
            clock=clock,
            after={"api_key": "sk-live-123", "nested": {"password": "hunter22"}, "name": "bluesky"},
        )
        assert entry.after == {"api_key": "***", "nested": {"password": "***"}, "name": "bluesky"}


def test_verify_cli_passes_on_ten_thousand_rows(
    db: Database, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    # Built in one transaction for speed; every row goes through the same `record` path.
    _fill(db, 10_000, clock)
    assert main(["audit", "verify"]) == 0
    assert "10000 rows verified" in capsys.readouterr().out.replace(",", "")


def test_verify_cli_names_the_first_bad_row(
    chain: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        conn.execute(text("UPDATE audit_log SET object_id = 'other' WHERE seq = 2"))
        _restore_guards(conn)
    assert main(["audit", "verify", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] is False
    assert result["first_bad_row"] == 2


def test_export_formats(chain: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", "--format", "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3, 4, 5, 6]
    assert main(["audit", "export", "--format", "csv"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("seq,at,actor,action")
    assert len(rows) == 7
    assert main(["audit", "export", "--format", "xml"]) == 2


def test_deleting_the_newest_rows_is_caught_against_the_last_verified_head(
    chain: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    head_line = capsys.readouterr().out.splitlines()[-1]
    assert head_line.startswith("Head: 6:")
    with chain.write_engine.begin() as conn:
        _disable_guards(conn)
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 5"))
        _restore_guards(conn)
    assert _verify(chain).ok  # the chain alone cannot see a cut tail...
    assert main(["audit", "verify", "--json"]) == 1  # ...the recorded head can
    result = json.loads(capsys.readouterr().out)
    assert result["first_bad_row"] == 6
    assert "deleted from the end" in result["reason"]


def test_expect_head_option(chain: Database, capsys: pytest.CaptureFixture[str]) -> None:
    with chain.reader() as session:
        current = audit.head(session)
    assert current is not None
    assert main(["audit", "verify", "--expect-head", str(current)]) == 0
    forged = audit.Head(current.seq, "0" * 64)
    assert main(["audit", "verify", "--expect-head", str(forged)]) == 1
    assert "rewritten" in capsys.readouterr().err
    assert main(["audit", "verify", "--expect-head", "nonsense"]) == 2


def test_concurrent_writers_never_fork_the_chain(db: Database, clock: FrozenClock) -> None:
    """Appends from many threads (a web server's workers) stay one unbroken chain: the single
    SQLite writer, or PostgreSQL's advisory lock, serializes them."""

    def writer(n: int) -> None:
        for i in range(25):
            with db.unit_of_work() as session:
                audit.record(session, ACTOR, "thing.touch", "thing", f"w{n}-{i}", clock=clock)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(writer, range(4)))
    report = _verify(db)
    assert report.ok
    assert report.rows == 100
