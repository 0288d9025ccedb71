"""Reddit payloads, pure: one "thing" of a Listing (``{"kind": "t3"|"t1", "data": {...}}``, a
submission or a comment, as ``/r/{sub}/new``, ``/r/{sub}/comments`` and ``/search`` give them
with ``raw_json=1``) as a post. Standard library only.

A thing is named by its fullname (``t3_<id>`` for a submission, ``t1_<id>`` for a comment); the
listing cursors ``before``/``after`` are fullnames too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from groundswell.connectors.contract import BadRecord, ConnectorPost
from groundswell.connectors.mastodon.parse import decode_object

FORMAT_THING = "reddit-thing"
KINDS = ("t3", "t1")
MAX_TEXT_CHARS = 100_000
# What Reddit shows in place of a deleted or removed submission's or comment's text.
GONE = frozenset({"[deleted]", "[removed]"})


def fullname(thing: dict[str, Any]) -> str | None:
    """The thing's fullname (``name``, or kind + ``_`` + id), None when it has none."""
    data = thing.get("data")
    if not isinstance(data, dict):
        return None
    name = data.get("name")
    if isinstance(name, str) and name:
        return name
    kind, ident = thing.get("kind"), data.get("id")
    return f"{kind}_{ident}" if isinstance(kind, str) and isinstance(ident, str) else None


def is_gone(thing: dict[str, Any]) -> bool:
    """True for a thing its author deleted or a moderator removed (its text replaced)."""
    data = thing.get("data")
    if not isinstance(data, dict):
        return False
    if thing.get("kind") == "t1":
        body = data.get("body")
        return isinstance(body, str) and body.strip() in GONE
    selftext = data.get("selftext")
    removed = data.get("removed_by_category") is not None
    return removed or (isinstance(selftext, str) and selftext.strip() in GONE)


def parse_thing(payload: bytes) -> ConnectorPost:
    """A submission (title, then its self text) or a comment (its body) as a post."""
    thing = decode_object(payload)
    kind = thing.get("kind")
    if kind not in KINDS:
        raise BadRecord("wrong_type", f"kind: expected t3 or t1, got {str(kind)[:10]!r}")
    data = thing.get("data")
    if not isinstance(data, dict):
        raise BadRecord("wrong_type", "data: expected an object")
    name = fullname(thing)
    if name is None:
        raise BadRecord("missing_id", "data.name: missing")
    if kind == "t3":
        title = _str(data, "title")
        body = _str(data, "selftext")
        if body in GONE:
            body = ""
        text = f"{title}\n\n{body}" if title and body.strip() else title or body
        link = data.get("url_overridden_by_dest") or (
            None if data.get("is_self") else data.get("url")
        )
        links: tuple[str, ...] = (link,) if isinstance(link, str) and link else ()
        in_reply_to = None
    else:
        text = _str(data, "body")
        links = ()
        parent = data.get("parent_id")
        in_reply_to = parent if isinstance(parent, str) else None
    if not text.strip() or text.strip() in GONE:
        raise BadRecord("empty_text", "no text (deleted, removed, or a link without a title)")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRecord("text_too_long", f"text: over {MAX_TEXT_CHARS} characters")
    if "\x00" in text:
        raise BadRecord("null_value", "text: contains a NUL character")
    author = data.get("author")
    permalink = data.get("permalink")
    metrics: dict[str, int | float] = {}
    for key, metric in (
        ("score", "score"),
        ("num_comments", "replies"),
        ("upvote_ratio", "upvote_ratio"),
    ):
        value = data.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            metrics[metric] = value
    return ConnectorPost(
        external_id=name,
        text=text,
        created_at=_created(data.get("created_utc")),
        author_handle=author if isinstance(author, str) and author != "[deleted]" else None,
        url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
        in_reply_to=in_reply_to,
        links=links,
        metrics=metrics,
    )


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord("wrong_type", f"data.{key}: expected a string")
    return value


def _created(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadRecord("bad_timestamp", "data.created_utc: expected seconds since the epoch")
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise BadRecord("bad_timestamp", f"data.created_utc: out of range: {value!r}") from None
