"""The ``files`` format: every kind of bad record is refused with its reason; good records of
both encodings (JSONL, CSV) parse to the same post."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from groundswell.connectors.contract import REASONS, BadRecord
from groundswell.connectors.files.connector import FilesConnector
from groundswell.connectors.files.parse import (
    FORMAT_CSV,
    FORMAT_JSONL,
    MAX_DEPTH,
    MAX_TEXT_BYTES,
    parse_payload,
)

BAD: list[tuple[str, bytes]] = [
    ("invalid_json", b'{"id": "1", "text": '),
    ("invalid_utf8", b'{"id": "1", "text": "caf\xe9"}'),
    ("missing_text", b'{"id": "1"}'),
    ("text_too_long", json.dumps({"id": "1", "text": "x" * (MAX_TEXT_BYTES + 1)}).encode()),
    ("bad_timestamp", b'{"id": "1", "text": "hi", "created_at": "yesterday"}'),
    ("null_value", b'{"id": "1", "text": null}'),
    ("too_deep", b'{"id": "1", "text": "hi", "x": ' + b"[" * 40 + b"]" * 40 + b"}"),
    ("wrong_type", b'{"id": "1", "text": 42}'),
    ("missing_id", b'{"text": "hi"}'),
    ("empty_text", b'{"id": "1", "text": "   "}'),
]


def test_the_ten_kinds_cover_every_reason() -> None:
    assert sorted(reason for reason, _ in BAD) == sorted(REASONS)


@pytest.mark.parametrize(("reason", "payload"), BAD, ids=[r for r, _ in BAD])
def test_bad_record_is_refused_with_its_reason(reason: str, payload: bytes) -> None:
    with pytest.raises(BadRecord) as caught:
        parse_payload(payload, FORMAT_JSONL)
    assert caught.value.reason == reason
    assert caught.value.message


@pytest.mark.parametrize(
    "payload",
    [
        b'{"id": null, "text": "hi"}',
        b'{"id": "1", "text": "a\\u0000b"}',
    ],
)
def test_nulls_are_refused(payload: bytes) -> None:
    with pytest.raises(BadRecord) as caught:
        parse_payload(payload, FORMAT_JSONL)
    assert caught.value.reason == "null_value"


@pytest.mark.parametrize(
    "payload",
    [
        b"[1, 2]",
        b'{"id": true, "text": "hi"}',
        b'{"id": "1", "text": "hi", "author": 5}',
        b'{"id": "1", "text": "hi", "author": {"followers": "many"}}',
        b'{"id": "1", "text": "hi", "followers": -1}',
        b'{"id": "1", "text": "hi", "links": "https://x.example"}',
        b'{"id": "1", "text": "hi", "lang": 3}',
    ],
)
def test_wrong_types_are_refused(payload: bytes) -> None:
    with pytest.raises(BadRecord) as caught:
        parse_payload(payload, FORMAT_JSONL)
    assert caught.value.reason == "wrong_type"


def test_deep_nesting_beyond_the_recursion_limit_is_refused() -> None:
    payload = b'{"id": "1", "text": "hi", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(BadRecord) as caught:
        parse_payload(payload, FORMAT_JSONL)
    assert caught.value.reason == "too_deep"


def test_depth_limit_is_inclusive() -> None:
    nested = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    post = parse_payload(f'{{"id": "1", "text": "hi", "x": {nested}}}'.encode(), FORMAT_JSONL)
    assert post.text == "hi"


def test_full_record() -> None:
    record = {
        "id": 17,
        "text": "Where is my parcel?",
        "created_at": "2026-11-01T10:00:00+01:00",
        "author": {"handle": "ana", "name": "Ana", "followers": 12, "verified": True},
        "lang": "en",
        "url": "https://social.example/ana/17",
        "in_reply_to": 9,
        "links": ["https://example.com/a"],
        "metrics": {"likes": 3},
        "unknown": "ignored",
    }
    post = parse_payload(json.dumps(record).encode(), FORMAT_JSONL)
    assert post.external_id == "17"
    assert post.created_at == datetime(2026, 11, 1, 10, tzinfo=timezone(timedelta(hours=1)))
    assert (post.author_handle, post.author_name, post.author_followers, post.author_verified) == (
        "ana",
        "Ana",
        12,
        True,
    )
    assert post.in_reply_to == "9"
    assert post.links == ("https://example.com/a",)
    assert post.metrics == {"likes": 3}


def test_timestamp_without_offset_is_utc_and_absent_is_none() -> None:
    post = parse_payload(b'{"id": "1", "text": "hi", "created_at": "2026-01-02T03:04:05"}', "jsonl")
    assert post.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_payload(b'{"id": "1", "text": "hi"}', FORMAT_JSONL).created_at is None


def test_top_level_followers_override_the_author_object() -> None:
    post = parse_payload(
        b'{"id": "1", "text": "hi", "author": {"handle": "a", "followers": 1}, "followers": 5}',
        FORMAT_JSONL,
    )
    assert post.author_followers == 5


def test_csv_and_jsonl_give_the_same_post(tmp_path: Path) -> None:
    csv_file = tmp_path / "posts.csv"
    csv_file.write_text(
        "id,text,created_at,author,author_name,author_followers,author_verified,links\n"
        '7,"Hello, world",2026-11-02T08:00:00Z,carl,Carl,42,true,https://a.example https://b.example\n'
        "8,,,,,,,\n",
        encoding="utf-8",
    )
    jsonl = {
        "id": "7",
        "text": "Hello, world",
        "created_at": "2026-11-02T08:00:00Z",
        "author": {"handle": "carl", "name": "Carl", "followers": 42, "verified": True},
        "links": ["https://a.example", "https://b.example"],
    }
    connector = FilesConnector()
    records = list(connector.records(str(csv_file)))
    assert [r.format for r in records] == [FORMAT_CSV, FORMAT_CSV]
    assert [r.position for r in records] == [2, 3]
    assert connector.parse(records[0]) == parse_payload(json.dumps(jsonl).encode(), FORMAT_JSONL)
    with pytest.raises(BadRecord) as caught:
        connector.parse(records[1])
    assert caught.value.reason == "missing_text"


def test_csv_bad_number_and_bad_bytes(tmp_path: Path) -> None:
    csv_file = tmp_path / "posts.csv"
    csv_file.write_bytes(b"id,text,followers\n1,hi,lots\n2,caf\xe9,3\n")
    connector = FilesConnector()
    reasons = []
    for record in connector.records(str(csv_file)):
        with pytest.raises(BadRecord) as caught:
            connector.parse(record)
        reasons.append(caught.value.reason)
    assert reasons == ["wrong_type", "invalid_utf8"]


def test_jsonl_reader_skips_blank_lines_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "posts.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"id": "1", "text": "a"}\n\n  \n{"id": "2", "text": "b"}\r\n')
    connector = FilesConnector()
    records = list(connector.records(str(path)))
    assert [r.position for r in records] == [1, 4]
    assert [connector.parse(r).external_id for r in records] == ["1", "2"]
