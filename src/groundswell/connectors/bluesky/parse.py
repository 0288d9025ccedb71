"""Bluesky payloads, pure: Jetstream events and ``app.bsky.feed.defs#postView`` objects (from
``app.bsky.feed.searchPosts``) as posts, AT-URIs, link facets and grapheme counting. Standard
library only.

A Jetstream event is one JSON object: ``did``, ``time_us`` (the cursor: microseconds since the
epoch), ``kind`` (``commit``, ``identity`` or ``account``) and, for a commit, ``commit`` with
``operation`` (``create``, ``update``, ``delete``), ``collection``, ``rkey``, ``cid`` and
``record`` (the ``app.bsky.feed.post`` record: ``text``, ``createdAt``, ``langs``, ``reply``,
``facets``, ``embed``). Both shapes name a post by its AT-URI
``at://<did>/app.bsky.feed.post/<rkey>``, so a post heard on the stream and found by search is
the same mention.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from groundswell.connectors.contract import BadRecord, ConnectorPost
from groundswell.connectors.mastodon.parse import decode_object

FORMAT_EVENT = "bluesky-jetstream"  # payload: one Jetstream commit event (create/update)
FORMAT_POST_VIEW = "bluesky-postview"  # payload: one postView from searchPosts
POST_COLLECTION = "app.bsky.feed.post"
MAX_TEXT_CHARS = 100_000
URL_PATTERN = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:!?]")


@dataclass(frozen=True, slots=True)
class Event:
    """What one Jetstream frame means for listening: ``post`` (a created or edited post),
    ``delete`` (a deleted post, `uri`), or ``other`` (likes, identity, account...).
    `time_us` is the frame's cursor."""

    action: str
    time_us: int
    uri: str | None = None
    text: str = ""


def at_uri(did: str, rkey: str, collection: str = POST_COLLECTION) -> str:
    return f"at://{did}/{collection}/{rkey}"


def split_at_uri(uri: str) -> tuple[str, str, str]:
    """``(repo, collection, rkey)`` of an AT-URI; `ValueError` when it is not one."""
    if not uri.startswith("at://"):
        raise ValueError(f"not an AT-URI: {uri[:60]!r}")
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or not all(parts):
        raise ValueError(f"not a record AT-URI: {uri[:60]!r}")
    return parts[0], parts[1], parts[2]


def web_url(author: str, rkey: str) -> str:
    return f"https://bsky.app/profile/{author}/post/{rkey}"


def classify(payload: bytes) -> Event:
    """Read a Jetstream frame enough to route it. Frames that cannot be read are ``post`` with
    no time (the caller keeps them as records, so the core quarantines them)."""
    try:
        data = decode_object(payload)
    except BadRecord:
        return Event("post", 0)
    time_us = data.get("time_us")
    if isinstance(time_us, bool) or not isinstance(time_us, int):
        return Event("post", 0)
    commit = data.get("commit")
    if data.get("kind") != "commit" or not isinstance(commit, dict):
        return Event("other", time_us)
    if commit.get("collection") != POST_COLLECTION:
        return Event("other", time_us)
    did, rkey = data.get("did"), commit.get("rkey")
    uri = at_uri(did, rkey) if isinstance(did, str) and isinstance(rkey, str) else None
    operation = commit.get("operation")
    if operation == "delete":
        return Event("delete", time_us, uri)
    if operation in ("create", "update"):
        record = commit.get("record")
        text = record.get("text") if isinstance(record, dict) else None
        return Event("post", time_us, uri, text if isinstance(text, str) else "")
    return Event("other", time_us)


def parse_event(payload: bytes) -> ConnectorPost:
    """A Jetstream ``commit`` create (or update) of an ``app.bsky.feed.post`` as a post. The
    author is known by DID only (Jetstream does not carry handles)."""
    data = decode_object(payload)
    did = data.get("did")
    commit = data.get("commit")
    if not isinstance(did, str) or not did:
        raise BadRecord("missing_id", "did: missing")
    if not isinstance(commit, dict):
        raise BadRecord("wrong_type", "commit: expected an object")
    rkey = commit.get("rkey")
    if not isinstance(rkey, str) or not rkey:
        raise BadRecord("missing_id", "commit.rkey: missing")
    if commit.get("collection") != POST_COLLECTION:
        raise BadRecord("wrong_type", f"commit.collection: not {POST_COLLECTION}")
    record = commit.get("record")
    if not isinstance(record, dict):
        raise BadRecord("missing_text", "commit.record: missing")
    return _post(at_uri(did, rkey), did, None, web_url(did, rkey), record, {})


def parse_post_view(payload: bytes) -> ConnectorPost:
    """A ``postView`` (search result) as a post, with its author's handle and counts."""
    view = decode_object(payload)
    uri = view.get("uri")
    if not isinstance(uri, str):
        raise BadRecord("missing_id", "uri: missing")
    try:
        did, _, rkey = split_at_uri(uri)
    except ValueError as exc:
        raise BadRecord("wrong_type", f"uri: {exc}") from None
    author = view.get("author")
    if not isinstance(author, dict):
        raise BadRecord("wrong_type", "author: expected an object")
    record = view.get("record")
    if not isinstance(record, dict):
        raise BadRecord("missing_text", "record: missing")
    handle = author.get("handle") if isinstance(author.get("handle"), str) else None
    name = author.get("displayName") if isinstance(author.get("displayName"), str) else None
    metrics: dict[str, int | float] = {}
    for key, metric in (
        ("replyCount", "replies"),
        ("repostCount", "reposts"),
        ("likeCount", "likes"),
        ("quoteCount", "quotes"),
    ):
        value = view.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            metrics[metric] = value
    return _post(uri, handle or did, name or None, web_url(handle or did, rkey), record, metrics)


def _post(
    uri: str,
    author: str,
    name: str | None,
    url: str,
    record: dict[str, Any],
    metrics: dict[str, int | float],
) -> ConnectorPost:
    text = record.get("text")
    if text is None:
        raise BadRecord("missing_text", "record.text: missing")
    if not isinstance(text, str):
        raise BadRecord("wrong_type", "record.text: expected a string")
    if not text.strip():
        raise BadRecord("empty_text", "record.text: empty (an image-only post?)")
    if len(text) > MAX_TEXT_CHARS:
        raise BadRecord("text_too_long", f"record.text: over {MAX_TEXT_CHARS} characters")
    if "\x00" in text:
        raise BadRecord("null_value", "record.text: contains a NUL character")
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    in_reply_to = parent.get("uri") if isinstance(parent, dict) else None
    return ConnectorPost(
        external_id=uri,
        text=text,
        created_at=_timestamp(record.get("createdAt")),
        author_handle=author,
        author_name=name,
        lang=lang,
        url=url,
        in_reply_to=in_reply_to if isinstance(in_reply_to, str) else None,
        links=tuple(_links(record)),
        metrics=metrics,
    )


def _links(record: dict[str, Any]) -> Iterator[str]:
    """Link facets (``app.bsky.richtext.facet#link``) and an external embed's URI."""
    seen: set[str] = set()
    facets = record.get("facets")
    for facet in facets if isinstance(facets, list) else []:
        features = facet.get("features") if isinstance(facet, dict) else None
        for feature in features if isinstance(features, list) else []:
            if (
                isinstance(feature, dict)
                and feature.get("$type") == "app.bsky.richtext.facet#link"
                and isinstance(feature.get("uri"), str)
                and feature["uri"] not in seen
            ):
                seen.add(feature["uri"])
                yield feature["uri"]
    embed = record.get("embed")
    external = embed.get("external") if isinstance(embed, dict) else None
    uri = external.get("uri") if isinstance(external, dict) else None
    if isinstance(uri, str) and uri not in seen:
        yield uri


def _timestamp(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadRecord("bad_timestamp", "createdAt: expected a string")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise BadRecord("bad_timestamp", f"createdAt: not ISO 8601: {value[:40]!r}") from None
    if parsed.tzinfo is None:
        raise BadRecord("bad_timestamp", f"createdAt: no time zone: {value[:40]!r}")
    return parsed


def link_facets(text: str) -> list[dict[str, Any]]:
    """Link facets for the URLs in `text`, with UTF-8 byte offsets as the AT Protocol wants, so
    links in a published post are clickable."""
    facets = []
    for match in URL_PATTERN.finditer(text):
        start = len(text[: match.start()].encode("utf-8"))
        end = start + len(match.group().encode("utf-8"))
        facets.append(
            {
                "index": {"byteStart": start, "byteEnd": end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}],
            }
        )
    return facets


_REGIONAL = range(0x1F1E6, 0x1F200)
_EXTENDERS = frozenset({0x200D})  # zero-width joiner: glues the next character on


def graphemes(text: str) -> int:
    """The number of user-perceived characters (extended grapheme clusters, as Bluesky counts
    its 300), approximated from Unicode data: combining marks, variation selectors, emoji
    modifiers and tag characters extend the previous cluster; a zero-width joiner joins the
    next character; regional indicators pair into one flag; CR LF is one."""
    count = 0
    joined = False
    regional_open = False
    previous = ""
    for char in text:
        code = ord(char)
        if joined:
            joined = False
            continue
        if code in _EXTENDERS:
            joined = count > 0
            continue
        if (
            unicodedata.category(char) in ("Mn", "Me", "Mc")
            or 0xFE00 <= code <= 0xFE0F
            or 0x1F3FB <= code <= 0x1F3FF
            or 0xE0020 <= code <= 0xE007F
        ) and count > 0:
            continue
        if previous == "\r" and char == "\n":
            previous = char
            continue
        if code in _REGIONAL:
            if regional_open:
                regional_open = False
                continue
            regional_open = True
        else:
            regional_open = False
        previous = char
        count += 1
    return count
