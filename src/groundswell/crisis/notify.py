"""Telling stakeholders: one email to every stakeholder address and one signed webhook per
stakeholder URL, for incidents of at least their `min_severity`. Runs from the outbox handler
(after the change committed); a failure raises so the delivery is retried."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.crisis import playbooks
from groundswell.crisis.events import IncidentNews
from groundswell.crisis.tables import Stakeholder
from groundswell.identity.mail import send_email
from groundswell.kernel.settings import Settings
from groundswell.kernel.webhooks import post_signed

# Tests swap this for a client with a MockTransport or a short timeout.
client_factory: Callable[[], httpx.Client] = lambda: httpx.Client(timeout=10)  # noqa: E731


@dataclass(frozen=True)
class Delivery:
    emails: int
    webhooks: int


def _subject(news: IncidentNews) -> str:
    drill = "[DRILL] " if news.is_drill else ""
    verb = {"opened": "opened", "update": "update", "closed": "closed"}.get(news.what, news.what)
    return f"{drill}[{news.severity.upper()}] Incident {verb}: {news.title}"


def _body(news: IncidentNews, link: str) -> str:
    drill = "This is a DRILL: a practice incident, not a real one.\n\n" if news.is_drill else ""
    return (
        f"{drill}{_subject(news)}\n\n"
        f"Severity: {playbooks.SEVERITY_LABELS.get(news.severity, news.severity)}\n"
        f"Status: {news.status}\n\n{news.text}\n\nIncident: {link}\n"
    )


def deliver(session: Session, settings: Settings, news: IncidentNews, *, now: datetime) -> Delivery:
    """Send `news` to the organization's stakeholders who want this severity."""
    rows = [
        s
        for s in session.scalars(
            select(Stakeholder).where(Stakeholder.organization_id == news.organization_id)
        )
        if playbooks.severity_at_least(news.severity, s.min_severity)
    ]
    link = f"{settings.base_url.rstrip('/')}/crisis/incidents/{news.incident_id}"
    emails = [s.email for s in rows if s.email]
    sent = 1 if emails and send_email(settings, emails, _subject(news), _body(news, link)) else 0
    hooks = [s for s in rows if s.webhook_url]
    if hooks:
        payload = {
            "event": f"incident.{news.what}",
            "incident": {
                "id": news.incident_id,
                "title": news.title,
                "severity": news.severity,
                "status": news.status,
                "is_drill": news.is_drill,
                "url": link,
            },
            "text": news.text,
            "at": now.isoformat(),
        }
        with client_factory() as client:
            for hook in hooks:
                response = post_signed(
                    client, hook.webhook_url, payload, hook.webhook_secret, now=now
                )
                response.raise_for_status()
    return Delivery(emails=sent, webhooks=len(hooks))
