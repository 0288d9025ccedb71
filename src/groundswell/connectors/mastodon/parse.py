"""Mastodon payloads, pure: a Status entity (JSON, as the REST and streaming APIs give it) as a
post, its HTML content as plain text, server-sent events, Link headers and status ids.
Standard library only.

Formats follow the Mastodon API documentation: ``Status`` (id, created_at, content, account,
in_reply_to_id, language, url, replies/reblogs/favourites counts, reblog, spoiler_text, card),
``Notification`` (id, type, status), the streaming API's ``event:``/``data:`` frames, and
the ``Link`` header of paginated timelines (``rel="next"``/``rel="prev"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

from groundswell.connectors.contract import BadRecord, ConnectorPost
from groundswell.connectors.payload import decode_object as payload_object

FORMAT_STATUS = "mastodon-status"  # payload: one Status entity as JSON
MAX_TEXT_CHARS = 100_000
MAX_DEPTH = 32

# Anchors Mastodon renders for mentions and hashtags; they are part of the text, not links out.
_INTERNAL_LINK_CLASSES = frozenset({"mention", "hashtag", "u-url"})
_BLOCKS = frozenset({"p", "blockquote", "pre", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5"})


class _PlainText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag in _BLOCKS:
            self._paragraph_break()
        elif tag == "a":
            values = dict(attrs)
            classes = set((values.get("class") or "").split())
            href = values.get("href")
            if href and not classes & _INTERNAL_LINK_CLASSES and href not in self.links:
                self.links.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS:
            self._paragraph_break()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def _paragraph_break(self) -> None:
        text = "".join(self.parts)
        if text and not text.endswith("\n\n"):
            self.parts.append("\n" if text.endswith("\n") else "\n\n")


def html_to_text(html: str) -> tuple[str, tuple[str, ...]]:
    """Mastodon's HTML ``content`` as plain text, and the links out of it (mentions and
    hashtags excluded). Tags are stripped, ``<br>`` becomes a line break, paragraphs are
    separated by a blank line, entities are unescaped; the ``invisible``/``ellipsis`` spans of
    shortened URLs are kept, so a URL reads in full."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    lines = "".join(parser.parts).replace("\r\n", "\n").split("\n")
    text = "\n".join(line.rstrip() for line in lines).strip("\n ")
    return text, tuple(parser.links)


def decode_object(payload: bytes) -> dict[str, Any]:
    """A payload as one JSON object, or `BadRecord` with the reason."""
    return payload_object(payload, max_depth=MAX_DEPTH)


def parse_status(payload: bytes) -> ConnectorPost:
    """One Status entity as a post. A boost (``reblog``) is read as the post it boosts. A
    status of ``visibility`` ``direct`` (only the accounts it mentions can read it: a direct
    message, as the mentions feed and the user stream deliver it) is a post on the
    ``direct`` channel; every other visibility is ``public``."""
    status = decode_object(payload)
    reblog = status.get("reblog")
    if isinstance(reblog, dict):
        status = reblog
    external_id = _required_str(status, "id")
    content = status.get("content")
    if content is None:
        raise BadRecord("missing_text", "content: missing")
    if not isinstance(content, str):
        raise BadRecord("wrong_type", "content: expected a string")
    text, links = html_to_text(content)
    spoiler = status.get("spoiler_text")
    if isinstance(spoiler, str) and spoiler.strip():
        text = f"{spoiler.strip()}\n\n{text}" if text else spoiler.strip()
    if not text.strip():
        raise BadRecord("empty_text", "content: no text (media only?)")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRecord("text_too_long", f"content: over {MAX_TEXT_CHARS} characters")
    if "\x00" in text:
        raise BadRecord("null_value", "content: contains a NUL character")
    account = status.get("account")
    if account is not None and not isinstance(account, dict):
        raise BadRecord("wrong_type", "account: expected an object")
    account = account or {}
    card = status.get("card")
    if isinstance(card, dict) and isinstance(card.get("url"), str) and card["url"] not in links:
        links = (*links, card["url"])
    reply = status.get("in_reply_to_id")
    visibility = _opt_str(status, "visibility")
    return ConnectorPost(
        external_id=external_id,
        text=text,
        created_at=_timestamp(status.get("created_at")),
        author_handle=_opt_str(account, "acct"),
        author_name=_opt_str(account, "display_name") or None,
        author_followers=_opt_count(account, "followers_count"),
        author_verified=None,  # Mastodon has no verified accounts; profile links are verified.
        lang=_opt_str(status, "language"),
        url=_opt_str(status, "url") or _opt_str(status, "uri"),
        in_reply_to=None if reply is None else str(reply),
        links=links,
        metrics={
            name: value
            for name, key in (
                ("replies", "replies_count"),
                ("reposts", "reblogs_count"),
                ("likes", "favourites_count"),
            )
            if (value := _opt_count(status, key)) is not None
        },
        channel="direct" if visibility == "direct" else "public",
    )


def iter_sse(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Server-sent events as ``(event, data)``, from the stream's lines (without their line
    ends). Comment lines (``:thump``, Mastodon's heartbeat) are skipped; several ``data:``
    lines of one event are joined by newlines; an event without a name is ``message``."""
    event = ""
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            event = value
        elif field == "data":
            data.append(value)
    if data:
        yield event or "message", "\n".join(data)


def link_param(link_header: str | None, rel: str, param: str) -> str | None:
    """A query parameter of the ``Link`` header's URL with relation `rel` (for a timeline:
    ``prev`` holds ``min_id`` of the newest status, ``next`` holds ``max_id``)."""
    if not link_header:
        return None
    for part in link_header.split(","):
        url_part, _, params = part.partition(";")
        if f'rel="{rel}"' not in params.replace(" ", "") and f"rel={rel}" not in params:
            continue
        url = url_part.strip().removeprefix("<").removesuffix(">")
        values = parse_qs(urlsplit(url).query).get(param)
        if values:
            return values[0]
    return None


def id_key(status_id: str) -> tuple[int, str]:
    """Order of Mastodon ids: they are strings to compare by length, then character by
    character (a longer id is newer), as the API documentation advises."""
    return len(status_id), status_id


def newest(ids: Iterable[str], start: str | None = None) -> str | None:
    """The newest of `ids` and `start` (None when there is none)."""
    best = start
    for item in ids:
        if best is None or id_key(item) > id_key(best):
            best = item
    return best


def _required_str(data: dict[str, Any], key: str) -> str:
    if key not in data:
        raise BadRecord("missing_id", f"{key}: missing")
    value = data[key]
    if value is None:
        raise BadRecord("null_value", f"{key}: null")
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise BadRecord("wrong_type", f"{key}: expected a string")
    text = str(value).strip()
    if not text:
        raise BadRecord("missing_id", f"{key}: empty")
    return text


def _opt_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("wrong_type", f"{key}: expected a string")
    return value


def _opt_count(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadRecord("wrong_type", f"{key}: expected a non-negative integer")
    return value


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("bad_timestamp", "created_at: expected an ISO 8601 string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord("bad_timestamp", f"created_at: not ISO 8601: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise BadRecord("bad_timestamp", f"created_at: no time zone: {value[:40]!r}")
    return parsed
