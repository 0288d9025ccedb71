"""Jinja2 templates from every room's `templates/` folder, and the `render` helper."""

from __future__ import annotations

from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from groundswell import __version__
from groundswell.web.rooms import ROOMS

TEMPLATE_PACKAGES = ("groundswell.web", "groundswell.identity", "groundswell.governance")

_env = Environment(
    loader=ChoiceLoader([PackageLoader(pkg, "templates") for pkg in TEMPLATE_PACKAGES]),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Render a page. `request.state.actor` (set by the page dependency) and its CSRF token
    reach every template, as do the rooms for the navigation."""
    ctx: dict[str, Any] = {
        "rooms": ROOMS,
        "version": __version__,
        "actor": getattr(request.state, "actor", None),
        "csrf_token": getattr(request.state, "csrf_token", ""),
    }
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
