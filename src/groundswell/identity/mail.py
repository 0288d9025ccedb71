"""Email through SMTP, used only when `GROUNDSWELL_SMTP_HOST` is set."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage

from groundswell.kernel.settings import Settings


def send_email(settings: Settings, to: Sequence[str], subject: str, body: str) -> bool:
    """Send a plain-text email to `to` (one message, every address in To). Returns False,
    sending nothing, when no SMTP server is configured or there is nobody to send to; SMTP
    errors propagate to the caller, who decides whether to retry."""
    recipients = [address for address in to if address]
    if not settings.smtp_host or not recipients:
        return False
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    _deliver(settings, msg)
    return True


def send_reset_email(settings: Settings, to: str, link: str) -> None:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = to
    msg["Subject"] = "Reset your Groundswell password"
    msg.set_content(
        f"Someone (hopefully you) asked to reset your Groundswell password.\n\n"
        f"Open this link within {settings.reset_token_minutes} minutes:\n{link}\n\n"
        "If it was not you, ignore this email; your password stays as it is.\n"
    )
    _deliver(settings, msg)


def _deliver(settings: Settings, msg: EmailMessage) -> None:
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(msg)
