"""Incident lifecycle: open from an alert with the playbook, roles, checklist, updates on a
cadence with reminders, stakeholders by email and signed webhook, close into a review."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import select

from groundswell.crisis import followup, jobs, playbooks, reviews, service
from groundswell.crisis.tables import CrisisAlert, Incident, IncidentStep, TimelineEntry
from groundswell.identity.domain import Role
from groundswell.identity.tables import Notification
from groundswell.kernel.audit import verify_chain
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.handlers_index import import_all_handlers
from groundswell.kernel.settings import Settings, get_settings
from groundswell.kernel.tables import AuditEntry
from groundswell.kernel.webhooks import verify
from tests.builders import make_org, make_user
from tests.crisis.spike import quiet_then_spike
from tests.smtp import SmtpInbox

SECRET = "a-webhook-secret-of-some-length"
import_all_handlers()  # what the app and the worker do: every handler gets its deliveries


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: ClassVar[list[tuple[dict[str, str], bytes]]] = []
    handler = type("Hook", (_Hook,), {"received": received})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _timeline(db: Database, incident_id: str) -> list[tuple[str, str]]:
    with db.reader() as session:
        rows = session.scalars(
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id)
            .order_by(TimelineEntry.at, TimelineEntry.id)
        )
        return [(r.kind, r.text) for r in rows]


def test_incident_lifecycle_from_alert_to_review(
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    smtp_inbox: SmtpInbox,
    webhook: tuple[str, list[tuple[dict[str, str], bytes]]],
) -> None:
    get_settings.cache_clear()  # the inbox set GROUNDSWELL_SMTP_* after the settings fixture
    url, received = webhook
    owner = make_org(db)
    comms = make_user(db, owner, Role.AGENT)
    viewer = make_user(db, owner, Role.VIEWER)
    dispatcher = Dispatcher(db, clock=clock)
    with db.unit_of_work() as session:
        reviews.add_stakeholder(
            session, owner.actor, name="Board", email="board@acme.example", now=clock.now()
        )
        reviews.add_stakeholder(
            session,
            owner.actor,
            name="Status bot",
            webhook_url=url,
            webhook_secret=SECRET,
            min_severity="sev2",
            now=clock.now(),
        )
        reviews.add_stakeholder(
            session,
            owner.actor,
            name="CEO",
            email="ceo@acme.example",
            min_severity="sev1",
            now=clock.now(),
        )
    quiet_then_spike(db, owner.actor.organization_id, clock.now())
    jobs.detect(db, clock)
    with db.reader() as session:
        alert = session.scalars(
            select(CrisisAlert).where(CrisisAlert.metric == "volume", CrisisAlert.topic == "")
        ).one()

    now = clock.now()
    with db.unit_of_work() as session:
        with pytest.raises(Forbidden):
            service.open_incident(
                session, viewer.actor, title="x", kind="safety", severity="sev2", now=now
            )
        with pytest.raises(InvalidInput):
            service.open_incident(
                session, owner.actor, title="x", kind="nope", severity="sev2", now=now
            )
        incident = service.open_incident(
            session,
            owner.actor,
            title="Swelling batteries",
            kind="safety",
            severity="sev2",
            summary="People report swelling batteries after the update.",
            alert_id=alert.id,
            now=now,
        )
        incident_id = incident.id
    dispatcher.dispatch_pending()

    # The playbook's steps for sev2 with owners and due times; the opener commands.
    book = playbooks.playbooks()["safety"]
    with db.reader() as session:
        view = service.describe(session, session.get(Incident, incident_id))  # type: ignore[arg-type]
        assert [s.title for s in view.steps] == [s.title for s in book.steps_for("sev2")]
        assert "Decide on a recall or public notice" not in [s.title for s in view.steps]
        assert view.steps[0].due_at == now + timedelta(
            minutes=book.steps_for("sev2")[0].due_minutes
        )
        assert view.roles["incident_commander"].email == owner.email
        assert view.update_due == now + timedelta(minutes=60)
        step_id = view.steps[0].id

    # Stakeholders: email to those wanting sev2 (not the sev1-only CEO), a signed webhook.
    assert len(smtp_inbox.messages) == 1
    mail = smtp_inbox.messages[0]
    assert "board@acme.example" in mail["To"]
    assert "ceo" not in mail["To"]
    assert "[SEV2] Incident opened: Swelling batteries" in mail["Subject"]
    assert len(received) == 1
    headers, body = received[0]
    assert verify(
        SECRET,
        body,
        headers["X-Groundswell-Timestamp"],
        headers["X-Groundswell-Signature"],
        now=datetime.now(UTC),
    )  # signed when sent
    assert json.loads(body)["event"] == "incident.opened"

    clock.advance(timedelta(minutes=5))
    with db.unit_of_work() as session:
        service.assign_role(
            session,
            owner.actor,
            incident_id,
            role="communications_lead",
            user_id=comms.actor.user_id,
            now=clock.now(),
        )
        with pytest.raises(InvalidInput):
            service.assign_role(
                session,
                owner.actor,
                incident_id,
                role="jester",
                user_id=comms.actor.user_id,
                now=clock.now(),
            )
    with db.unit_of_work() as session:
        service.tick_step(session, comms.actor, incident_id, step_id, done=True, now=clock.now())
        step = session.get(IncidentStep, step_id)
        assert step is not None
        assert step.done_by == comms.actor.user_id
        assert step.done_at == clock.now()
        service.add_note(
            session, comms.actor, incident_id, text="Support flooded with calls", now=clock.now()
        )

    # Status update cadence: nothing before the deadline; one reminder after; one only.
    assert jobs.remind_updates(db, clock) == 0
    clock.advance(timedelta(minutes=56))
    assert jobs.remind_updates(db, clock) == 1
    assert jobs.remind_updates(db, clock) == 0
    with db.reader() as session:
        reminders = session.scalars(
            select(Notification).where(Notification.kind == "crisis.update_due")
        ).all()
        assert [n.user_id for n in reminders] == [owner.actor.user_id]
    with db.unit_of_work() as session:
        service.post_update(
            session,
            owner.actor,
            incident_id,
            text="Contained; replacement units shipping.",
            status="monitoring",
            now=clock.now(),
        )
    dispatcher.dispatch_pending()
    assert len(smtp_inbox.messages) == 2
    assert len(received) == 2
    assert jobs.remind_updates(db, clock) == 0

    clock.advance(timedelta(hours=2))
    with db.unit_of_work() as session:
        review = service.close_incident(
            session,
            owner.actor,
            incident_id,
            summary="A bad firmware update; rolled back.",
            now=clock.now(),
        )
        assert review.what_happened == "A bad firmware update; rolled back."
        with pytest.raises(Conflict):
            service.post_update(session, owner.actor, incident_id, text="late", now=clock.now())
    dispatcher.dispatch_pending()
    assert "Incident closed" in smtp_inbox.messages[-1]["Subject"]

    kinds = [k for k, _ in _timeline(db, incident_id)]
    assert kinds == ["alert", "opened", "role", "step", "note", "reminder", "update", "closed"]

    # The blameless review: action items with owners and due dates, a read-only link.
    with db.unit_of_work() as session:
        reviews.update_review(
            session,
            owner.actor,
            incident_id,
            what_happened="A bad firmware update.",
            went_well="Detected in 5 minutes.",
            to_improve="Staged rollouts.",
            action_items=[
                {
                    "text": "Staged rollout for firmware",
                    "owner_id": comms.actor.user_id,
                    "due": "2026-02-01",
                },
                {"text": "", "owner_id": "", "due": ""},
            ],
            now=clock.now(),
        )
        with pytest.raises(InvalidInput):
            reviews.update_review(
                session,
                owner.actor,
                incident_id,
                what_happened="",
                went_well="",
                to_improve="",
                action_items=[{"text": "x", "owner_id": "", "due": "soon"}],
                now=clock.now(),
            )
        token = reviews.share_review(session, owner.actor, incident_id, now=clock.now())
    with db.reader() as session:
        shared, inc = reviews.review_by_token(session, token)
        assert inc.id == incident_id
        assert shared.action_items[0]["due"] == "2026-02-01"
        with pytest.raises(NotFound):
            reviews.review_by_token(session, token + "x")

    # Everything audited, chain intact.
    with db.reader() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
        assert {
            "crisis.incident.open",
            "crisis.incident.assign_role",
            "crisis.incident.step",
            "crisis.incident.update",
            "crisis.incident.close",
            "crisis.review.update",
            "crisis.review.share",
            "crisis.stakeholder.add",
        } <= actions
        assert verify_chain(session).ok


def test_incidents_are_scoped_to_the_organization_and_drills_stay_out_of_metrics(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    acme = make_org(db, "Acme")
    other = make_org(db, "Other")
    with db.unit_of_work() as session:
        real = service.open_incident(
            session, acme.actor, title="Real", kind="outage", severity="sev3", now=clock.now()
        )
        service.open_incident(
            session,
            acme.actor,
            title="Practice",
            kind="outage",
            severity="sev3",
            is_drill=True,
            now=clock.now(),
        )
        real_id = real.id
    with db.reader() as session:
        with pytest.raises(NotFound):
            service.access_incident(session, other.actor, real_id)
        assert service.list_incidents(session, other.actor)[0] == []
        listed, _ = service.list_incidents(session, acme.actor)
        assert {i.title for i in listed} == {"Real", "Practice"}
        drills, _ = service.list_incidents(session, acme.actor, drills=True)
        assert [i.title for i in drills] == ["Practice"]
        m = followup.metrics(session, acme.actor.organization_id, now=clock.now())
        assert (m.active, m.opened_30d) == (1, 1)
