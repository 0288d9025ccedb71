"""Serving the app with uvicorn. Embedded SQLite databases are migrated on start; on
PostgreSQL migrations are an explicit step (`groundswell migrate`), so several web processes
never race to migrate."""

from __future__ import annotations

import logging
import threading

import uvicorn

from groundswell.app import create_app
from groundswell.kernel import migrate as migrations
from groundswell.kernel.console import err, open_database
from groundswell.kernel.errors import NotReady
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.settings import get_settings
from groundswell.web.errors import redact_secrets

OUTBOX_POLL_SECONDS = 5.0


class RedactSecrets(logging.Filter):
    """Access logs must not carry one-time secrets that travel in URLs (password resets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(redact_secrets(a) if isinstance(a, str) else a for a in record.args)
        record.msg = redact_secrets(str(record.msg))
        return True


def _drain_outbox_forever(dispatcher: Dispatcher, stop: threading.Event) -> None:
    """Retry deliveries whose back-off has passed, also when no new commit triggers them."""
    while not stop.wait(OUTBOX_POLL_SECONDS):
        try:
            dispatcher.dispatch_pending()
        except Exception:  # a database hiccup must not kill the loop; the next round retries
            logging.getLogger(__name__).exception("outbox dispatch failed")


def run(host: str, port: int) -> None:
    settings = get_settings()
    db = open_database(settings, must_exist=not settings.is_sqlite)
    if settings.is_sqlite:
        migrations.upgrade(settings.database_url)
    elif not migrations.is_at_head(db.write_engine):
        raise NotReady(
            "The database is not at the latest migration. Run `groundswell migrate` first."
        )
    app = create_app(settings, db=db)
    app.state.dispatcher.dispatch_pending()  # events left by a previous process
    stop = threading.Event()
    threading.Thread(
        target=_drain_outbox_forever, args=(app.state.dispatcher, stop), daemon=True
    ).start()
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    err.print(f"Groundswell on http://{host}:{port}  (Ctrl+C to stop)")
    try:
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
    finally:
        stop.set()
