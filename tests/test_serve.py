from __future__ import annotations

import logging

from groundswell.serve import RedactSecrets


def test_access_log_redacts_reset_tokens() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/reset/abcDEF123-secret?x=1", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    assert "abcDEF123-secret" not in record.getMessage()
    assert "/reset/***" in record.getMessage()
