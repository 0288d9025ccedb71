"""Helpers for the listening page, API and view tests: a deterministic triage (so filters on
sentiment and intent have known answers) and a way to ingest posts through the real pipeline."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.listening import ingest
from groundswell.listening.pipeline import BatchResult
from groundswell.triage.domain import Sentiment, SentimentLabel, Triage
from tests.builders import Person


def fake_triage(texts: Sequence[str], **_: Any) -> list[Triage]:
    """ "love" is positive, "bad" negative, else neutral; "refund" is a complaint."""
    out = []
    for text in texts:
        low = text.lower()
        label: SentimentLabel = (
            "positive" if "love" in low else "negative" if "bad" in low else "neutral"
        )
        out.append(
            Triage(
                language="en",
                language_confidence=0.9,
                sentiment=Sentiment(label=label, scores={label: 1.0}),
                intents={},
                labels=["complaint"] if "refund" in low else [],
                emotion={},
                offensive=0.0,
                hate=0.0,
                irony=False,
                personal_data=[],
                priority=80 if "refund" in low else 20,
                why="test triage",
            )
        )
    return out


def ingest_posts(
    db: Database,
    person: Person,
    tmp_path: Path,
    posts: list[dict[str, Any]],
    *,
    clock: Clock,
    source: str = "files",
    name: str = "posts.jsonl",
) -> BatchResult:
    path = tmp_path / name
    path.write_text("".join(json.dumps(p) + "\n" for p in posts), encoding="utf-8")
    return ingest.import_posts(
        db,
        person.actor,
        FilesConnector(),
        str(path),
        source_name=source,
        clock=clock,
        triage=fake_triage,
    )
