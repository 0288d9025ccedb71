"""Jinja2 templates from every room's `templates/` folder, and the `render` helper."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from groundswell import __version__
from groundswell.web.rooms import ROOMS

TEMPLATE_PACKAGES = (
    "groundswell.web",
    "groundswell.identity",
    "groundswell.governance",
    "groundswell.care",
    "groundswell.crisis",
    "groundswell.listening",
)

_env = Environment(
    loader=ChoiceLoader([PackageLoader(pkg, "templates") for pkg in TEMPLATE_PACKAGES]),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates = Jinja2Templates(env=_env)

ContextProvider = Callable[[Request], dict[str, Any]]
_context_providers: list[ContextProvider] = []


def register_context(provider: ContextProvider) -> None:
    """Let a room above the shell add values to every page's context (the unread
    notifications count, the crisis-mode banner...) without the shell importing it. A provider
    gets the request (with `request.state.actor` set on signed-in pages) and returns a dict;
    registering the same function twice keeps one."""
    if provider not in _context_providers:
        _context_providers.append(provider)


@dataclass(frozen=True)
class Banner:
    """A strip shown above every signed-in page (crisis mode on, ...). `tone`: danger, warn
    or info; `link` an internal path."""

    text: str
    link: str | None = None
    link_text: str = ""
    tone: str = "danger"


BannerProvider = Callable[[Request], "Banner | None"]
_banner_providers: list[BannerProvider] = []


def register_banner(provider: BannerProvider) -> None:
    """Let a room above the shell put a banner on every signed-in page (crisis registers its
    crisis-mode banner at app start). A provider returns None when it has nothing to say."""
    if provider not in _banner_providers:
        _banner_providers.append(provider)


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
    if ctx["actor"] is not None:
        for provider in _context_providers:
            ctx.update(provider(request))
        ctx["banners"] = [b for p in _banner_providers if (b := p(request)) is not None]
    ctx.update(context or {})
    return templates.TemplateResponse(request, name, ctx, status_code=status_code)
