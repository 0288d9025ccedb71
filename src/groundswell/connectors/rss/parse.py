"""RSS and Atom, pure: a feed document (bytes) into entries, an entry into a post. No I/O:
feedparser is given the bytes, never a URL.

An entry travels as a raw record of format ``rss-entry``: the JSON object of the fields we
keep (``id``, ``link``, ``title``, ``summary``, ``content``, ``published``, ``updated``,
``author``, ``lang``, ``feed_title``, ``feed_link``), so the quarantine can parse it again.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from groundswell.connectors.contract import BadRecord, ConnectorPost
from groundswell.connectors.files.parse import post_from_mapping

FORMAT = "rss-entry"
MAX_TEXT_CHARS = 20_000  # an article's full content is cut here (with an ellipsis)
BLOCK_TAGS = frozenset(
    {"p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "tr"}
    | {"pre", "hr", "section", "article", "figure", "table"}
)


class NotAFeed(ValueError):
    """The document is neither RSS nor Atom (the message says what the parser saw)."""


@dataclass(frozen=True, slots=True)
class Feed:
    title: str | None
    link: str | None
    ttl_seconds: float | None  # RSS <ttl>: minutes the feed may be cached
    entries: tuple[dict[str, Any], ...]  # newest first, as the feed lists them


def parse_feed(content: bytes, *, location: str = "") -> Feed:
    """The entries of an RSS (0.9x, 1.0, 2.0) or Atom document. Raises `NotAFeed` when the
    document holds no feed at all (a page of HTML, an error text, garbage)."""
    headers = {"content-location": location} if location else None
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers)
    feed: Mapping[str, Any] = parsed.get("feed", {})
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise NotAFeed(f"not an RSS or Atom feed ({reason or 'no feed element'})")
    feed_title = _clean(feed.get("title"))
    feed_link = _clean(feed.get("link"))
    lang = _clean(feed.get("language"))
    entries = tuple(
        _entry(e, feed_title=feed_title, feed_link=feed_link, lang=lang) for e in parsed.entries
    )
    return Feed(feed_title, feed_link, _ttl(feed.get("ttl")), entries)


def entry_key(entry: Mapping[str, Any]) -> str:
    """What identifies an entry: its id (RSS guid, Atom id), else its link, else a hash of
    its title and date."""
    for key in ("id", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    basis = f"{entry.get('title') or ''}\n{entry.get('published') or entry.get('updated') or ''}"
    return "sha1:" + hashlib.sha1(basis.encode(), usedforsecurity=False).hexdigest()


def encode_entry(entry: Mapping[str, Any]) -> bytes:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True).encode("utf-8")


def parse_entry(payload: bytes) -> ConnectorPost:
    """One ``rss-entry`` record as a post: text = title, a blank line, the content (or the
    summary) as plain text; author = the entry's author, else the feed's title."""
    try:
        entry = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadRecord("invalid_utf8", "not valid UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BadRecord("invalid_json", f"not valid JSON ({exc.msg})") from None
    if not isinstance(entry, dict):
        raise BadRecord("wrong_type", "expected a JSON object")
    title = entry.get("title") or ""
    body = html_to_text(entry.get("content") or entry.get("summary") or "")
    parts = [p for p in (str(title).strip(), body) if p]
    if len(parts) == 2 and parts[1].startswith(parts[0]):
        parts = parts[1:]  # a summary that repeats the title
    text = "\n\n".join(parts)
    if len(text) > MAX_TEXT_CHARS:
        text = text[: MAX_TEXT_CHARS - 1].rstrip() + "…"
    links = list(dict.fromkeys(_hrefs(entry.get("content") or entry.get("summary") or "")))
    record = {
        "id": entry_key(entry),
        "text": text,
        "created_at": entry.get("published") or entry.get("updated"),
        "author": {
            "handle": entry.get("author") or entry.get("feed_title"),
            "name": entry.get("author") or entry.get("feed_title"),
        },
        "lang": entry.get("lang"),
        "url": entry.get("link"),
        "links": links,
    }
    return post_from_mapping(record)


def html_to_text(html: str) -> str:
    """Markup as plain text: tags dropped, block elements as line breaks, entities decoded,
    spaces collapsed."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = ("".join(parser.parts)).split("\n")
    kept = [" ".join(line.split()) for line in lines]
    out: list[str] = []
    for line in kept:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip()


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hrefs: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")
        if tag == "a":
            href = dict(attrs).get("href")
            if href and href.startswith(("http://", "https://")):
                self.hrefs.append(href)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)  # <br/> is one break, not an opening and a closing

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self._skip:
            self._skip -= 1
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _hrefs(html: str) -> list[str]:
    if "<a" not in html.lower():
        return []
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    return parser.hrefs


def _entry(
    e: dict[str, Any], *, feed_title: str | None, feed_link: str | None, lang: str | None
) -> dict[str, Any]:
    content = e.get("content") or []
    html = next(
        (c.get("value") for c in content if isinstance(c, Mapping) and c.get("value")), None
    )
    detail = e.get("title_detail") or {}
    return {
        "id": _clean(e.get("id")),
        "link": _clean(e.get("link")),
        "title": html_to_text(e.get("title") or "")
        if "html" in str(detail.get("type", ""))
        else _clean(e.get("title")),
        "summary": _clean(e.get("summary")),
        "content": html,
        # dict.get: feedparser's own get() maps a missing `updated` to `published`, with a
        # DeprecationWarning; we want each as the feed wrote it.
        "published": _instant(dict.get(e, "published_parsed")),
        "updated": _instant(dict.get(e, "updated_parsed")),
        "author": _clean(e.get("author")),
        "lang": _clean((e.get("summary_detail") or {}).get("language")) or lang,
        "feed_title": feed_title,
        "feed_link": feed_link,
    }


def _instant(value: Any) -> str | None:
    if not isinstance(value, time.struct_time):
        return None
    # feedparser gives dates as UTC struct_time.
    return datetime.fromtimestamp(calendar.timegm(value), tz=UTC).isoformat()


def _clean(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _ttl(value: Any) -> float | None:
    try:
        minutes = float(value)
    except (TypeError, ValueError):
        return None
    return minutes * 60 if minutes > 0 else None
