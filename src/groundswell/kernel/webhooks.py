"""Signed webhooks, both ways: `post_signed` sends a JSON payload to another tool, `verify`
checks one sent to us. The signature is HMAC-SHA256 over ``f"{timestamp}."`` followed by the
exact body bytes, written ``sha256=<hex>`` in `X-Groundswell-Signature`, with the Unix time in
`X-Groundswell-Timestamp`; a receiver refuses a timestamp outside its tolerance, so a captured
request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import httpx

SIGNATURE_HEADER = "X-Groundswell-Signature"
TIMESTAMP_HEADER = "X-Groundswell-Timestamp"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def verify(
    secret: str,
    body: bytes,
    timestamp: str | int,
    signature: str,
    *,
    now: datetime,
    tolerance_seconds: int = 300,
) -> bool:
    """True when `signature` is ours for `body` at `timestamp` and the timestamp is within
    `tolerance_seconds` of `now`. Compares in constant time."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now.timestamp() - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, body, ts), signature.strip())


def post_signed(
    client: httpx.Client,
    url: str,
    payload: Mapping[str, Any],
    secret: str,
    *,
    now: datetime,
) -> httpx.Response:
    """POST `payload` as JSON with our signature headers. The caller decides what a failure
    means (the response is returned; transport errors propagate)."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True, default=str).encode()
    ts = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: sign(secret, body, ts),
    }
    return client.post(url, content=body, headers=headers)
