"""Playbooks as data: one JSON file per incident type in `crisis/playbooks/`, each a list of
steps with the role that owns it, a due offset from the opening of the incident, and the
severities it applies to (all when absent). Severities, roles and status-update cadences are
defined here too, so pages, API and CLI speak the same words."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

SEVERITIES: Final[tuple[str, ...]] = ("sev1", "sev2", "sev3", "sev4")
SEVERITY_LABELS: Final[dict[str, str]] = {
    "sev1": "SEV1 · critical",
    "sev2": "SEV2 · major",
    "sev3": "SEV3 · minor",
    "sev4": "SEV4 · watch",
}
ROLES: Final[tuple[str, ...]] = ("incident_commander", "communications_lead", "legal", "scribe")
ROLE_LABELS: Final[dict[str, str]] = {
    "incident_commander": "Incident commander",
    "communications_lead": "Communications lead",
    "legal": "Legal",
    "scribe": "Scribe",
}
# Minutes between status updates per severity (GROUNDSWELL_CRISIS_UPDATE_MINUTES overrides).
DEFAULT_CADENCE_MINUTES: Final[dict[str, int]] = {
    "sev1": 30,
    "sev2": 60,
    "sev3": 240,
    "sev4": 1440,
}


class PlaybookStep(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=300)
    owner: str
    due_minutes: int = Field(ge=0, le=60 * 24 * 30)
    severities: tuple[str, ...] = SEVERITIES

    @field_validator("owner")
    @classmethod
    def _role(cls, value: str) -> str:
        if value not in ROLES:
            raise ValueError(f"owner must be one of {', '.join(ROLES)}")
        return value

    @field_validator("severities")
    @classmethod
    def _severities(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if s not in SEVERITIES]
        if bad or not value:
            raise ValueError(f"severities must be among {', '.join(SEVERITIES)}")
        return value


class Playbook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    title: str
    steps: tuple[PlaybookStep, ...]

    def steps_for(self, severity: str) -> list[PlaybookStep]:
        """The steps of this playbook that apply at `severity`, soonest due first."""
        chosen = [s for s in self.steps if severity in s.severities]
        return sorted(chosen, key=lambda s: s.due_minutes)


@cache
def playbooks() -> dict[str, Playbook]:
    """Every shipped playbook by incident type, read once."""
    found: dict[str, Playbook] = {}
    folder = resources.files("groundswell.crisis").joinpath("playbooks")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            book = Playbook.model_validate(json.loads(entry.read_text(encoding="utf-8")))
            found[book.kind] = book
    return found


def kinds() -> list[str]:
    return sorted(playbooks())


def due_at(step: PlaybookStep, opened_at: datetime) -> datetime:
    return opened_at + timedelta(minutes=step.due_minutes)


def cadence(severity: str, overrides: dict[str, int] | None = None) -> timedelta:
    """Time allowed between two status updates of an incident of `severity`."""
    minutes = {**DEFAULT_CADENCE_MINUTES, **(overrides or {})}
    return timedelta(minutes=minutes.get(severity, DEFAULT_CADENCE_MINUTES["sev4"]))


def severity_at_least(severity: str, floor: str) -> bool:
    """True when `severity` is as serious as `floor` or more (sev1 is the most serious)."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(floor)
