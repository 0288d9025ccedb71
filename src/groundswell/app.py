"""`create_app`: mounts each room's routers and the error handlers; nothing else."""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from groundswell import __version__
from groundswell.care import api as care_api
from groundswell.care import pages as care_pages
from groundswell.care import pages_conversation as care_conversation_pages
from groundswell.care import pages_csat as care_csat_pages
from groundswell.care import pages_from_mention as care_from_mention_pages
from groundswell.care import pages_metrics as care_metrics_pages
from groundswell.crisis import api as crisis_api
from groundswell.crisis import pages as crisis_pages
from groundswell.governance import (
    accounts_api,
    accounts_pages,
    approvals_pages,
    model_pages,
    policy_api,
    policy_pages,
    training_pages,
    units_pages,
)
from groundswell.governance import api as governance_api
from groundswell.identity import api as identity_api
from groundswell.identity import notification_pages
from groundswell.identity import pages as identity_pages
from groundswell.identity.deps import page_actor
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.events import Dispatcher
from groundswell.kernel.handlers_index import import_all_handlers
from groundswell.kernel.settings import Settings, get_settings
from groundswell.listening import api as listening_api
from groundswell.listening import pages as listening_pages
from groundswell.listening import pages_admin as listening_admin_pages
from groundswell.listening import pages_mention as listening_mention_pages
from groundswell.listening import webhook_api as listening_webhook_api
from groundswell.web import errors
from groundswell.web.middleware import BodyLimit, SecurityHeaders
from groundswell.web.pages import health, room_router
from groundswell.web.templating import register_banner, register_context

# Rooms whose pages exist; the others get the shell's honest empty state.
BUILT_ROOMS: set[str] = {"care", "crisis", "listening"}


def create_app(
    settings: Settings | None = None, *, clock: Clock | None = None, db: Database | None = None
) -> FastAPI:
    settings = settings or get_settings()
    import_all_handlers()
    logging.basicConfig(level=settings.log_level)
    app = FastAPI(
        title="Groundswell",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        description="The API of Groundswell. Authenticate with `Authorization: Bearer <token>`.",
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock()
    app.state.db = db or Database(settings.database_url)
    app.state.dispatcher = Dispatcher(app.state.db, clock=app.state.clock)
    app.state.db.after_commit_hooks.append(app.state.dispatcher)

    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(packages=[("groundswell.web", "static")]), name="static")

    @app.get("/api/v1/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/api/v1/openapi.json",
            title="Groundswell API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.include_router(health)
    app.include_router(identity_api.router)
    app.include_router(identity_pages.router)
    app.include_router(notification_pages.router)
    register_context(notification_pages.unread_context)
    app.include_router(accounts_api.router)
    app.include_router(accounts_pages.router)
    app.include_router(governance_api.router)
    app.include_router(model_pages.router)
    app.include_router(units_pages.router)
    app.include_router(approvals_pages.router)
    app.include_router(policy_api.router)
    app.include_router(policy_pages.router)
    app.include_router(training_pages.router)
    app.include_router(care_api.router)
    app.include_router(care_pages.router)
    app.include_router(care_conversation_pages.router)
    app.include_router(care_csat_pages.router)
    app.include_router(care_from_mention_pages.router)
    app.include_router(care_metrics_pages.router)
    app.include_router(listening_webhook_api.router)
    app.include_router(listening_api.router)
    app.include_router(listening_pages.router)
    app.include_router(listening_mention_pages.router)
    app.include_router(listening_admin_pages.router)
    app.include_router(crisis_api.router)
    app.include_router(crisis_pages.router)
    register_banner(crisis_pages.crisis_banner)
    app.include_router(room_router(BUILT_ROOMS, page_actor))
    return app
