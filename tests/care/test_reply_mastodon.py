"""Replies end to end against the loopback Mastodon-compatible server: the reply lands threaded
under the customer's post and is audited; undo inside 10 s; a blocking finding stops it; under
Command & Control a contributor's reply waits for approval and is sent once a manager approves;
failures retry with backoff and end failed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import groundswell.care.handlers  # noqa: F401  # subscribes the approval handlers
from groundswell.care import sending, service
from groundswell.care.tables import CareMessage
from groundswell.connectors import registry
from groundswell.governance import approvals
from groundswell.governance import service as governance
from groundswell.governance.domain import CoordinationModel
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.settings import Settings
from groundswell.kernel.tables import AuditEntry
from groundswell.listening import sources
from tests.builders import Person, make_org
from tests.care.care_helpers import add_mention, conversation, set_policy, take
from tests.connectors.mastodon_server import MastodonServer
from tests.governance.gov_helpers import trained_user

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
POST = "113501000000000005"  # a status the server serves from its fixtures


@pytest.fixture
def masto() -> Iterator[MastodonServer]:
    """The loopback Mastodon-compatible server (tests/connectors/mastodon_server.py)."""
    with MastodonServer() as server:
        yield server


def _options(server: MastodonServer) -> dict[str, str]:
    """Every option the connector declares (empty: its default), with the server's address."""
    declared = registry.get("mastodon").capabilities.options
    given = {"instance": server.base_url, "hashtag": "acmecoffee", "timeline": "tag"}
    return {name: given.get(name, "") for name in declared}


def _setup(db: Database, settings: Settings, server: MastodonServer) -> tuple[Person, str]:
    owner = make_org(db)
    set_policy(db, owner, NOW, first=60, next_=30, resolution=480)
    with db.unit_of_work() as session:
        sources.add_source(
            session,
            owner.actor,
            Vault.open(settings.data_dir),
            name="masto",
            connector="mastodon",
            options=_options(server),
            secrets={"access_token": server.token},
            clock=FrozenClock(NOW),
        )
    mention = add_mention(
        db, owner.actor.organization_id, source="masto", external_id=POST, created_at=NOW
    )
    message = take(db, settings, mention, NOW)
    assert message is not None
    return owner, message.conversation_id


def _reply(db: Database, person: Person, conversation_id: str, text: str, at: datetime) -> str:
    with db.unit_of_work() as session:
        return service.reply(session, person.actor, conversation_id, text, now=at).id


def _message(db: Database, message_id: str) -> CareMessage:
    with db.reader() as session:
        row = session.get(CareMessage, message_id)
        assert row is not None
        return row


def _audited(db: Database, object_id: str) -> list[str]:
    with db.reader() as session:
        return list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_id == object_id)
                .order_by(AuditEntry.seq)
            )
        )


def test_reply_lands_threaded_and_is_audited(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    agent = trained_user(db, owner, Role.AGENT, NOW)
    message_id = _reply(db, agent, conversation_id, "@ana So sorry! A new one ships today.", NOW)
    queued = _message(db, message_id)
    assert queued.delivery_status == "queued"
    assert queued.send_after == NOW + timedelta(seconds=10)
    assert queued.in_reply_to == POST

    # Inside the undo window nothing goes out.
    assert sending.send_due(db, FrozenClock(NOW + timedelta(seconds=9)), settings=settings) == 0
    assert masto.posted == []
    assert sending.send_due(db, FrozenClock(NOW + timedelta(seconds=10)), settings=settings) == 1

    sent = _message(db, message_id)
    assert sent.delivery_status == "sent"
    assert masto.posted[-1]["in_reply_to_id"] == POST
    assert masto.posted[-1]["status"] == "@ana So sorry! A new one ships today."
    assert sent.external_id in masto.thread(POST)
    assert _audited(db, message_id) == ["care.reply.create", "care.reply.sent"]
    c = conversation(db, conversation_id)
    assert c.first_responded_at == NOW + timedelta(seconds=10)
    assert c.assignee_id == agent.actor.user_id
    assert c.sla_target == "resolution"
    # Sending again sends nothing more.
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=1)), settings=settings) == 0
    assert len(masto.posted) == 1


def test_undo_within_the_window(db: Database, settings: Settings, masto: MastodonServer) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    agent = trained_user(db, owner, Role.AGENT, NOW)
    message_id = _reply(db, agent, conversation_id, "Wrong tab, sorry", NOW)
    with db.unit_of_work() as session:
        service.undo_reply(session, agent.actor, message_id, now=NOW + timedelta(seconds=3))
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=1)), settings=settings) == 0
    assert masto.posted == []
    assert _message(db, message_id).delivery_status == "cancelled"
    late = _reply(db, agent, conversation_id, "Second try", NOW)
    with db.unit_of_work() as session, pytest.raises(Conflict):
        service.undo_reply(session, agent.actor, late, now=NOW + timedelta(seconds=10))


def test_a_blocking_finding_stops_the_reply(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    agent = trained_user(db, owner, Role.AGENT, NOW)
    with db.unit_of_work() as session, pytest.raises(service.ReplyBlocked) as caught:
        service.reply(session, agent.actor, conversation_id, "That is bullshit, sorry", now=NOW)
    assert caught.value.status == 422
    assert any(f.rule == "respect.profanity" for f in caught.value.findings)
    with db.reader() as session:
        assert (
            session.scalars(select(CareMessage).where(CareMessage.direction == "outbound")).all()
            == []
        )
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=1)), settings=settings) == 0
    assert masto.posted == []


def test_command_and_control_waits_for_a_managers_approval(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    with db.unit_of_work() as session:
        governance.set_model(session, owner.actor, CoordinationModel.COMMAND_AND_CONTROL, now=NOW)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, NOW)
    manager = trained_user(db, owner, Role.MANAGER, NOW)
    message_id = _reply(db, contributor, conversation_id, "We are on it, Ana.", NOW)
    waiting = _message(db, message_id)
    assert waiting.delivery_status == "awaiting_approval"
    assert waiting.approval_request_id
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=5)), settings=settings) == 0
    assert masto.posted == []

    with db.unit_of_work() as session:
        approvals.approve(
            session, manager.actor, waiting.approval_request_id, now=NOW + timedelta(minutes=6)
        )
    Dispatcher(db).dispatch_pending()
    assert _message(db, message_id).delivery_status == "queued"
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=7)), settings=settings) == 1
    assert masto.posted[-1]["in_reply_to_id"] == POST
    assert _message(db, message_id).delivery_status == "sent"
    assert "care.reply.approved" in _audited(db, message_id)


def test_a_rejected_reply_is_cancelled(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    with db.unit_of_work() as session:
        governance.set_model(session, owner.actor, CoordinationModel.COMMAND_AND_CONTROL, now=NOW)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, NOW)
    manager = trained_user(db, owner, Role.MANAGER, NOW)
    message_id = _reply(db, contributor, conversation_id, "We are on it, Ana.", NOW)
    request_id = _message(db, message_id).approval_request_id
    assert request_id
    with db.unit_of_work() as session:
        approvals.reject(session, manager.actor, request_id, comment="Too casual", now=NOW)
    Dispatcher(db).dispatch_pending()
    rejected = _message(db, message_id)
    assert rejected.delivery_status == "cancelled"
    assert rejected.error == "Rejected: Too casual"


def test_failures_retry_with_backoff_then_fail(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    agent = trained_user(db, owner, Role.AGENT, NOW)
    message_id = _reply(db, agent, conversation_id, "Checking now", NOW)
    masto.fail_next(settings.care_max_send_attempts, status=403, retry_after=None)
    at = NOW + timedelta(seconds=10)
    for attempt in range(1, settings.care_max_send_attempts + 1):
        assert sending.send_due(db, FrozenClock(at), settings=settings) == 0
        row = _message(db, message_id)
        assert row.attempts == attempt
        if attempt < settings.care_max_send_attempts:
            assert row.delivery_status == "queued"
            assert row.send_after == at + sending.backoff(attempt)
            at = row.send_after
    failed = _message(db, message_id)
    assert failed.delivery_status == "failed"
    assert failed.error
    with db.unit_of_work() as session:
        service.retry_reply(session, agent.actor, message_id, now=at)
    assert sending.send_due(db, FrozenClock(at), settings=settings) == 1
    assert _message(db, message_id).delivery_status == "sent"


def test_crisis_mode_makes_every_reply_wait(
    db: Database, settings: Settings, masto: MastodonServer
) -> None:
    owner, conversation_id = _setup(db, settings, masto)
    agent = trained_user(db, owner, Role.AGENT, NOW)
    with db.unit_of_work() as session:
        governance.set_crisis_mode(session, owner.actor, True, reason="Recall", now=NOW)
    message_id = _reply(db, agent, conversation_id, "We are looking into it.", NOW)
    assert _message(db, message_id).delivery_status == "awaiting_approval"
    with db.reader() as session:
        request = approvals.pending_for_subject(
            session, owner.actor.organization_id, "care.reply", message_id
        )
    assert request is not None
    assert request.action == "reply_crisis"
    assert sending.send_due(db, FrozenClock(NOW + timedelta(minutes=5)), settings=settings) == 0
