"""HTTP for connectors: one request with retries on 429 and 5xx, exponential backoff with full
jitter, honouring the network's Retry-After (seconds or an HTTP date). Sleeping and randomness
are injected so tests run instantly and deterministically.

A connector never logs a request's headers (they carry tokens) and never puts a secret into
an exception message.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SourceUnavailable(Exception):
    """The network could not be read or refused the request. `status` is the last HTTP status
    (None: no answer), `retry_after` the seconds it asked us to wait, if it said."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    base_seconds: float = 0.5
    max_seconds: float = 60.0


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: a number of seconds or an HTTP date. None when absent
    or unreadable; never negative."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, policy: RetryPolicy, rand: Callable[[], float]) -> float:
    """Full jitter: a uniform draw in [0, min(max, base * 2**attempt))."""
    return float(rand() * min(policy.max_seconds, policy.base_seconds * 2.0**attempt))


def request(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = RetryPolicy(),
    sleep: Callable[[float], None] = time.sleep,
    rand: Callable[[], float] = random.random,
    headers: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send one request, retrying 429/5xx and transport errors up to `policy.attempts` times.
    Waits Retry-After when the answer gives one (capped by `policy.max_seconds`), else a
    jittered backoff. Returns the first answer that is not retried (the caller checks 4xx);
    raises `SourceUnavailable` when every attempt failed."""
    last_status: int | None = None
    last_wait: float | None = None
    for attempt in range(policy.attempts):
        try:
            response = client.request(method, url, headers=headers, **kwargs)
        except httpx.TransportError as exc:
            last_status, last_wait = None, None
            reason = type(exc).__name__
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            last_status = response.status_code
            last_wait = retry_after_seconds(response.headers.get("Retry-After"))
            reason = f"HTTP {response.status_code}"
        if attempt + 1 < policy.attempts:
            wait = last_wait if last_wait is not None else backoff_seconds(attempt, policy, rand)
            sleep(min(wait, policy.max_seconds))
    host = httpx.URL(url).host
    raise SourceUnavailable(
        f"{host} did not answer after {policy.attempts} attempts (last: {reason})",
        status=last_status,
        retry_after=last_wait,
    )
