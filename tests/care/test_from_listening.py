"""From an import through the listening pipeline to the inbox: matched mentions become
conversations (through the outbox), a reply in the thread joins its conversation, and
importing the same file again adds nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

import groundswell.care.handlers
from groundswell.care import service
from groundswell.care.tables import CareMessage
from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.settings import Settings
from groundswell.listening import ingest
from tests.builders import make_org
from tests.listening.pages_support import fake_triage

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_imported_mentions_reach_the_inbox(
    db: Database, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(groundswell.care.handlers, "handler_clock", FrozenClock(NOW))
    owner = make_org(db)
    clock = FrozenClock(NOW)
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="brand", topic="support", query="acme", clock=clock
        )
    rows = [
        {"id": "1", "text": "acme where is my refund", "author": {"handle": "ana"},
         "created_at": "2026-03-02T09:50:00Z"},
        {"id": "2", "text": "acme still waiting for the refund", "author": {"handle": "ana"},
         "in_reply_to": "1", "created_at": "2026-03-02T09:55:00Z"},
        {"id": "3", "text": "acme is fine I guess", "author": {"handle": "bo"},
         "created_at": "2026-03-02T09:56:00Z"},
        {"id": "4", "text": "unrelated refund talk", "author": {"handle": "cy"},
         "created_at": "2026-03-02T09:57:00Z"},
    ]  # fmt: skip
    path = tmp_path / "posts.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    for _ in range(2):  # the second import finds only duplicates
        ingest.import_posts(
            db, owner.actor, FilesConnector(), str(path), clock=clock, triage=fake_triage
        )
        Dispatcher(db).dispatch_pending()

    with db.reader() as session:
        page = service.list_conversations(session, owner.actor)
        # Only the matched complaint opens a conversation; its reply joins it; "bo" is
        # neither a complaint nor a question, "cy" matched no query.
        assert [c.customer_handle for c in page.items] == ["ana"]
        texts = [m.text for m in service.messages(session, owner.actor, page.items[0].id)]
        assert texts == ["acme where is my refund", "acme still waiting for the refund"]
        assert session.scalar(select(func.count()).select_from(CareMessage)) == 2
