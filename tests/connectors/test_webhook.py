"""The ``webhook`` connector without HTTP: a captured delivery split into records, signatures
checked (bad, stale, missing refused), and the README's curl and Python signing recipes
producing exactly the signature we verify. The endpoint: tests/listening/test_webhook_api.py."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import BadRecord
from groundswell.connectors.webhook.connector import (
    BadBody,
    BadSignature,
    WebhookConnector,
    check_signature,
    records_from_body,
)
from groundswell.kernel.webhooks import sign, verify

FOLDER = Path(__file__).parents[2] / "src/groundswell/connectors/webhook"
NOW = datetime(2026, 11, 2, 9, 15, tzinfo=UTC)
SECRET = "whsec-0c1d2e3f"


def test_is_registered_with_its_secret() -> None:
    connector = registry.get("webhook")
    assert connector.name == "webhook"
    assert connector.capabilities.secrets == ("signing_secret",)


def test_a_captured_delivery_parses_post_by_post() -> None:
    connector = WebhookConnector()
    records = list(connector.records(str(FOLDER / "fixtures/delivery.json")))
    assert [r.position for r in records] == [1, 2, 3]
    first, second = (connector.parse(r) for r in records[:2])
    assert first.external_id == "form-8812"
    assert first.author_name == "Julie Moreau"
    assert first.created_at == datetime(2026, 11, 2, 9, 12, 44, tzinfo=UTC)
    assert second.text == "Cinq étoiles pour l'équipage, vol parfait."
    assert second.metrics == {"rating": 5}
    with pytest.raises(BadRecord) as exc:
        connector.parse(records[2])
    assert exc.value.reason == "missing_text"


def test_one_post_is_a_delivery_too_and_bad_items_are_records_to_quarantine() -> None:
    assert len(records_from_body(b'{"id": 1, "text": "hi"}')) == 1
    records = records_from_body(b'[{"id": 1, "text": "hi"}, 7, {"id": 2, "text": "\\ud800"}]')
    connector = WebhookConnector()
    reasons = []
    for record in records[1:]:
        with pytest.raises(BadRecord) as exc:
            connector.parse(record)
        reasons.append(exc.value.reason)
    assert reasons == ["wrong_type", "invalid_utf8"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not JSON"),
        (b"\xc3\x28", "not UTF-8 (byte 1)"),
        (b'"text"', "expected a post"),
        (b"[]", "empty"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),
    ],
)
def test_a_body_that_is_not_a_delivery_is_refused_whole(body: bytes, message: str) -> None:
    with pytest.raises(BadBody, match=re.escape(message)):
        records_from_body(body)


def test_a_saved_body_that_is_not_a_delivery_is_one_record_to_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "body.json"
    path.write_bytes(b"{broken")
    records = list(WebhookConnector().records(str(path)))
    assert [r.payload for r in records] == [b"{broken"]
    with pytest.raises(BadRecord):
        WebhookConnector().parse(records[0])


def test_signatures_are_checked() -> None:
    body = b'{"id": 1, "text": "hi"}'
    ts = int(NOW.timestamp())
    check_signature(SECRET, body, str(ts), sign(SECRET, body, ts), now=NOW)
    cases: list[tuple[Any, ...]] = [
        (None, sign(SECRET, body, ts), "send X-Groundswell-Timestamp"),
        (str(ts), None, "send X-Groundswell-Timestamp and X-Groundswell-Signature"),
        ("yesterday", sign(SECRET, body, ts), "must be Unix seconds"),
        (str(ts - 301), sign(SECRET, body, ts - 301), "more than 300 s away"),
        (str(ts), sign("other", body, ts), "does not match"),
        (str(ts), sign(SECRET, body + b" ", ts), "does not match"),
    ]
    for timestamp, signature, message in cases:
        with pytest.raises(BadSignature, match=message):
            check_signature(SECRET, body, timestamp, signature, now=NOW)


def _block(language: str, index: int = 0) -> str:
    readme = (FOLDER / "README.md").read_text(encoding="utf-8")
    return str(re.findall(rf"```{language}\n(.*?)```", readme, re.DOTALL)[index])


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_the_readme_curl_recipe_signs_as_we_verify() -> None:
    recipe = _block("sh")
    sig_line = next(line for line in recipe.splitlines() if line.startswith("SIG="))
    body = '{"id":"t-1","text":"Is Aurora Air down? ¿Sí?"}'
    script = f"SECRET='{SECRET}'\nBODY='{body}'\nTS=1793610000\n{sig_line}\nprintf %s \"$SIG\""
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert out == sign(SECRET, body.encode(), 1793610000)


def test_the_readme_python_recipe_signs_as_we_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    sent: dict[str, Any] = {}

    def fake_post(url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response:
        sent.update(url=url, content=content, headers=headers)
        return httpx.Response(200)

    monkeypatch.setattr(httpx, "post", fake_post)
    namespace: dict[str, Any] = {}
    exec(_block("python"), namespace)  # the documented code, as a sender would paste it
    namespace["send"]("https://gs.example/hook", SECRET, [{"id": "1", "text": "hi"}])
    headers = sent["headers"]
    assert json.loads(sent["content"]) == [{"id": "1", "text": "hi"}]
    assert verify(
        SECRET,
        sent["content"],
        headers["X-Groundswell-Timestamp"],
        headers["X-Groundswell-Signature"],
        now=datetime.now(UTC),
    )
