"""The organization's current social media policy, as other rooms read it.

`current_policy(session, organization_id)` is the newest saved version, or the starter policy
when the organization has saved none; `current_engine` is its compiled `PolicyEngine`, cached
per stored version (compiling takes milliseconds; checking then takes microseconds). Saving
versions, listing them and diffing them live in `governance.policy_versions`."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.governance.engine import PolicyEngine
from groundswell.governance.policy import Policy, parse_policy, starter_policy
from groundswell.governance.policy_tables import PolicyVersion

STARTER_KEY = "starter"
_CACHE_SIZE = 64


@dataclass(frozen=True)
class CurrentVersion:
    """Which version is current: a stored one (`id`), or the starter policy (`id` None)."""

    id: str | None
    major: int
    minor: int

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}"


class EngineCache:
    """Compiled engines by version id (a stored version never changes), least recently used
    evicted first. Shared by every request of the process; thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._engines: OrderedDict[str, PolicyEngine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> PolicyEngine | None:
        with self._lock:
            engine = self._engines.get(key)
            if engine is not None:
                self._engines.move_to_end(key)
            return engine

    def put(self, key: str, engine: PolicyEngine) -> None:
        with self._lock:
            self._engines[key] = engine
            self._engines.move_to_end(key)
            while len(self._engines) > self._size:
                self._engines.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._engines.clear()


engines = EngineCache(_CACHE_SIZE)


def current_version(session: Session, organization_id: str) -> CurrentVersion:
    """The current version's id and number, without loading its document."""
    row = session.execute(
        select(PolicyVersion.id, PolicyVersion.major, PolicyVersion.minor)
        .where(PolicyVersion.organization_id == organization_id)
        .order_by(PolicyVersion.major.desc(), PolicyVersion.minor.desc())
        .limit(1)
    ).first()
    if row is None:
        starter = starter_policy()
        major, minor = (int(part) for part in starter.version.split(".")[:2])
        return CurrentVersion(None, major, minor)
    return CurrentVersion(row.id, row.major, row.minor)


def current_policy(session: Session, organization_id: str) -> Policy:
    """The organization's newest saved policy, or the starter policy when it saved none."""
    current = current_version(session, organization_id)
    if current.id is None:
        return starter_policy()
    document = session.scalar(select(PolicyVersion.document).where(PolicyVersion.id == current.id))
    assert document is not None  # the row was just read in this transaction
    return parse_policy(document, f"policy version {current.version}")


def current_engine(session: Session, organization_id: str) -> PolicyEngine:
    """The compiled engine of `current_policy`, built once per stored version."""
    current = current_version(session, organization_id)
    key = current.id or STARTER_KEY
    engine = engines.get(key)
    if engine is None:
        engine = PolicyEngine(current_policy(session, organization_id))
        engines.put(key, engine)
    return engine
