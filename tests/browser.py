"""Browser-test plumbing shared by every room (a pytest plugin loaded by tests/conftest.py):
Debian's headless Chromium driven by Playwright against the real app served by uvicorn on a
loopback port.

Without /usr/bin/chromium browser tests skip with a reason, except under CI=true, where a
missing browser is a failure: acceptance tests must never vanish silently. Screenshots land in
test-artifacts/browser/ (ignored by git) for a person to look at.

Fixtures: `browser` (one Chromium per module), `base_url` (the `app` fixture served on a
loopback port). Helpers: `open_page`, `shot`, `wait_at`, `sign_in`, `Watch`.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI

from tests.builders import Person

CHROMIUM = Path("/usr/bin/chromium")
# Flags that keep Chromium off the network (updates, sync, field trials) and working as root
# in a container without a GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "browser"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
# Generous: only reached when something is broken, never a measure of speed.
WAIT_MS = 15_000


def _no_browser(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: browser tests may not be skipped)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One Chromium for the whole module; each test gets its own context (cookies)."""
    if not CHROMIUM.exists():
        _no_browser(f"{CHROMIUM} is missing: `apt-get update && apt-get install -y chromium`")
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError:
        _no_browser("Python Playwright is not installed in this environment")
    # `expect` has its own 5 s default, too short on a loaded CI machine; only a broken page
    # ever waits this long.
    expect.set_options(timeout=WAIT_MS)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def base_url(app: FastAPI) -> Iterator[str]:
    """The app of the `app` fixture (test database, frozen clock) served by uvicorn in a
    thread, on a socket bound before the server starts so no other process can take the port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws="none", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "uvicorn did not start; see the captured log"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass
class Watch:
    """What went wrong in the page that no assertion on the DOM would see: console errors
    (CSP violations included), failed requests, 4xx/5xx for assets, requests off this host."""

    base: str
    problems: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("request", lambda req: self.requests.append(req.url))
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.problems.append(f"console: {message.text}")

    def _failed(self, request: Any) -> None:
        # The browser aborts loads itself when a page navigates away (a favicon, say); that is
        # no fault of the server, whose failures show up as responses instead.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"request failed: {request.url} ({request.failure})")

    def _response(self, response: Any) -> None:
        if "/static/" in response.url and response.status >= 400:
            self.problems.append(f"{response.status} for {response.url}")

    def off_site(self) -> list[str]:
        return [u for u in self.requests if not u.startswith((self.base, "data:"))]


def open_page(browser: Any, base_url: str, viewport: dict[str, int]) -> tuple[Any, Any, Watch]:
    context = browser.new_context(viewport=viewport, base_url=base_url)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    watch = Watch(base_url)
    watch.attach(page)
    return context, page, watch


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def wait_at(page: Any, target: str, *, prefix: bool = False) -> None:
    """Wait until the page is at `target` (path and query, as the server wrote them)."""

    def arrived(url: str) -> bool:
        parts = urlsplit(url)
        here = parts.path + (f"?{parts.query}" if parts.query else "")
        return here.startswith(target) if prefix else here == target

    page.wait_for_url(arrived)


def sign_in(page: Any, person: Person, *, start: str = "/") -> None:
    page.goto(start)
    wait_at(page, "/login?next=/", prefix=True)
    page.get_by_label("Email").fill(person.email)
    page.get_by_label("Password").fill(person.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(lambda url: "/login" not in url)
