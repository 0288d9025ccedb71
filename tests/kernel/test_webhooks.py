"""Signed webhooks: signature round trip, tampering, replay window, the sent request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import httpx

from groundswell.kernel import webhooks

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_sign_and_verify_round_trip() -> None:
    ts = int(NOW.timestamp())
    sig = webhooks.sign("s3cret", b'{"a":1}', ts)
    assert sig.startswith("sha256=")
    assert len(sig) == 7 + 64
    assert webhooks.verify("s3cret", b'{"a":1}', ts, sig, now=NOW)
    assert webhooks.verify("s3cret", b'{"a":1}', str(ts), sig, now=NOW)


def test_refuses_tampering_wrong_secret_and_old_or_bad_timestamps() -> None:
    ts = int(NOW.timestamp())
    sig = webhooks.sign("s3cret", b'{"a":1}', ts)
    assert not webhooks.verify("s3cret", b'{"a":2}', ts, sig, now=NOW)
    assert not webhooks.verify("other", b'{"a":1}', ts, sig, now=NOW)
    assert not webhooks.verify("s3cret", b'{"a":1}', ts, sig, now=NOW + timedelta(minutes=6))
    assert not webhooks.verify("s3cret", b'{"a":1}', "yesterday", sig, now=NOW)
    assert not webhooks.verify("s3cret", b'{"a":1}', ts, "sha256=00", now=NOW)


def test_post_signed_sends_a_verifiable_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        response = webhooks.post_signed(
            client, "https://chat.example/hook", {"text": "SLA breached"}, "k", now=NOW
        )
    assert response.status_code == 204
    request = seen[0]
    assert json.loads(request.content) == {"text": "SLA breached"}
    assert webhooks.verify(
        "k",
        request.content,
        request.headers[webhooks.TIMESTAMP_HEADER],
        request.headers[webhooks.SIGNATURE_HEADER],
        now=NOW,
    )
