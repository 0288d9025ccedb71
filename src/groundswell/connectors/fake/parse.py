"""Parsing a ``fake`` record: the generator writes the files format (one JSON object), so a
record parses exactly as a JSONL line does. Pure."""

from __future__ import annotations

from groundswell.connectors.contract import ConnectorPost, RawRecord
from groundswell.connectors.files.parse import FORMAT_JSONL, parse_payload

FORMAT = FORMAT_JSONL


def parse_record(record: RawRecord) -> ConnectorPost:
    """One generated post; raises `BadRecord` like the files format does."""
    return parse_payload(record.payload, FORMAT)
