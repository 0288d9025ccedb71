"""The tamper-evident audit log.

Each row's hash is SHA-256 over the previous row's hash and the row's canonical JSON
(sorted keys, no whitespace, its sequence number included). Editing, deleting, inserting or
reordering any row breaks the chain from that row on, and `verify_chain` names the first
bad row. Values under secret-looking keys are masked before they are written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from groundswell.kernel.clock import Clock, SystemClock, as_utc
from groundswell.kernel.tables import AuditEntry

GENESIS = "0" * 64
SECRET_MARKERS = ("password", "secret", "token", "credential", "api_key", "apikey", "private_key")
MASK = "***"
# Any fixed 64-bit number: the PostgreSQL advisory lock that serializes appends to the chain.
_PG_CHAIN_LOCK = 7_242_002_511


def mask_secrets(value: Any) -> Any:
    """Copy of `value` with every value under a secret-looking key replaced by `***`."""
    if isinstance(value, dict):
        return {
            k: MASK if any(m in str(k).lower() for m in SECRET_MARKERS) else mask_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_secrets(v) for v in value]
    return value


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(entry: AuditEntry) -> str:
    """The exact bytes the hash covers: every column but the hash itself."""
    doc = {
        "seq": entry.seq,
        "organization_id": entry.organization_id,
        "at": _iso(entry.at),
        "actor_id": entry.actor_id,
        "actor_label": entry.actor_label,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "before": entry.before,
        "after": entry.after,
        "ip": entry.ip,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, canonical_json: str) -> str:
    return hashlib.sha256((prev_hash + canonical_json).encode()).hexdigest()


@dataclass(frozen=True)
class AuditActor:
    """Who acted: a user, a token, or the system (id None)."""

    id: str | None
    label: str
    organization_id: str | None
    ip: str | None = None


SYSTEM = AuditActor(id=None, label="system", organization_id=None)


def record(
    session: Session,
    actor: AuditActor,
    action: str,
    object_type: str,
    object_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    organization_id: str | None = None,
    clock: Clock | None = None,
) -> AuditEntry:
    """Append one row in the caller's transaction. Appends are serialized (SQLite has one
    writer; PostgreSQL takes a transaction-scoped advisory lock) so the chain never forks."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_CHAIN_LOCK})
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    entry = AuditEntry(
        seq=seq,
        organization_id=organization_id if organization_id is not None else actor.organization_id,
        at=(clock or SystemClock()).now(),
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=mask_secrets(before) if before is not None else None,
        after=mask_secrets(after) if after is not None else None,
        ip=actor.ip,
        prev_hash=prev,
    )
    entry.hash = chain_hash(prev, canonical(entry))
    session.add(entry)
    session.flush()
    return entry


@dataclass(frozen=True)
class ChainProblem:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    rows: int
    problem: ChainProblem | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def verify_rows(rows: Iterable[AuditEntry]) -> ChainReport:
    """Check rows given in ascending `seq` order."""
    prev_hash = GENESIS
    expected_seq = 1
    count = 0
    for entry in rows:
        count += 1
        if entry.seq != expected_seq:
            reason = (
                f"sequence gap: expected row {expected_seq}, found row {entry.seq} (a row was deleted)"
                if entry.seq > expected_seq
                else f"sequence out of order at row {entry.seq}"
            )
            return ChainReport(count, ChainProblem(entry.seq, reason))
        if entry.prev_hash != prev_hash:
            return ChainReport(
                count,
                ChainProblem(entry.seq, "link broken: previous hash does not match the row before"),
            )
        if chain_hash(entry.prev_hash, canonical(entry)) != entry.hash:
            return ChainReport(
                count, ChainProblem(entry.seq, "content changed: hash does not match")
            )
        prev_hash = entry.hash
        expected_seq += 1
    return ChainReport(count, None)


def iter_chain(session: Session, batch: int = 2000) -> Iterator[AuditEntry]:
    """All rows in `seq` order, in batches (flat memory on long chains)."""
    after = 0
    while True:
        rows = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            )
            .scalars()
            .all()
        )
        if not rows:
            return
        yield from rows
        after = rows[-1].seq
        session.expunge_all()


@dataclass(frozen=True)
class Head:
    """The newest row of a verified chain: kept outside the database (a file in the data
    dir, or written down elsewhere) so that deleting the newest rows is caught too."""

    seq: int
    hash: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, _, digest = text.strip().partition(":")
        if not seq.isdigit() or len(digest) != 64:
            raise ValueError(f"not a chain head (SEQ:SHA256): {text.strip()!r}")
        return cls(int(seq), digest)


def verify_chain(session: Session, expect: Head | None = None) -> ChainReport:
    """Check the whole chain; with `expect`, also that it still holds that earlier head."""
    report = verify_rows(iter_chain(session))
    if not report.ok or expect is None:
        return report
    row = session.get(AuditEntry, expect.seq)
    if row is None:
        return ChainReport(
            report.rows,
            ChainProblem(
                expect.seq,
                f"the chain ends at row {report.rows}, before the last verified head "
                f"(row {expect.seq}): rows were deleted from the end",
            ),
        )
    if row.hash != expect.hash:
        return ChainReport(
            report.rows,
            ChainProblem(
                expect.seq, "the row differs from the last verified head: the chain was rewritten"
            ),
        )
    return report


def head(session: Session) -> Head | None:
    last = session.execute(
        select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
    ).first()
    return Head(last[0], last[1]) if last else None


def chain_length(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
