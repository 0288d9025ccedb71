"""`send_email`: delivered to a local SMTP server; nothing sent without SMTP or recipients."""

from __future__ import annotations

from groundswell.identity.mail import send_email
from groundswell.kernel.settings import Settings
from tests.smtp import SmtpInbox


def test_send_email_reaches_the_server(settings: Settings, smtp_inbox: SmtpInbox) -> None:
    sent = send_email(
        smtp_inbox.settings_for(settings),
        ["lead@acme.example", "", "legal@acme.example"],
        "Incident SEV1 opened",
        "Spike in safety complaints.",
    )
    assert sent
    (mail,) = smtp_inbox.messages
    assert mail["To"] == "lead@acme.example, legal@acme.example"
    assert mail["Subject"] == "Incident SEV1 opened"
    assert "Spike in safety complaints." in mail.get_payload()


def test_nothing_sent_without_smtp_or_recipients(settings: Settings, smtp_inbox: SmtpInbox) -> None:
    assert not send_email(settings.model_copy(update={"smtp_host": ""}), ["a@b.example"], "s", "b")
    assert not send_email(smtp_inbox.settings_for(settings), [], "s", "b")
    assert smtp_inbox.messages == []
