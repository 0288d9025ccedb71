"""Events the crisis room announces. Its own handlers (`crisis.handlers`) notify stakeholders
by email and signed webhook after the change committed."""

from __future__ import annotations

from typing import ClassVar

from groundswell.kernel.events import Event


class IncidentNews(Event):
    """Something stakeholders should hear about an incident: it was opened, got a status
    update, or was closed. `text` is what happened, in one paragraph."""

    name: ClassVar[str] = "crisis.incident_news"

    organization_id: str
    incident_id: str
    what: str  # opened | update | closed
    title: str
    severity: str
    status: str
    is_drill: bool
    text: str
