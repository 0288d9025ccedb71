"""The ``files`` format, record by record: one JSON object per line (JSONL), or one CSV row
with the same column names. Pure: standard library only. See docs/files-format.md.

Every refusal is a `BadRecord` whose `reason` is one of `contract.REASONS`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from groundswell.connectors.contract import CHANNELS, BadRecord, Channel, ConnectorPost
from groundswell.connectors.payload import decode_object
from groundswell.connectors.payload import kind as _kind

MAX_TEXT_BYTES = 100_000  # text over 100 kB (UTF-8) is refused, not truncated
MAX_DEPTH = 16  # nesting of arrays/objects; a post needs 3 at most
MAX_ID_CHARS = 200

FORMAT_JSONL = "jsonl"
FORMAT_CSV = "csv"  # payload = the row as a JSON object of strings (header -> cell)


def parse_payload(payload: bytes, fmt: str) -> ConnectorPost:
    """Parse one record's payload in format `fmt` (``jsonl`` or ``csv``)."""
    data = decode_object(payload, max_depth=MAX_DEPTH)
    if fmt == FORMAT_CSV:
        data = _from_csv_cells(data)
    return post_from_mapping(data)


def post_from_mapping(data: dict[str, Any]) -> ConnectorPost:
    """Check one decoded record's fields and build the post. Unknown fields are ignored (they
    stay in the raw payload)."""
    external_id = _id(data)
    text = _text(data)
    author_handle: str | None = None
    author_name: str | None = None
    author_followers: int | None = None
    author_verified: bool | None = None
    author = data.get("author")
    if isinstance(author, str):
        author_handle = author
    elif isinstance(author, dict):
        author_handle = _opt_str(author, "handle", "author.handle")
        author_name = _opt_str(author, "name", "author.name")
        author_followers = _opt_count(author, "followers", "author.followers")
        author_verified = _opt_bool(author, "verified", "author.verified")
    elif author is not None:
        raise BadRecord(
            "wrong_type", f"author: expected a string or an object, got {_kind(author)}"
        )
    followers = _opt_count(data, "followers", "followers")
    if followers is not None:
        author_followers = followers
    reply = data.get("in_reply_to")
    if reply is not None and (isinstance(reply, bool) or not isinstance(reply, str | int)):
        raise BadRecord(
            "wrong_type", f"in_reply_to: expected a string or integer, got {_kind(reply)}"
        )
    links = data.get("links")
    if links is None:
        link_list: tuple[str, ...] = ()
    elif isinstance(links, list) and all(isinstance(x, str) for x in links):
        link_list = tuple(links)
    else:
        raise BadRecord("wrong_type", "links: expected a list of strings")
    metrics = data.get("metrics")
    metric_map: dict[str, int | float] = {}
    if isinstance(metrics, dict):
        for key, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise BadRecord("wrong_type", f"metrics.{key}: expected a number")
            metric_map[str(key)] = value
    elif metrics is not None:
        raise BadRecord("wrong_type", f"metrics: expected an object, got {_kind(metrics)}")
    return ConnectorPost(
        external_id=external_id,
        text=text,
        created_at=_timestamp(data.get("created_at")),
        author_handle=author_handle,
        author_name=author_name,
        author_followers=author_followers,
        author_verified=author_verified,
        lang=_opt_str(data, "lang", "lang"),
        url=_opt_str(data, "url", "url"),
        in_reply_to=None if reply is None else str(reply),
        links=link_list,
        metrics=metric_map,
        channel=_channel(data),
    )


def _channel(data: dict[str, Any]) -> Channel:
    """``public`` (the default) or ``direct`` (a private message to the brand account)."""
    value = data.get("channel")
    if value is None:
        return "public"
    for channel in CHANNELS:
        if value == channel:
            return channel
    raise BadRecord("wrong_type", 'channel: expected "public" or "direct"')


def _id(data: dict[str, Any]) -> str:
    if "id" not in data:
        raise BadRecord("missing_id", "id: missing")
    value = data["id"]
    if value is None:
        raise BadRecord("null_value", "id: null")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRecord("wrong_type", f"id: expected a string or integer, got {_kind(value)}")
    text = str(value).strip()
    if not text:
        raise BadRecord("missing_id", "id: empty")
    if len(text) > MAX_ID_CHARS:
        raise BadRecord("wrong_type", f"id: longer than {MAX_ID_CHARS} characters")
    _check_chars(text, "id")
    return text


def _text(data: dict[str, Any]) -> str:
    if "text" not in data:
        raise BadRecord("missing_text", "text: missing")
    value = data["text"]
    if value is None:
        raise BadRecord("null_value", "text: null")
    if not isinstance(value, str):
        raise BadRecord("wrong_type", f"text: expected a string, got {_kind(value)}")
    if not value.strip():
        raise BadRecord("empty_text", "text: empty")
    _check_chars(value, "text")
    size = len(value.encode("utf-8"))
    if size > MAX_TEXT_BYTES:
        raise BadRecord("text_too_long", f"text: {size} bytes, over the limit of {MAX_TEXT_BYTES}")
    return value


def _check_chars(value: str, name: str) -> None:
    # NUL cannot be stored in PostgreSQL text; a lone surrogate ("\ud800") is not Unicode.
    if "\x00" in value:
        raise BadRecord("null_value", f"{name}: contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRecord("invalid_utf8", f"{name}: not valid Unicode (unpaired surrogate)") from None


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord(
            "bad_timestamp", f"created_at: expected an ISO 8601 string, got {_kind(value)}"
        )
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord("bad_timestamp", f"created_at: not ISO 8601: {value[:40]!r}") from None
    # A timestamp without an offset is read as UTC (documented).
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _opt_str(data: dict[str, Any], key: str, label: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("wrong_type", f"{label}: expected a string, got {_kind(value)}")
    _check_chars(value, label)
    return value


def _opt_count(data: dict[str, Any], key: str, label: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRecord("wrong_type", f"{label}: expected a non-negative integer")
    return value


def _opt_bool(data: dict[str, Any], key: str, label: str) -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise BadRecord("wrong_type", f"{label}: expected true or false, got {_kind(value)}")
    return value


def _from_csv_cells(cells: dict[str, Any]) -> dict[str, Any]:
    """A CSV row's strings as the JSON types of the format: empty cell = absent; ``followers``
    an integer; ``links`` separated by whitespace; ``author_name``/``author_followers``/
    ``author_verified`` (true/false) complete ``author``."""
    data: dict[str, Any] = {k: v for k, v in cells.items() if isinstance(k, str) and v != ""}
    for key in ("followers", "author_followers"):
        if key in data:
            data[key] = _csv_int(data[key], key)
    if "links" in data:
        data["links"] = str(data["links"]).split()
    if "author_verified" in data:
        flag = str(data["author_verified"]).strip().lower()
        if flag not in ("true", "false", "1", "0"):
            raise BadRecord("wrong_type", "author_verified: expected true or false")
        data["author_verified"] = flag in ("true", "1")
    extra = {
        field: data.pop(f"author_{field}")
        for field in ("name", "followers", "verified")
        if f"author_{field}" in data
    }
    if extra:
        data["author"] = {"handle": data.get("author"), **extra}
    return data


def _csv_int(value: Any, key: str) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise BadRecord(
            "wrong_type", f"{key}: expected an integer, got {str(value)[:20]!r}"
        ) from None
