"""A webhook delivery, pure: the body (one post, or a list of posts, in the files format) into
one raw record per post. A body that is not that is refused whole (`BadBody`); a post that is
not a post is a record the pipeline quarantines, so the good posts of a delivery are kept.
"""

from __future__ import annotations

import json
from typing import Any

from groundswell.connectors.contract import ConnectorPost, RawRecord
from groundswell.connectors.files.parse import FORMAT_JSONL, parse_payload

FORMAT = FORMAT_JSONL  # each post is re-encoded as one JSON object, as a JSONL line is
MAX_POSTS = 1000


class BadBody(ValueError):
    """The body as a whole is not a delivery; the message says why, for the sender."""


def records_from_body(body: bytes) -> list[RawRecord]:
    """One record per post of the body, in order (`position` = 1-based index in the list).
    Raises `BadBody` for a body that is not UTF-8 JSON, not an object or a list of 1 to
    `MAX_POSTS` items."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadBody(f"the body is not UTF-8 (byte {exc.start + 1})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadBody(
            f"the body is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadBody("the body is nested too deep") from None
    items: list[Any]
    if isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        raise BadBody("expected a post (a JSON object) or a list of posts")
    if not items:
        raise BadBody("the list of posts is empty")
    if len(items) > MAX_POSTS:
        raise BadBody(f"{len(items)} posts in one delivery; send at most {MAX_POSTS}")
    try:
        return [RawRecord(_encode(item), i, FORMAT) for i, item in enumerate(items, start=1)]
    except RecursionError:
        raise BadBody("the body is nested too deep") from None


def parse_record(record: RawRecord) -> ConnectorPost:
    """One post of a delivery; raises `BadRecord` exactly as a files-format line does."""
    return parse_payload(record.payload, FORMAT)


def _encode(item: Any) -> bytes:
    try:
        return json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # an unpaired surrogate escape: keep it escaped, parse refuses it
        return json.dumps(item).encode("ascii")
