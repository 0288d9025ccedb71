"""Connector HTTP: retries on 429/5xx honour Retry-After, back off with jitter otherwise,
give up with SourceUnavailable, and pass other answers through."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from groundswell.connectors import http


def _client(answers: list[httpx.Response | Exception]) -> httpx.Client:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler))


def test_retry_after_seconds_is_honoured() -> None:
    slept: list[float] = []
    client = _client(
        [httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": 1})]
    )
    response = http.request(client, "GET", "https://api.example/x", sleep=slept.append)
    assert response.status_code == 200
    assert slept == [7.0]


def test_backoff_with_jitter_on_5xx_and_transport_errors() -> None:
    slept: list[float] = []
    client = _client(
        [
            httpx.Response(503),
            httpx.ConnectError("refused"),
            httpx.Response(200),
        ]
    )
    policy = http.RetryPolicy(attempts=3, base_seconds=1.0, max_seconds=60)
    response = http.request(
        client, "GET", "https://api.example/x", policy=policy, sleep=slept.append, rand=lambda: 0.5
    )
    assert response.status_code == 200
    assert slept == [0.5, 1.0]  # 0.5 * 1 * 2**0, then 0.5 * 1 * 2**1


def test_gives_up_with_the_last_status_and_wait() -> None:
    client = _client([httpx.Response(429, headers={"Retry-After": "30"})] * 2)
    with pytest.raises(http.SourceUnavailable) as caught:
        http.request(
            client,
            "GET",
            "https://api.example/x?token=secret",
            policy=http.RetryPolicy(attempts=2),
            sleep=lambda _s: None,
        )
    assert caught.value.status == 429
    assert caught.value.retry_after == 30.0
    assert "secret" not in str(caught.value)


def test_client_errors_are_returned_not_retried() -> None:
    client = _client([httpx.Response(404)])
    assert http.request(client, "GET", "https://api.example/x").status_code == 404


def test_retry_after_as_http_date_and_garbage() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert http.retry_after_seconds("Mon, 23 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert http.retry_after_seconds("Mon, 23 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert http.retry_after_seconds("soon", now=now) is None
    assert http.retry_after_seconds(None) is None
    assert http.retry_after_seconds("-5") == 0.0
