"""A breach reaches people on every channel: in-app (the job), email through SMTP (a local
aiosmtpd server) and signed webhooks (a loopback HTTP server checks the signature); each
channel is its own outbox handler, so a failing webhook is retried without emailing twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

import groundswell.care.handlers  # noqa: F401  # subscribes the channel handlers
from groundswell.care import jobs, notify
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock, SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Forbidden, InvalidInput
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.settings import Settings, get_settings
from groundswell.kernel.tables import OutboxDelivery
from groundswell.kernel.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from tests.builders import make_org, make_user
from tests.care.care_helpers import add_mention, set_policy, take
from tests.smtp import SmtpInbox

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SECRET = "a-webhook-secret-of-some-length"


class Receiver:
    """A loopback endpoint recording what it is sent; answers `status` (settable)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    r.thread.start()
    try:
        yield r
    finally:
        r.server.shutdown()
        r.server.server_close()


def _deliveries(db: Database, handler: str) -> list[OutboxDelivery]:
    with db.reader() as session:
        return list(
            session.scalars(select(OutboxDelivery).where(OutboxDelivery.handler == handler))
        )


def test_a_breach_is_emailed_and_posted_signed(
    db: Database, settings: Settings, smtp_inbox: SmtpInbox, receiver: Receiver
) -> None:
    get_settings.cache_clear()  # the handlers read SMTP settings from the environment
    owner = make_org(db)
    manager = make_user(db, owner, Role.MANAGER)
    set_policy(db, owner, NOW, first=30)
    with db.unit_of_work() as session:
        notify.add_webhook(
            session,
            owner.actor,
            Vault.open(settings.data_dir),
            url=receiver.url,
            secret=SECRET,
            events=["care.sla_breached"],
            now=NOW,
        )
    message = take(db, settings, add_mention(db, owner.actor.organization_id, created_at=NOW), NOW)
    assert message is not None
    receiver.status = 500  # the chat tool is down at first
    assert jobs.breach_due(db, datetime(2026, 3, 2, 10, 30, tzinfo=UTC)) == 1
    Dispatcher(db).dispatch_pending()

    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert mail["Subject"] == "SLA breached: conversation with @ana"
    assert manager.email in mail["To"]
    assert message.conversation_id in mail.get_payload(decode=True).decode()

    assert len(receiver.received) == 1
    [hook] = _deliveries(db, "care.sla_breached_webhook")
    assert hook.delivered_at is None
    assert "HTTP 500" in (hook.last_error or "")

    # The retry posts again; the email is not sent twice.
    receiver.status = 204
    with db.unit_of_work() as session:
        row = session.get(OutboxDelivery, hook.id)
        assert row is not None
        row.next_attempt_at = None
    Dispatcher(db).dispatch_pending()
    assert len(smtp_inbox.messages) == 1
    assert len(receiver.received) == 2
    headers, body = receiver.received[-1]
    assert verify(
        SECRET,
        body,
        headers[TIMESTAMP_HEADER],
        headers[SIGNATURE_HEADER],
        now=SystemClock().now(),
    )
    payload = json.loads(body)
    assert payload["event"] == "care.sla_breached"
    assert payload["conversation_id"] == message.conversation_id
    assert payload["target"] == "first_response"
    assert _deliveries(db, "care.sla_breached_webhook")[0].delivered_at is not None


def test_webhook_setup_is_for_admins_and_checked(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    vault = Vault.open(settings.data_dir)
    with db.unit_of_work() as session:
        with pytest.raises(Forbidden):
            notify.add_webhook(
                session, agent.actor, vault, url="https://chat.example/h", secret=SECRET, now=NOW
            )
        with pytest.raises(InvalidInput):
            notify.add_webhook(
                session, owner.actor, vault, url="ftp://chat.example", secret=SECRET, now=NOW
            )
        with pytest.raises(InvalidInput):
            notify.add_webhook(
                session, owner.actor, vault, url="https://chat.example/h", secret="short", now=NOW
            )
        row = notify.add_webhook(
            session, owner.actor, vault, url="https://chat.example/h", secret=SECRET, now=NOW
        )
        assert SECRET not in row.secret_ciphertext
        assert vault.decrypt(row.secret_ciphertext) == SECRET
        assert [h.id for h in notify.list_webhooks(session, owner.actor)] == [row.id]
        notify.remove_webhook(session, owner.actor, row.id, now=NOW)
        assert notify.list_webhooks(session, owner.actor) == []


def test_no_smtp_no_email(db: Database, settings: Settings) -> None:
    owner = make_org(db)
    make_user(db, owner, Role.MANAGER)
    set_policy(db, owner, NOW, first=30)
    message = take(db, settings, add_mention(db, owner.actor.organization_id, created_at=NOW), NOW)
    assert message is not None
    assert jobs.sla_job(db, FrozenClock(datetime(2026, 3, 2, 10, 30, tzinfo=UTC))) == 1
    Dispatcher(db).dispatch_pending()
    [email] = _deliveries(db, "care.sla_breached_email")
    assert email.delivered_at is not None  # nothing to send, nothing to retry
