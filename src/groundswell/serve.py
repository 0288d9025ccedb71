"""Serving the app with uvicorn. Embedded SQLite databases are migrated on start; on
PostgreSQL migrations are an explicit step (`groundswell migrate`), so several web processes
never race to migrate."""

from __future__ import annotations

import uvicorn

from groundswell.app import create_app
from groundswell.kernel import migrate as migrations
from groundswell.kernel.console import err, open_database
from groundswell.kernel.errors import NotReady
from groundswell.kernel.settings import get_settings


def run(host: str, port: int) -> None:
    settings = get_settings()
    db = open_database(settings)
    if settings.is_sqlite:
        migrations.upgrade(settings.database_url)
    elif not migrations.is_at_head(db.write_engine):
        raise NotReady(
            "The database is not at the latest migration. Run `groundswell migrate` first."
        )
    app = create_app(settings, db=db)
    app.state.dispatcher.dispatch_pending()  # events left by a previous process
    err.print(f"Groundswell on http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
