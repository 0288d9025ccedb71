"""Normalizing a post before it is stored: Unicode NFC, canonical URLs without tracking
parameters, lower-case language codes. Pure."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from groundswell.connectors.contract import ConnectorPost

# Query parameters that only track the click; dropped so the same link is stored once.
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "igshid"}
    | {"mc_cid", "mc_eid", "_ga", "_gl", "ref_src", "spm"}
)
TRACKING_PREFIXES = ("utm_",)


# Already canonical: lower-case http(s) scheme and host, no port or user, a path, no query
# or fragment (most links; `_canonical` would give them back unchanged, at ~25 us each).
_PLAIN = re.compile(r"https?://[a-z0-9.-]+/[^?#\s]*\Z")


def canonical_url(url: str) -> str:
    """`url` with a lower-case scheme and host, no default port, and no tracking parameters
    (``utm_*``, ``fbclid``, ``gclid``, ...); other parameters keep their order. Text that is
    not an absolute http(s) URL comes back stripped and otherwise unchanged."""
    url = url.strip()
    return url if _PLAIN.match(url) else _canonical(url)


def _canonical(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal: urlsplit dropped its brackets
        host = f"[{host}]"
    if port is not None and (scheme, port) not in (("http", 80), ("https", 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:
        host = f"{parts.netloc.rsplit('@', 1)[0]}@{host}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), parts.fragment))


def _nfc(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFC", value)


def normalize_post(post: ConnectorPost) -> ConnectorPost:
    """Unicode NFC on every text field, canonical URLs, language code lower-case."""
    return replace(
        post,
        external_id=unicodedata.normalize("NFC", post.external_id),
        text=unicodedata.normalize("NFC", post.text),
        author_handle=_nfc(post.author_handle),
        author_name=_nfc(post.author_name),
        lang=post.lang.strip().lower().replace("_", "-") or None if post.lang else None,
        url=canonical_url(post.url) if post.url else None,
        links=tuple(dict.fromkeys(canonical_url(link) for link in post.links)),
    )
