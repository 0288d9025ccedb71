"""Events governance announces. Other rooms subscribe (`kernel.events.bus.subscribe`) and act
only on their own `subject_type` (e.g. "care.reply", "crisis.statement")."""

from __future__ import annotations

from typing import ClassVar

from groundswell.kernel.events import Event


class CoordinationModelChanged(Event):
    name: ClassVar[str] = "governance.model_changed"

    organization_id: str
    model: str
    previous: str


class CrisisModeChanged(Event):
    name: ClassVar[str] = "governance.crisis_mode_changed"

    organization_id: str
    on: bool
    reason: str


class ApprovalRequested(Event):
    name: ClassVar[str] = "governance.approval_requested"

    organization_id: str
    request_id: str
    action: str
    subject_type: str
    subject_id: str
    approvals_needed: int


class ApprovalGranted(Event):
    """The last needed approval arrived: the subject may go ahead."""

    name: ClassVar[str] = "governance.approval_granted"

    organization_id: str
    request_id: str
    action: str
    subject_type: str
    subject_id: str


class ApprovalRejected(Event):
    name: ClassVar[str] = "governance.approval_rejected"

    organization_id: str
    request_id: str
    action: str
    subject_type: str
    subject_id: str
    comment: str


class ApprovalExpired(Event):
    """Nobody decided in time (`GROUNDSWELL_APPROVAL_EXPIRY_HOURS`): the subject must not go
    ahead; the requester may ask again."""

    name: ClassVar[str] = "governance.approval_expired"

    organization_id: str
    request_id: str
    action: str
    subject_type: str
    subject_id: str


class ApprovalWithdrawn(Event):
    """The requester withdrew the request before it was decided."""

    name: ClassVar[str] = "governance.approval_withdrawn"

    organization_id: str
    request_id: str
    action: str
    subject_type: str
    subject_id: str
