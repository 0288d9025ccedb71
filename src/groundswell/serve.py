"""Serving the app with uvicorn. Embedded SQLite databases are migrated on start; on
PostgreSQL migrations are an explicit step (`groundswell migrate`), so several web processes
never race to migrate.

Background threads: outbox retries and the scheduled jobs (`kernel.jobs.run_due`) every few
seconds, and, unless GROUNDSWELL_LISTENING_SOURCES_IN_SERVE is off, the listening sources
(`listening.worker.Worker`, the same runner as `groundswell worker`)."""

from __future__ import annotations

import logging
import threading

import uvicorn

from groundswell.app import create_app
from groundswell.governance.vault import Vault
from groundswell.kernel import jobs
from groundswell.kernel import migrate as migrations
from groundswell.kernel.clock import SystemClock
from groundswell.kernel.console import err, open_database
from groundswell.kernel.db import Database
from groundswell.kernel.errors import NotReady
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.jobs_index import import_all_jobs
from groundswell.kernel.settings import Settings, get_settings
from groundswell.listening.worker import RunnerConfig, Worker, start_in_background
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
    """Retry deliveries whose back-off has passed, also when no new commit triggers them, and
    run the scheduled jobs that are due."""
    clock = SystemClock()
    while not stop.wait(OUTBOX_POLL_SECONDS):
        try:
            dispatcher.dispatch_pending()
        except Exception:  # a database hiccup must not kill the loop; the next round retries
            logging.getLogger(__name__).exception("outbox dispatch failed")
        jobs.run_due(dispatcher.db, clock)  # logs and survives each failing job itself


def start_sources(db: Database, settings: Settings) -> threading.Event | None:
    """Run the active listening sources in background threads (outbox and jobs are already
    served by `_drain_outbox_forever`). None when the setting turns them off."""
    if not settings.listening_sources_in_serve:
        return None
    worker = Worker(
        db,
        Vault.open(settings.data_dir),
        config=RunnerConfig(
            queue_size=settings.listening_queue_batches,
            poll_seconds=settings.listening_poll_seconds,
            housekeeping=False,
        ),
    )
    stop, _thread = start_in_background(worker)
    return stop


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
    import_all_jobs()
    stop = threading.Event()
    threading.Thread(
        target=_drain_outbox_forever, args=(app.state.dispatcher, stop), daemon=True
    ).start()
    stop_sources = start_sources(db, settings)
    logging.getLogger("uvicorn.access").addFilter(RedactSecrets())
    err.print(f"Groundswell on http://{host}:{port}  (Ctrl+C to stop)")
    try:
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
    finally:
        stop.set()
        if stop_sources is not None:
            stop_sources.set()
