"""The ``webhook`` connector: posts pushed to us. It neither pulls nor streams: the endpoint
``POST /api/v1/listening/webhooks/{source_id}`` (`listening.webhook_api`) checks the delivery's
signature with `check_signature`, turns the body into records with `records_from_body`, and
runs them through the pipeline.

The source's one secret is ``signing_secret``: the sender signs ``f"{timestamp}."`` followed by
the exact body bytes with HMAC-SHA256 (`kernel.webhooks.sign`) and sends
``X-Groundswell-Timestamp: <unix seconds>`` and ``X-Groundswell-Signature: sha256=<hex>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from groundswell.connectors.contract import Capabilities, ConnectorPost, RawRecord
from groundswell.connectors.webhook.parse import (
    FORMAT,
    BadBody,
    parse_record,
    records_from_body,
)
from groundswell.kernel.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify

TOLERANCE_SECONDS = 300  # a delivery older or newer than this is refused (replay protection)


class BadSignature(ValueError):
    """The delivery is not signed with the source's secret, or not now. The message says
    which, never the expected signature."""


def check_signature(
    secret: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    now: datetime,
    tolerance_seconds: int = TOLERANCE_SECONDS,
) -> None:
    """Raise `BadSignature` unless `signature` is the HMAC-SHA256 of ``f"{timestamp}."`` +
    `body` under `secret`, with `timestamp` (Unix seconds) within `tolerance_seconds` of
    `now`."""
    if not timestamp or not signature:
        raise BadSignature(f"Sign the delivery: send {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}.")
    try:
        sent = int(timestamp)
    except ValueError:
        raise BadSignature(f"{TIMESTAMP_HEADER} must be Unix seconds.") from None
    if abs(now.timestamp() - sent) > tolerance_seconds:
        raise BadSignature(
            f"{TIMESTAMP_HEADER} is more than {tolerance_seconds} s away from our clock: "
            "sign each delivery when you send it (and check the sender's clock)."
        )
    if not verify(secret, body, sent, signature, now=now, tolerance_seconds=tolerance_seconds):
        raise BadSignature(
            f"{SIGNATURE_HEADER} does not match the body: sign the exact bytes sent, "
            "with the source's signing secret."
        )


class WebhookConnector:
    """Posts pushed by other tools. `records` reads a saved delivery body from a file (to
    re-run a captured delivery); a body that is not a delivery becomes one record, which the
    pipeline quarantines."""

    name = "webhook"
    capabilities = Capabilities(
        receives=True,
        reads_direct=True,  # a post may say "channel": "direct"
        secrets=("signing_secret",),
        required=("signing_secret",),
    )

    def records(self, location: str) -> Iterator[RawRecord]:
        body = Path(location).read_bytes()
        try:
            yield from records_from_body(body)
        except BadBody:
            yield RawRecord(body, 1, FORMAT)

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_record(record)


__all__ = ["BadBody", "BadSignature", "WebhookConnector", "check_signature", "records_from_body"]
