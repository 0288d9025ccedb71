"""The ingest pipeline through the service, on the test database (SQLite or PostgreSQL):
store, normalize, dedupe, quarantine, match + events, crash-and-resume, org scoping."""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.tables import OutboxEvent
from groundswell.listening import ingest, pipeline
from groundswell.listening.normalize import canonical_url
from groundswell.listening.tables import Mention, MentionMatch, QuarantinedRecord
from tests.builders import Person, make_org

BAD_LINES: list[tuple[str, bytes]] = [
    ("invalid_json", b'{"id": "b1", "text": '),
    ("invalid_utf8", b'{"id": "b2", "text": "caf\xe9"}'),
    ("missing_text", b'{"id": "b3"}'),
    ("text_too_long", json.dumps({"id": "b4", "text": "y" * 100_001}).encode()),
    ("bad_timestamp", b'{"id": "b5", "text": "hi", "created_at": "31/12/2026"}'),
    ("null_value", b'{"id": "b6", "text": null}'),
    ("too_deep", b'{"id": "b7", "text": "hi", "x": ' + b"[" * 50 + b"]" * 50 + b"}"),
    ("wrong_type", b'{"id": "b8", "text": ["hi"]}'),
    ("missing_id", b'{"text": "hi"}'),
    ("empty_text", b'{"id": "b10", "text": ""}'),
]


def write_jsonl(path: Path, lines: list[dict[str, Any] | bytes]) -> Path:
    with path.open("wb") as f:
        for line in lines:
            f.write((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n")
    return path


def posts(n: int, start: int = 0) -> list[dict[str, Any] | bytes]:
    return [{"id": f"p{i}", "text": f"post number {i} about refunds"} for i in range(start, n)]


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


def run(
    db: Database, owner: Person, path: Path, clock: FrozenClock, **kw: Any
) -> pipeline.BatchResult:
    return ingest.import_posts(db, owner.actor, FilesConnector(), str(path), clock=clock, **kw)


def count(db: Database, model: Any) -> int:
    with db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_import_stores_normalized_triaged_mentions(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {
                "id": "1",
                "text": "Cafe\u0301 refund please",  # decomposed é: stored as NFC
                "created_at": "2026-11-01T10:00:00+01:00",
                "author": {"handle": "ana", "name": "Ana", "followers": 10, "verified": False},
                "url": "HTTPS://Social.Example:443/ana/1?utm_source=x&keep=1&fbclid=2",
                "links": ["https://example.com/?gclid=3", "https://example.com/"],
                "in_reply_to": "0",
                "metrics": {"likes": 2},
            },
            {"id": "2", "text": "no date here", "lang": "EN"},
        ],
    )
    result = run(db, owner, path, clock)
    assert result.as_dict() == {"read": 2, "stored": 2, "duplicates": 0, "quarantined": 0}
    with db.reader() as session:
        first, second = session.scalars(select(Mention).order_by(Mention.external_id)).all()
    assert first.text == "Café refund please"
    assert first.url == "https://social.example/ana/1?keep=1"
    assert first.links == ["https://example.com/"]
    assert first.created_at.isoformat() == "2026-11-01T09:00:00+00:00"
    assert (first.author_handle, first.author_followers, first.author_verified) == (
        "ana",
        10,
        False,
    )
    assert first.in_reply_to == "0"
    assert first.metrics == {"likes": 2}
    assert first.source == "files"
    assert first.organization_id == owner.actor.organization_id
    assert first.sentiment in ("negative", "neutral", "positive")
    assert first.priority is not None
    assert 0 <= first.priority <= 100
    assert first.language  # detected by triage when the source said nothing
    assert first.raw_payload is not None
    assert json.loads(zlib.decompress(first.raw_payload))["id"] == "1"
    assert second.created_at == clock.now()  # default: time of import
    assert second.language == "en"


def test_flood_of_duplicates_is_stored_once(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    line = {"id": "same", "text": "again and again"}
    path = write_jsonl(tmp_path / "dup.jsonl", [line] * 2500 + posts(5))
    first = run(db, owner, path, clock, batch_size=1000)
    assert first.as_dict() == {"read": 2505, "stored": 6, "duplicates": 2499, "quarantined": 0}
    again = run(db, owner, path, clock, batch_size=1000)
    assert again.as_dict() == {"read": 2505, "stored": 0, "duplicates": 2505, "quarantined": 0}
    assert count(db, Mention) == 6


def test_same_id_from_another_source_is_another_mention(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", posts(3))
    run(db, owner, path, clock)
    assert run(db, owner, path, clock, source_name="mastodon").stored == 3
    assert count(db, Mention) == 6


def test_every_kind_of_bad_record_is_quarantined_and_good_ones_kept(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    lines: list[dict[str, Any] | bytes] = []
    for i, (_, bad) in enumerate(BAD_LINES):
        lines += [{"id": f"g{i}", "text": f"good {i}"}, bad]
    path = write_jsonl(tmp_path / "mixed.jsonl", lines)
    result = run(db, owner, path, clock, batch_size=7)
    assert result.as_dict() == {"read": 20, "stored": 10, "duplicates": 0, "quarantined": 10}
    with db.reader() as session:
        rows = session.scalars(select(QuarantinedRecord).order_by(QuarantinedRecord.position))
        found = [(r.reason, r.position, zlib.decompress(r.payload)) for r in rows]
    assert found == [(reason, 2 * i + 2, bad) for i, (reason, bad) in enumerate(BAD_LINES)]
    # a re-import quarantines nothing twice
    assert run(db, owner, path, clock).quarantined == 10
    assert count(db, QuarantinedRecord) == 10
    assert count(db, Mention) == 10


def test_crash_in_second_batch_then_rerun_loses_and_doubles_nothing(
    db: Database,
    owner: Person,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="refunds", topic="billing", query="refunds", clock=clock
        )
    path = write_jsonl(tmp_path / "in.jsonl", [*posts(25), BAD_LINES[0][1]])
    real_store = pipeline.store_stage
    calls = 0

    def crash_on_second_batch(*args: Any, **kwargs: Any) -> None:
        nonlocal calls
        calls += 1
        real_store(*args, **kwargs)  # the batch's rows are written, then the crash
        if calls == 2:
            raise RuntimeError("power cut")

    monkeypatch.setattr(pipeline, "store_stage", crash_on_second_batch)
    with pytest.raises(RuntimeError, match="power cut"):
        run(db, owner, path, clock, batch_size=10)
    assert count(db, Mention) == 10  # batch 1 committed, batch 2 rolled back whole
    assert count(db, MentionMatch) == 10
    monkeypatch.setattr(pipeline, "store_stage", real_store)
    result = run(db, owner, path, clock, batch_size=10)
    assert result.as_dict() == {"read": 26, "stored": 15, "duplicates": 10, "quarantined": 1}
    with db.reader() as session:
        ids = session.scalars(select(Mention.external_id)).all()
        events = session.scalars(select(OutboxEvent.payload)).all()
    assert sorted(ids) == sorted(f"p{i}" for i in range(25))
    assert count(db, MentionMatch) == 25
    matched = [e["external_id"] for e in events if "query_id" in e]
    assert sorted(matched) == sorted(ids)  # one MentionMatched per match, none twice


def test_matches_are_stored_and_announced(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        refunds = ingest.add_query(
            session, owner.actor, name="refunds", topic="billing", query="refund*", clock=clock
        )
        ingest.add_query(
            session, owner.actor, name="big", topic="reach", query="followers:>=1000", clock=clock
        )
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "1", "text": "I want my refund", "followers": 5000},
            {"id": "2", "text": "refunding is slow"},
            {"id": "3", "text": "nice weather"},
        ],
    )
    run(db, owner, path, clock)
    with db.reader() as session:
        pairs = session.execute(
            select(Mention.external_id, MentionMatch.query_id).join(
                MentionMatch, MentionMatch.mention_id == Mention.id
            )
        ).all()
        events = session.scalars(
            select(OutboxEvent).where(OutboxEvent.event_type == "listening.mention_matched")
        ).all()
    by_mention: dict[str, int] = {}
    for external_id, _ in pairs:
        by_mention[external_id] = by_mention.get(external_id, 0) + 1
    assert by_mention == {"1": 2, "2": 1}
    assert len(events) == 3
    assert {
        (e.payload["external_id"], e.payload["query_name"], e.payload["topic"])
        for e in events
        if e.payload["query_id"] == refunds.id
    } == {("1", "refunds", "billing"), ("2", "refunds", "billing")}


def test_mentions_belong_to_the_importing_organization(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    other = make_org(db, "Other")
    path = write_jsonl(tmp_path / "in.jsonl", posts(3))
    run(db, owner, path, clock)
    assert run(db, other, path, clock).stored == 3  # the other org has its own copy
    with db.reader() as session:
        assert [m.external_id for m in ingest.matching_mentions(session, other.actor, "post")] == [
            "p0",
            "p1",
            "p2",
        ]
        orgs = session.scalars(select(Mention.organization_id).distinct()).all()
    assert sorted(orgs) == sorted([owner.actor.organization_id, other.actor.organization_id])


def test_quarantine_retry_and_drop(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [BAD_LINES[0][1], BAD_LINES[9][1]])
    run(db, owner, path, clock)
    with db.reader() as session:
        rows = ingest.list_quarantine(session, owner.actor)
    assert [r.reason for r in rows] == ["invalid_json", "empty_text"]
    counts = ingest.retry_quarantine(db, owner.actor, [rows[0].id], clock=clock)
    assert counts == {"retried": 1, "stored": 0, "duplicates": 0, "still_quarantined": 1}
    with db.unit_of_work() as session:
        assert ingest.drop_quarantine(session, owner.actor, [], everything=True, clock=clock) == 2
    assert count(db, QuarantinedRecord) == 0


def test_retry_ingests_a_record_that_now_parses(
    db: Database,
    owner: Person,
    clock: FrozenClock,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from groundswell.connectors.files import parse

    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "long", "text": "z" * 50}])
    limit = parse.MAX_TEXT_BYTES
    monkeypatch.setattr(parse, "MAX_TEXT_BYTES", 10)  # a stricter rule than today's
    assert run(db, owner, path, clock).quarantined == 1
    monkeypatch.setattr(parse, "MAX_TEXT_BYTES", limit)
    counts = ingest.retry_quarantine(db, owner.actor, clock=clock)
    assert counts == {"retried": 1, "stored": 1, "duplicates": 0, "still_quarantined": 0}
    assert count(db, QuarantinedRecord) == 0
    assert count(db, Mention) == 1


def test_raw_payloads_are_purged_after_retention(
    db: Database, owner: Person, clock: FrozenClock, tmp_path: Path
) -> None:
    run(db, owner, write_jsonl(tmp_path / "in.jsonl", posts(2)), clock)
    with db.unit_of_work() as session:
        assert ingest.purge_raw_payloads(session, clock.now(), days=1) == 0
        assert ingest.purge_raw_payloads(session, clock.now(), days=0) == 2
    with db.reader() as session:
        assert session.scalars(select(Mention.raw_payload)).all() == [None, None]


def test_unreadable_file_is_invalid_input(db: Database, owner: Person, clock: FrozenClock) -> None:
    from groundswell.kernel.errors import InvalidInput

    with pytest.raises(InvalidInput, match="Cannot read"):
        run(db, owner, Path("/nonexistent/posts.jsonl"), clock)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/a?utm_source=x&utm_medium=y", "https://example.com/a"),
        ("http://example.com:80/?b=2&fbclid=1&a=1", "http://example.com/?b=2&a=1"),
        ("https://example.com:8443/x?gclid=9#frag", "https://example.com:8443/x#frag"),
        ("https://[::1]:8080/p?utm_id=1", "https://[::1]:8080/p"),
        ("not a url", "not a url"),
        ("mailto:a@example.com", "mailto:a@example.com"),
        # already canonical (the quick path) and almost so
        (" https://example.com/@ana/1 ", "https://example.com/@ana/1"),
        ("https://example.com", "https://example.com/"),
        ("https://example.com/a?", "https://example.com/a"),
        ("https://example.com/a#", "https://example.com/a"),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected
