"""The web shell in a real browser (plumbing in tests/browser.py).

Without /usr/bin/chromium these tests skip with a reason, except under CI=true, where a
missing browser is a failure: the acceptance tests of the shell must never vanish silently.
Screenshots land in test-artifacts/browser/ (ignored by git) for a person to look at.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from groundswell.app import BUILT_ROOMS
from groundswell.kernel.db import Database
from groundswell.web.rooms import ROOMS
from tests.browser import DESKTOP, PHONE, open_page, shot, sign_in, wait_at
from tests.builders import make_org

pytestmark = pytest.mark.browser


def test_sign_in_visit_every_room_and_manage_a_token(
    browser: Any, base_url: str, db: Database
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    context, page, watch = open_page(browser, base_url, DESKTOP)

    page.goto("/")
    wait_at(page, "/login?next=/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in to Groundswell")
    shot(page, "01-login")
    page.get_by_label("Email").fill(owner.email)
    page.get_by_label("Password").fill(owner.password)
    page.get_by_role("button", name="Sign in").click()
    wait_at(page, "/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Welcome")
    shot(page, "02-home")

    # Every room of the navigation, in order, each with its honest empty state.
    nav = page.get_by_role("navigation", name="Rooms")
    expect(nav.get_by_role("link")).to_have_text([room.title for room in ROOMS])
    for room in ROOMS:
        nav.get_by_role("link", name=room.title, exact=True).click()
        wait_at(page, f"/{room.slug}")
        if room.slug not in BUILT_ROOMS:
            expect(page.get_by_role("heading", level=1)).to_have_text(room.title)
            empty = (
                "The rest of this room is not built yet" if room.built_parts else "Nothing here yet"
            )
            expect(page.get_by_role("heading", name=empty)).to_be_visible()
            for label, _href in room.built_parts:
                expect(page.get_by_role("link", name=label, exact=True)).to_be_visible()
            expect(page.get_by_text(room.issue_hint)).to_be_visible()
        expect(nav.get_by_role("link", name=room.title, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        shot(page, f"03-room-{room.slug}")

    # Settings → API tokens: create one and see its secret once.
    page.get_by_role("link", name="Settings").click()
    page.get_by_role("navigation", name="Settings").get_by_role("link", name="API tokens").click()
    wait_at(page, "/settings/tokens")
    page.get_by_label("Name").fill("browser token")
    page.get_by_label("write").check()
    page.get_by_role("button", name="Create token").click()
    secret_box = page.locator("#new-token")
    expect(secret_box).to_be_visible()
    expect(page.locator("#new-token-box")).to_be_focused()
    wait_at(page, "/settings/tokens")
    secret = secret_box.inner_text().strip()
    assert len(secret) >= 32
    row = page.locator('tr[data-token-name="browser token"]')
    expect(row).to_contain_text("active")
    expect(row).to_contain_text("read, write")
    expect(row.locator("code")).to_have_text(f"{secret[:12]}…")
    shot(page, "04-token-created")

    # The secret the page showed is a working token...
    me = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.status_code == 200, me.text
    assert me.json()["email"] == owner.email

    # ...and it is never shown again: the page was updated in place (htmx), so a reload is a
    # plain GET that neither posts the form again nor shows the secret.
    page.reload()
    expect(page.locator("#new-token")).to_have_count(0)
    expect(page.locator('tr[data-token-name="browser token"]')).to_have_count(1)
    assert secret not in page.content()

    dialogs: list[str] = []

    def confirm(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page.once("dialog", confirm)
    row.get_by_role("button", name="Revoke browser token").click()
    wait_at(page, "/settings/tokens")
    expect(row).to_contain_text("revoked")
    assert len(dialogs) == 1
    assert "cannot be undone" in dialogs[0]
    expect(row.get_by_role("button")).to_have_count(0)
    shot(page, "05-token-revoked")
    revoked = httpx.get(f"{base_url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert revoked.status_code == 401

    # The audit log lists both changes, and its filter narrows to one.
    page.get_by_role("link", name="Audit log").click()
    wait_at(page, "/audit")
    actions = page.locator("tbody td:nth-child(4)")
    expect(actions.filter(has_text="token.create")).to_have_count(1)
    expect(actions.filter(has_text="token.revoke")).to_have_count(1)
    shot(page, "06-audit")
    page.get_by_label("Action").fill("token.revoke")
    page.get_by_role("button", name="Filter").click()
    wait_at(page, "/audit?action=token.revoke", prefix=True)
    expect(actions).to_have_text(["token.revoke"])

    page.get_by_role("button", name="Sign out").click()
    wait_at(page, "/login")
    page.goto("/settings/tokens")
    wait_at(page, "/login?next=/settings/tokens")

    assert watch.problems == []
    assert watch.off_site() == []
    context.close()


def test_phone_width_navigation_opens_from_the_menu_button(
    browser: Any, base_url: str, db: Database
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Phone")
    context, page, watch = open_page(browser, base_url, PHONE)
    sign_in(page, owner)

    menu = page.get_by_role("button", name="Menu")
    nav = page.get_by_role("navigation", name="Rooms")
    expect(menu).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(nav).to_be_hidden()
    shot(page, "07-phone-home")

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link")).to_have_count(len(ROOMS))
    for link in nav.get_by_role("link").all():
        expect(link).to_be_visible()
    shot(page, "08-phone-menu-open")
    nav.get_by_role("link", name="Care", exact=True).click()
    wait_at(page, "/care")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    # Readable on a phone: nothing wider than the screen forces sideways scrolling.
    for path in ("/", "/care", "/settings/tokens", "/settings/users", "/audit"):
        page.goto(path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide on a {PHONE['width']}px phone"
    shot(page, "09-phone-tokens")

    assert watch.problems == []
    context.close()


def test_a_refused_action_says_why_in_place(browser: Any, base_url: str, db: Database) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Refused")
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/settings/tokens")
    # A form whose CSRF token no longer matches the session, as after signing in elsewhere.
    page.locator('form[hx-post] input[name="csrf_token"]').evaluate("e => e.value = 'stale'")
    page.get_by_label("Name").fill("never made")
    page.get_by_role("button", name="Create token").click()

    expect(page.locator("#flash [role=alert]")).to_contain_text("CSRF check")
    expect(page.get_by_label("Name")).to_have_value("never made")
    expect(page.locator('tr[data-token-name="never made"]')).to_have_count(0)
    shot(page, "11-refused-in-place")

    # The browser logs the 403 itself; nothing else may have gone wrong.
    assert [p for p in watch.problems if "403" not in p] == []
    context.close()


def test_keyboard_reaches_the_skip_link_first(browser: Any, base_url: str, db: Database) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Keys")
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/listening")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    assert watch.problems == []
    context.close()


def test_api_docs_load_everything_from_this_server(browser: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    context, page, watch = open_page(browser, base_url, DESKTOP)
    page.goto("/api/v1/docs")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.get_by_text("/api/v1/me", exact=True)).to_be_visible()
    shot(page, "10-api-docs")

    assert watch.problems == []
    assert watch.off_site() == []
    assert f"{base_url}/static/vendor/swagger-ui/swagger-ui-bundle.js" in watch.requests
    context.close()
