"""Configured sources: a connector instance with its options, credentials, cursor and health.

Credentials are encrypted with the governance vault (one Fernet ciphertext holding a JSON
object) and only decrypted by `config_for`, for the runner; they are never stored plain,
logged, audited or returned (`SourceView` has the secret *names* only). Changes need
`settings:manage`; reading needs `org:read`. Services flush, never commit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.connectors import registry
from groundswell.connectors.contract import Connector, PullSource, SourceConfig, StreamSource
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound
from groundswell.listening.tables import ListeningSource

ACTIVE = "active"
PAUSED = "paused"
STATUSES = (ACTIVE, PAUSED)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")


@dataclass(frozen=True, slots=True)
class SourceView:
    """What may be shown of a source: everything but its credentials."""

    id: str
    name: str
    connector: str
    status: str
    options: dict[str, str]
    has_secrets: bool
    cursor: str | None
    created_at: datetime
    last_fetch_at: datetime | None
    last_error: str | None
    error_count: int
    wait_until: datetime | None
    lag_seconds: float | None
    stored_count: int

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "connector": self.connector,
            "status": self.status,
            "options": self.options,
            "has_secrets": self.has_secrets,
            "cursor": self.cursor,
            "created_at": self.created_at.isoformat(),
            "last_fetch_at": self.last_fetch_at.isoformat() if self.last_fetch_at else None,
            "last_error": self.last_error,
            "error_count": self.error_count,
            "wait_until": self.wait_until.isoformat() if self.wait_until else None,
            "lag_seconds": self.lag_seconds,
            "stored_count": self.stored_count,
        }


def _connector_for(name: str) -> PullSource | StreamSource | Connector:
    connector = registry.get(name)
    if not isinstance(connector, PullSource | StreamSource) and not (
        connector.capabilities.receives
    ):
        raise InvalidInput(
            f"Connector {name!r} cannot be run as a source "
            "(it neither pulls, streams nor receives posts)."
        )
    return connector


def _decrypt(row: ListeningSource, vault: Vault) -> dict[str, str]:
    if not row.secrets:
        return {}
    data = json.loads(vault.decrypt(row.secrets))
    return {str(k): str(v) for k, v in data.items()}


def view(row: ListeningSource) -> SourceView:
    """The shareable view: whether it has credentials, never what they are."""
    return SourceView(
        id=row.id,
        name=row.name,
        connector=row.connector,
        status=row.status,
        options=dict(row.options or {}),
        has_secrets=bool(row.secrets),
        cursor=row.cursor,
        created_at=row.created_at,
        last_fetch_at=row.last_fetch_at,
        last_error=row.last_error,
        error_count=row.error_count,
        wait_until=row.wait_until,
        lag_seconds=row.lag_seconds,
        stored_count=row.stored_count,
    )


def add_source(
    session: Session,
    actor: Actor,
    vault: Vault,
    *,
    name: str,
    connector: str,
    options: Mapping[str, str],
    secrets: Mapping[str, str],
    clock: Clock,
) -> ListeningSource:
    """Configure a source of `connector` (which pulls, streams or receives). Names are unique per
    organization (they are the `source` of its mentions: 1-50 letters, digits, `.`, `_`,
    `-`). The connector's required options and secrets must be given; unknown names are
    refused. Raises `InvalidInput`, `Conflict`, `NotFound` (unknown connector)."""
    actor.require(Permission.SETTINGS_MANAGE)
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput("A source name is 1-50 letters, digits, '.', '_' or '-'.")
    found = _connector_for(connector)
    caps = found.capabilities
    unknown = sorted(set(options) - set(caps.options)) + sorted(set(secrets) - set(caps.secrets))
    if unknown:
        raise InvalidInput(
            f"Connector {connector!r} does not know {', '.join(unknown)} "
            f"(options: {', '.join(caps.options) or 'none'}; "
            f"secrets: {', '.join(caps.secrets) or 'none'})."
        )
    given = {name for name, value in {**options, **secrets}.items() if value != ""}
    declared = (*caps.options, *caps.secrets)
    missing = [n for n in declared if n in caps.required and n not in given]
    if missing:
        raise InvalidInput(f"Connector {connector!r} needs {', '.join(missing)}.")
    taken = session.scalar(
        select(ListeningSource.id).where(
            ListeningSource.organization_id == actor.organization_id,
            ListeningSource.name == name,
        )
    )
    if taken is not None:
        raise Conflict(f"A source named {name!r} exists already.")
    row = ListeningSource(
        organization_id=actor.organization_id,
        name=name,
        connector=connector,
        options=dict(options),
        secrets=vault.encrypt(json.dumps(dict(secrets))) if secrets else None,
        status=ACTIVE,
        created_at=clock.now(),
        error_count=0,
        stored_count=0,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "listening.source.add",
        "listening_source",
        row.id,
        # Secret names only: values never reach the audit log.
        after={
            "name": name,
            "connector": connector,
            "options": dict(options),
            "secrets": sorted(secrets),
        },
        organization_id=actor.organization_id,
        clock=clock,
    )
    return row


def list_sources(session: Session, actor: Actor) -> list[ListeningSource]:
    actor.require(Permission.ORG_READ)
    return list(
        session.scalars(
            select(ListeningSource)
            .where(ListeningSource.organization_id == actor.organization_id)
            .order_by(ListeningSource.name)
        )
    )


def get_source(session: Session, source_id: str) -> ListeningSource:
    """Any organization's source by id: for the runner (system work). People go through
    `access_source`. Raises `NotFound`."""
    row = session.get(ListeningSource, source_id)
    if row is None:
        raise NotFound(f"No source {source_id}.")
    return row


def access_source(session: Session, actor: Actor, name_or_id: str) -> ListeningSource:
    """A source of the actor's organization, by name or id. Raises `NotFound`."""
    actor.require(Permission.ORG_READ)
    row = session.scalar(
        select(ListeningSource).where(
            ListeningSource.organization_id == actor.organization_id,
            (ListeningSource.name == name_or_id) | (ListeningSource.id == name_or_id),
        )
    )
    if row is None:
        raise NotFound(f"No source {name_or_id!r}.")
    return row


def config_for(source: ListeningSource, vault: Vault) -> SourceConfig:
    """Options and decrypted secrets for the connector. Raises `VaultKeyError` when the keys
    do not open the secrets."""
    return SourceConfig(options=dict(source.options or {}), secrets=_decrypt(source, vault))


def _set_status(
    session: Session, actor: Actor, name_or_id: str, status: str, clock: Clock
) -> ListeningSource:
    actor.require(Permission.SETTINGS_MANAGE)
    row = access_source(session, actor, name_or_id)
    before = row.status
    if before != status:
        row.status = status
        if status == ACTIVE:
            row.wait_until = None  # resuming means: try now
        session.flush()
        audit.record(
            session,
            actor.audit,
            f"listening.source.{'resume' if status == ACTIVE else 'pause'}",
            "listening_source",
            row.id,
            before={"status": before},
            after={"status": status},
            organization_id=actor.organization_id,
            clock=clock,
        )
    return row


def pause(session: Session, actor: Actor, name_or_id: str, *, clock: Clock) -> ListeningSource:
    """Stop fetching (the cursor is kept). Pausing a paused source changes nothing."""
    return _set_status(session, actor, name_or_id, PAUSED, clock)


def resume(session: Session, actor: Actor, name_or_id: str, *, clock: Clock) -> ListeningSource:
    """Fetch again from the kept cursor, now (any rate-limit wait is cleared)."""
    return _set_status(session, actor, name_or_id, ACTIVE, clock)


def remove(session: Session, actor: Actor, name_or_id: str, *, clock: Clock) -> None:
    """Delete the source's configuration and credentials. Its mentions stay."""
    actor.require(Permission.SETTINGS_MANAGE)
    row = access_source(session, actor, name_or_id)
    audit.record(
        session,
        actor.audit,
        "listening.source.remove",
        "listening_source",
        row.id,
        before={"name": row.name, "connector": row.connector, "status": row.status},
        organization_id=actor.organization_id,
        clock=clock,
    )
    session.delete(row)
    session.flush()
