"""Importing with worker processes stores exactly what the single-process import stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import ingest, parallel
from groundswell.listening.tables import Mention, MentionMatch, QuarantinedRecord
from tests.builders import make_org

pytestmark = pytest.mark.skipif(not parallel.can_fork(), reason="needs the fork start method")

CAMPAIGN = "please everyone share this: the refund policy of acme changed again today"


def lines(n: int) -> list[bytes]:
    out: list[bytes] = []
    for i in range(n):
        text = CAMPAIGN if i % 10 == 0 else f"post {i} asks about refund number {i * 7}"
        out.append(json.dumps({"id": f"p{i}", "text": text}).encode())
        if i % 25 == 0:
            out.append(b'{"id": "bad", "text": ')  # quarantined
        if i % 30 == 0:
            out.append(json.dumps({"id": f"p{i}", "text": "again"}).encode())  # duplicate id
    return out


def snapshot(db: Database, org: str) -> tuple[Any, ...]:
    with db.reader() as session:
        mentions = session.execute(
            select(Mention.external_id, Mention.text, Mention.sentiment, Mention.cluster_id)
            .where(Mention.organization_id == org)
            .order_by(Mention.id)
        ).all()
        ids = {m_id: ext for m_id, ext in session.execute(select(Mention.id, Mention.external_id))}
        matches = sorted(
            ids[m]
            for m in session.scalars(
                select(MentionMatch.mention_id).join(Mention).where(Mention.organization_id == org)
            )
        )
        quarantined = session.scalars(
            select(QuarantinedRecord.reason).where(QuarantinedRecord.organization_id == org)
        ).all()
    first_of: dict[int, str] = {}  # cluster ids are random: name each by its first post
    for ext, _, _, c in mentions:
        if c is not None:
            first_of.setdefault(c, ext)
    clusters = {ext: (first_of[c] if c else None) for ext, _, _, c in mentions}
    return [(e, t, s) for e, t, s, _ in mentions], clusters, matches, sorted(quarantined)


def test_workers_store_the_same_as_one_process(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines(120)) + b"\n")
    results = []
    snapshots = []
    for name, workers in (("one", 0), ("many", 2)):
        owner = make_org(db, name)
        with db.unit_of_work() as session:
            ingest.add_query(session, owner.actor, name="r", topic="t", query="refund", clock=clock)
        run = ingest.import_posts
        first = run(
            db,
            owner.actor,
            FilesConnector(),
            str(path),
            clock=clock,
            batch_size=16,
            workers=workers,
        )
        again = run(
            db,
            owner.actor,
            FilesConnector(),
            str(path),
            clock=clock,
            batch_size=16,
            workers=workers,
        )
        results.append((first.as_dict(), again.as_dict()))
        snapshots.append(snapshot(db, owner.actor.organization_id))
    assert results[0] == results[1]
    assert results[0][0] == {"read": 129, "stored": 120, "duplicates": 4, "quarantined": 5}
    assert results[0][1]["stored"] == 0
    assert snapshots[0] == snapshots[1]
    _, clusters, matches, _ = snapshots[1]
    assert {c for e, c in clusters.items() if e in {f"p{i}" for i in range(0, 120, 10)}} == {"p0"}
    assert len(matches) == 120


def test_a_prepared_batch_survives_the_trip_between_processes() -> None:
    """`Prepared` crosses the process boundary as columns of tuples: the same batch comes out
    (posts with every field, readings, matches, band keys, payloads, rejected records)."""
    import pickle
    from datetime import UTC, datetime

    from groundswell.connectors.contract import RawRecord
    from groundswell.kernel.clock import SystemClock
    from groundswell.listening import pipeline
    from groundswell.listening.matcher import QuerySet
    from groundswell.listening.query import compile_query

    connector = FilesConnector()
    query = pipeline.SavedQuery("q1", "refunds", "brand")
    ctx = pipeline.BatchContext(
        organization_id="org",
        source_name="files",
        connector=connector,
        location="memory",
        queries=QuerySet([(query, compile_query("refund*"))]),
        clock=SystemClock(),
        triage=pipeline.default_triage,
    )
    full = {
        "id": "x1",
        "text": "where is my refund? https://example.com/a?utm_source=x",
        "created_at": "2026-11-02T10:00:00+01:00",
        "author": {"handle": "ana", "name": "Ana", "followers": 12, "verified": True},
        "lang": "en",
        "in_reply_to": "x0",
        "channel": "direct",
    }
    records = [
        RawRecord(payload, n + 1, "jsonl")
        for n, payload in enumerate([json.dumps(full).encode(), *lines(6)])
    ]
    prepared = pipeline.prepare_batch(ctx, records, datetime(2026, 11, 2, 12, tzinfo=UTC))
    assert prepared.rejected
    assert prepared.matches[0] == [query]
    again = pickle.loads(pickle.dumps(prepared))
    assert again == prepared
    assert again.items[0].post.channel == "direct"
    assert again.items[0].post.author_followers == 12
