"""``POST /api/v1/listening/webhooks/{source_id}``: posts pushed by any tool into a configured
source of the ``webhook`` connector.

No API token: the delivery is authenticated by its HMAC-SHA256 signature under the source's
``signing_secret`` (kept in the vault), and must be fresh (`connectors.webhook.connector`).
Answers: 200 with the counts ``{"read", "stored", "duplicates", "quarantined"}``; 401 (bad or
missing signature, stale timestamp); 404 (no webhook source with that id); 422 (a body that is
not a post or a list of posts: problem+json saying why); 503 (the source is paused: retry
later). Posts go through the ingest pipeline in one transaction: a post that is not a post is
quarantined with its reason, the others are stored; a delivery sent twice stores nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError

from groundswell.connectors.contract import RawRecord, SourceConfig
from groundswell.connectors.webhook.connector import (
    BadBody,
    BadSignature,
    WebhookConnector,
    check_signature,
    records_from_body,
)
from groundswell.governance.vault import Vault
from groundswell.identity.deps import ClockDep, DbDep, SettingsDep, client_ip
from groundswell.kernel import audit
from groundswell.kernel.clock import Clock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import InvalidInput, NotAuthenticated, NotFound, NotReady
from groundswell.kernel.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER
from groundswell.listening import pipeline, sources
from groundswell.listening.matcher import QuerySet
from groundswell.listening.pipeline import (
    BatchContext,
    BatchResult,
    SavedQuery,
    TriageFn,
    default_triage,
)
from groundswell.listening.tables import ListeningSource

router = APIRouter(prefix="/api/v1/listening/webhooks", tags=["listening"])
CONNECTOR = WebhookConnector()
ATTEMPTS = 2  # a concurrent delivery of the same post: the second attempt sees it stored


class SignatureRefused(NotAuthenticated):
    code = "bad_signature"
    title = "Bad signature"


class SourcePaused(NotReady):
    code = "source_paused"
    title = "Source paused"


class WebhookResult(BaseModel):
    read: int
    stored: int
    duplicates: int
    quarantined: int


@dataclass(frozen=True, slots=True)
class _Target:
    id: str
    name: str
    organization_id: str
    status: str
    config: SourceConfig
    queries: QuerySet[SavedQuery]


async def raw_body(request: Request) -> bytes:
    """The exact bytes sent: the signature covers them, not a re-encoding."""
    return await request.body()


def get_triage() -> TriageFn:
    """The triage used on received posts (a dependency, so a test may swap it)."""
    return default_triage


SourceId = Annotated[
    str,
    Path(min_length=1, max_length=36, pattern=r"^[0-9A-Za-z-]+$", description="The source's id."),
]


@router.post(
    "/{source_id}",
    summary="Receive posts pushed by another tool (signed)",
    responses={
        401: {"description": "Missing or bad signature, or a stale timestamp."},
        404: {"description": "No webhook source with this id."},
        422: {"description": "The body is not a post or a list of posts."},
        503: {"description": "The source is paused; send again later."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "description": "One post, or a list of up to 1,000 posts, in the files "
                        "format (docs/files-format.md): id and text required.",
                        "oneOf": [{"type": "object"}, {"type": "array", "items": {}}],
                    }
                }
            },
        },
        "parameters": [
            {"name": TIMESTAMP_HEADER, "in": "header", "required": True, "schema": {}},
            {"name": SIGNATURE_HEADER, "in": "header", "required": True, "schema": {}},
        ],
    },
)
def receive(
    source_id: SourceId,
    request: Request,
    body: Annotated[bytes, Depends(raw_body)],
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    triage: Annotated[TriageFn, Depends(get_triage)],
) -> WebhookResult:
    target = _target(db, Vault.open(settings.data_dir), source_id)
    secret = target.config.secrets.get("signing_secret", "")
    if not secret:
        raise SignatureRefused("This source has no signing secret; set one to receive posts.")
    try:
        check_signature(
            secret,
            body,
            request.headers.get(TIMESTAMP_HEADER),
            request.headers.get(SIGNATURE_HEADER),
            now=clock.now(),
        )
    except BadSignature as exc:
        raise SignatureRefused(str(exc)) from None
    if target.status != sources.ACTIVE:
        raise SourcePaused(f"The source {target.name!r} is paused: send again when resumed.")
    try:
        records = records_from_body(body)
    except BadBody as exc:
        raise InvalidInput(f"Cannot read the delivery: {exc}.") from None
    ip = client_ip(request)
    for attempt in range(ATTEMPTS):
        try:
            result = _ingest(db, target, records, clock=clock, triage=triage, ip=ip)
            break
        except IntegrityError:
            if attempt + 1 == ATTEMPTS:
                raise
    return WebhookResult(**result.as_dict())


def _target(db: Database, vault: Vault, source_id: str) -> _Target:
    with db.reader() as session:
        try:
            row = sources.get_source(session, source_id)
        except NotFound:
            row = None
        if row is None or row.connector != CONNECTOR.name:
            # Same answer for "no source" and "not a webhook source": ids are not probed.
            raise NotFound(f"No webhook source {source_id}.")
        return _Target(
            id=row.id,
            name=row.name,
            organization_id=row.organization_id,
            status=row.status,
            config=sources.config_for(row, vault),
            queries=pipeline.load_queries(session, row.organization_id),
        )


def _ingest(
    db: Database,
    target: _Target,
    records: list[RawRecord],
    *,
    clock: Clock,
    triage: TriageFn,
    ip: str | None,
) -> BatchResult:
    ctx = BatchContext(
        organization_id=target.organization_id,
        source_name=target.name,
        connector=CONNECTOR,
        location=f"webhook:{target.name}",
        queries=target.queries,
        clock=clock,
        triage=triage,
    )
    with db.unit_of_work() as session:
        result = pipeline.process_batch(session, ctx, records)
        row = session.get(ListeningSource, target.id)
        now = clock.now()
        if row is not None:  # health, as the runner keeps it for pulled sources
            row.last_fetch_at = now
            row.last_error = None
            row.error_count = 0
            row.stored_count += result.stored
            if result.newest is not None:
                row.lag_seconds = max(0.0, (now - result.newest).total_seconds())
        audit.record(
            session,
            audit.AuditActor(None, f"webhook:{target.name}", target.organization_id, ip),
            "listening.webhook",
            "listening_source",
            target.id,
            after=result.as_dict(),
            organization_id=target.organization_id,
            clock=clock,
        )
    return result
