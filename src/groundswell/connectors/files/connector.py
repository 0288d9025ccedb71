"""The ``files`` connector: reads a JSONL or CSV file (by extension: ``.csv`` is CSV, anything
else JSONL; ``-`` is JSONL on standard input) into raw records, and parses them."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from groundswell.connectors.contract import Capabilities, ConnectorPost, RawRecord
from groundswell.connectors.files.parse import FORMAT_CSV, FORMAT_JSONL, parse_payload

BOM = b"\xef\xbb\xbf"


class FilesConnector:
    """Posts from files. Blank lines are skipped; a UTF-8 byte-order mark is dropped."""

    name = "files"
    capabilities = Capabilities(reads_files=True, reads_direct=True)

    def records(self, location: str) -> Iterator[RawRecord]:
        if location == "-":
            yield from _jsonl(sys.stdin.buffer)
            return
        path = Path(location)
        with path.open("rb") as stream:
            if path.suffix.lower() == ".csv":
                yield from _csv(stream)
            else:
                yield from _jsonl(stream)

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_payload(record.payload, record.format)


def _jsonl(stream: BinaryIO) -> Iterator[RawRecord]:
    for line_no, raw in enumerate(stream, start=1):
        if line_no == 1 and raw.startswith(BOM):
            raw = raw[3:]
        if raw.strip():
            yield RawRecord(payload=raw.rstrip(b"\r\n"), position=line_no, format=FORMAT_JSONL)


def _csv(stream: BinaryIO) -> Iterator[RawRecord]:
    # surrogateescape keeps undecodable bytes visible (as lone surrogates) instead of failing
    # the whole file; the row holding them is refused as invalid UTF-8.
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.DictReader(text)
    for row in reader:
        position = reader.line_num
        try:
            payload = json.dumps(row, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            # Re-encode with the original bytes so the quarantine keeps exactly what was read.
            payload = json.dumps(row, ensure_ascii=False).encode("utf-8", "surrogateescape")
        yield RawRecord(payload=payload, position=position, format=FORMAT_CSV)
