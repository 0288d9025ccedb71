"""A local SMTP server for tests (aiosmtpd on a free loopback port), loaded as a pytest plugin
by tests/conftest.py. The `smtp_inbox` fixture points GROUNDSWELL_SMTP_* at it (for code that
reads settings from the environment) and offers `settings_for(settings)` for code given a
`Settings` object; received messages collect in `messages`."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from groundswell.kernel.settings import Settings


class SmtpInbox:
    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def settings_for(self, settings: Settings) -> Settings:
        """`settings` with SMTP pointed at this inbox."""
        return settings.model_copy(
            update={
                "smtp_host": "127.0.0.1",
                "smtp_port": self.port,
                "smtp_from": "noreply@groundswell.example",
            }
        )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpInbox]:
    inbox = SmtpInbox(_free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    monkeypatch.setenv("GROUNDSWELL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GROUNDSWELL_SMTP_PORT", str(inbox.port))
    monkeypatch.setenv("GROUNDSWELL_SMTP_FROM", "noreply@groundswell.example")
    try:
        yield inbox
    finally:
        controller.stop()
