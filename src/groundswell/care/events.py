"""Events the care room announces (through the outbox: exactly once per handler)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from groundswell.kernel.events import Event


class SlaWarning(Event):
    """75 % of a conversation's current SLA target is used up."""

    name: ClassVar[str] = "care.sla_warning"

    organization_id: str
    conversation_id: str
    target: str
    due_at: datetime
    assignee_id: str | None
    team_id: str | None


class SlaBreached(Event):
    """A conversation's current SLA target passed unmet. Fired once per target."""

    name: ClassVar[str] = "care.sla_breached"

    organization_id: str
    conversation_id: str
    target: str
    due_at: datetime
    breached_at: datetime
    assignee_id: str | None
    team_id: str | None
    escalated_to: str | None
