"""Reading posts of the files format, line by line."""

from __future__ import annotations

import pytest

from groundswell.listening.schemas import BadPost, post_from_json


def test_post_from_json_reads_the_files_format() -> None:
    post = post_from_json(
        b'{"id": "a1", "text": "hi", "author": "bob", "links": ["https://x"], '
        b'"created_at": "2026-01-01T00:00:00Z", "url": "https://y", "in_reply_to": null}'
    )
    assert (post.id, post.author, post.links) == ("a1", "bob", ["https://x"])
    assert post_from_json('{"id": 5, "text": ""}').id == 5


@pytest.mark.parametrize(
    ("raw", "words_in_message"),
    [
        (b"\xff\xfe{}", "not valid UTF-8"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b'"text"', "expected a JSON object, got str"),
        (b'{"id": "a"}', "text: Field required"),
        (b'{"text": "hi"}', "id: Field required"),
        (b'{"id": "a", "text": 5}', "text: Input should be a valid string"),
        (b'{"id": true, "text": "t"}', "id"),
        (b'{"id": 1.5, "text": "t"}', "id"),
        (b'{"id": "a", "text": null}', "text"),
        (b'{"id": "a", "text": "t", "followers": -1}', "followers"),
        (b'{"id": "a", "text": "t", "followers": "10"}', "followers"),
        (b'{"id": "a", "text": "t", "links": "https://x"}', "links"),
        (b'{"id": "a", "text": "t", "author": {"handle": 3}}', "author"),
        (b'{"id": "\\ud800", "text": "t"}', "id: not valid Unicode"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON"),
    ],
)
def test_post_from_json_refuses_what_is_not_a_post(raw: bytes, words_in_message: str) -> None:
    with pytest.raises(BadPost) as info:
        post_from_json(raw)
    assert words_in_message in str(info.value)
