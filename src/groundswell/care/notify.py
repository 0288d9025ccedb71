"""Care notifications on three channels: in-app (`identity.notifications`), email through
SMTP (`identity.mail`, only when `GROUNDSWELL_SMTP_HOST` is set) and signed webhooks
(`kernel.webhooks.post_signed`, to the organization's `care_webhook` URLs; each secret is kept
encrypted with the governance vault and never shown again).

Who hears about an SLA breach: the assignee, the team's lead and the organization's managers
(its admins and owners when it has no manager)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.care.tables import CareConversation, CareTeam, CareWebhook
from groundswell.governance.vault import Vault
from groundswell.identity.domain import Permission, Role
from groundswell.identity.mail import send_email
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.errors import InvalidInput, NotFound
from groundswell.kernel.settings import Settings
from groundswell.kernel.webhooks import post_signed

EVENT_NAMES: Final = ("care.sla_warning", "care.sla_breached")
SECRET_MIN: Final = 16

ClientFactory = Callable[[], httpx.Client]


class WebhookFailed(Exception):
    """A webhook answered with an error status; the outbox retries the delivery."""


def managers(session: Session, organization_id: str) -> list[User]:
    """Active managers of the organization; its admins and owners when there is none."""
    users = session.scalars(
        select(User).where(User.organization_id == organization_id, User.is_active.is_(True))
    ).all()
    found = [u for u in users if u.role == Role.MANAGER.value]
    return found or [u for u in users if u.role in (Role.ADMIN.value, Role.OWNER.value)]


def escalation_people(session: Session, conversation: CareConversation) -> list[User]:
    """The assignee, the team lead and the managers, each once."""
    people: dict[str, User] = {}
    team = session.get(CareTeam, conversation.team_id) if conversation.team_id else None
    for user_id in (conversation.assignee_id, team.lead_id if team else None):
        user = session.get(User, user_id) if user_id else None
        if user is not None and user.is_active:
            people[user.id] = user
    for user in managers(session, conversation.organization_id):
        people.setdefault(user.id, user)
    return list(people.values())


def breach_email(
    session: Session, settings: Settings, conversation: CareConversation, target: str
) -> bool:
    """Email the escalation people about a breach; False when email is not configured."""
    people = escalation_people(session, conversation)
    who = conversation.customer_handle or conversation.customer_name or "a customer"
    link = f"{settings.base_url.rstrip('/')}/care/conversations/{conversation.id}"
    body = (
        f"The {target.replace('_', ' ')} target of the conversation with {who} "
        f"(priority {conversation.priority}) was missed.\n\n"
        f"{conversation.preview}\n\nOpen it: {link}\n"
    )
    return send_email(
        settings, [u.email for u in people], f"SLA breached: conversation with {who}", body
    )


def _check_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("A webhook URL starts with https:// (or http://) and names a host.")
    return url


def add_webhook(
    session: Session,
    actor: Actor,
    vault: Vault,
    *,
    url: str,
    secret: str,
    events: Iterable[str] = (),
    now: datetime,
) -> CareWebhook:
    """Register a signed webhook for care events (all of them when `events` is empty)."""
    actor.require(Permission.SETTINGS_MANAGE)
    wanted = sorted(set(events))
    unknown = [e for e in wanted if e not in EVENT_NAMES]
    if unknown:
        raise InvalidInput(f"Unknown events {unknown}; use {', '.join(EVENT_NAMES)}.")
    if len(secret) < SECRET_MIN:
        raise InvalidInput(f"A webhook secret has at least {SECRET_MIN} characters.")
    row = CareWebhook(
        organization_id=actor.organization_id,
        url=_check_url(url),
        secret_ciphertext=vault.encrypt(secret),
        events=wanted,
        active=True,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor.audit,
        "care.webhook.add",
        "care_webhook",
        row.id,
        after={"url": row.url, "events": wanted},
        clock=FrozenClock(now),
    )
    return row


def list_webhooks(session: Session, actor: Actor) -> list[CareWebhook]:
    actor.require(Permission.SETTINGS_MANAGE)
    return list(
        session.scalars(
            select(CareWebhook)
            .where(CareWebhook.organization_id == actor.organization_id)
            .order_by(CareWebhook.created_at, CareWebhook.id)
        )
    )


def remove_webhook(session: Session, actor: Actor, webhook_id: str, *, now: datetime) -> None:
    actor.require(Permission.SETTINGS_MANAGE)
    row = session.get(CareWebhook, webhook_id)
    if row is None or row.organization_id != actor.organization_id:
        raise NotFound(f"No webhook {webhook_id!r}.")
    audit.record(
        session,
        actor.audit,
        "care.webhook.remove",
        "care_webhook",
        row.id,
        before={"url": row.url, "events": row.events},
        clock=FrozenClock(now),
    )
    session.delete(row)
    session.flush()


def post_webhooks(
    session: Session,
    organization_id: str,
    event_name: str,
    payload: Mapping[str, Any],
    *,
    open_vault: Callable[[], Vault],
    client_factory: ClientFactory,
    now: datetime,
) -> int:
    """POST `payload` (with `event` set to `event_name`), signed, to every active webhook of
    the organization that wants the event. Returns how many answered 2xx; raises
    `WebhookFailed` if any did not (so the outbox delivers again later)."""
    hooks = session.scalars(
        select(CareWebhook).where(
            CareWebhook.organization_id == organization_id, CareWebhook.active.is_(True)
        )
    ).all()
    wanted = [h for h in hooks if not h.events or event_name in h.events]
    if not wanted:
        return 0
    body = {"event": event_name, **payload}
    vault = open_vault()  # only now: no webhook, no key file touched
    ok = 0
    failures: list[str] = []
    with client_factory() as client:
        for hook in wanted:
            try:
                response = post_signed(
                    client, hook.url, body, vault.decrypt(hook.secret_ciphertext), now=now
                )
            except httpx.HTTPError as exc:
                failures.append(f"{hook.url}: {type(exc).__name__}")
                continue
            if response.is_success:
                ok += 1
            else:
                failures.append(f"{hook.url}: HTTP {response.status_code}")
    if failures:
        raise WebhookFailed("; ".join(failures))
    return ok
