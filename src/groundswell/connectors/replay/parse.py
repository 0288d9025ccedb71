"""Parsing a ``replay`` record: one line of a files-format JSONL file, parsed exactly as the
``files`` connector parses it; and reading a line's ``created_at`` for its timing. Pure."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from groundswell.connectors.contract import ConnectorPost, RawRecord
from groundswell.connectors.files.parse import FORMAT_JSONL, parse_payload

FORMAT = FORMAT_JSONL


def parse_record(record: RawRecord) -> ConnectorPost:
    """One replayed line; raises `BadRecord` like the files format does."""
    return parse_payload(record.payload, FORMAT)


def created_at(line: bytes) -> datetime | None:
    """When the post on `line` was created, or None when the line does not say (or is not a
    post: it is replayed at once, and the pipeline quarantines it)."""
    try:
        data = json.loads(line)
    except (ValueError, RecursionError):
        return None
    value = data.get("created_at") if isinstance(data, dict) else None
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)
