"""Listening in a real browser: a query is saved, matching posts (ingested through the real
pipeline) appear in the stream, a filter narrows them, the chart draws them, and a post
arriving later is announced by the poll instead of moving the list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, PHONE, open_page, shot, sign_in, wait_at
from tests.builders import make_org
from tests.listening.pages_support import ingest_posts

pytestmark = pytest.mark.browser

POSTS = [
    {"id": "1", "text": "Still waiting for my refund, bad service", "lang": "en", "author": "ana"},
    {"id": "2", "text": "Refunds take forever here", "lang": "en", "author": "bob"},
    {"id": "3", "text": "Je veux un refund, c'est bad", "lang": "fr", "author": "chloe"},
    {"id": "4", "text": "I love the new menu", "lang": "en", "author": "dan"},
    {"id": "5", "text": "nothing to see", "lang": "en", "author": "eve"},
]


def test_save_a_query_see_matches_filter_and_chart(
    browser: Any, base_url: str, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner)

    # Save a search, testing it first (nothing stored yet: the page says so).
    page.goto("/listening/queries")
    page.get_by_label("Name").fill("Refunds")
    page.get_by_label("Topic").fill("risk terms")
    page.get_by_label("Query").fill("refund*")
    page.get_by_role("button", name="Test on recent mentions").click()
    expect(page.locator("#query-test")).to_contain_text("No mentions are stored yet")
    page.get_by_role("button", name="Save search").click()
    wait_at(page, "/listening/queries?", prefix=True)
    expect(page.get_by_role("status")).to_contain_text("Saved 'Refunds'")
    expect(page.locator('tr[data-query-name="Refunds"]')).to_contain_text("active")

    # Posts arrive through the pipeline; the saved query tags the matching ones.
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    page.get_by_role("navigation", name="Listening").get_by_role("link", name="Stream").click()
    wait_at(page, "/listening")
    rows = page.locator(".mention-list .mention")
    expect(rows).to_have_count(5)

    # Topic filter: the three posts the saved query matched, its words marked.
    page.get_by_label("Topic").select_option("risk terms")
    page.get_by_role("button", name="Apply filters").click()
    wait_at(page, "/listening?q=&topic=risk", prefix=True)
    expect(rows).to_have_count(3)
    expect(rows.locator("mark").first).to_be_visible()
    chart = page.locator(".chart")
    expect(chart.locator("canvas").first).to_be_attached()
    expect(page.locator(".volume")).to_contain_text("3 mentions last 7 days")
    shot(page, "listening-01-topic")

    # A further filter narrows them.
    page.get_by_label("Language").select_option("fr")
    page.get_by_role("button", name="Apply filters").click()
    wait_at(page, "/listening?q=&topic=risk", prefix=True)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("chloe")
    expect(page.locator(".volume")).to_contain_text("1 mention last 7 days")
    expect(chart.locator("canvas").first).to_be_attached()
    shot(page, "listening-02-narrowed")

    # A bad query: the caret message, the page still works.
    page.get_by_label("Query", exact=False).first.fill("refund AND (")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".query-error")).to_contain_text("^")

    # The poll announces a new matching post without moving the list.
    page.goto("/listening?topic=risk+terms")
    expect(rows).to_have_count(3)
    ingest_posts(
        db, owner, tmp_path, [{"id": "6", "text": "refund please"}], clock=clock, name="b.jsonl"
    )
    announce = page.get_by_role("link", name="1 new mention — show")
    expect(announce).to_be_visible(timeout=15_000)
    expect(rows).to_have_count(3)
    announce.click()
    expect(rows).to_have_count(4)

    # The mention page: thread, triage with its why, the actions.
    rows.first.locator(".mention-link").click()
    wait_at(page, "/listening/mentions/", prefix=True)
    expect(page.locator(".why")).to_contain_text("Priority")
    expect(page.get_by_role("button", name="Suggest as an idea")).to_be_disabled()
    page.get_by_label("Flag a risk: what is at stake?").fill("could go viral")
    page.get_by_role("button", name="Flag a risk").click()
    expect(page.locator(".flags")).to_contain_text("could go viral")
    shot(page, "listening-03-mention")

    context.close()
    assert watch.problems == [], watch.problems
    assert watch.off_site() == []


def test_stream_on_a_phone(
    browser: Any, base_url: str, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)
    context, page, watch = open_page(browser, base_url, PHONE)
    sign_in(page, owner, start="/listening")
    page.goto("/listening")
    expect(page.locator(".mention-list .mention")).to_have_count(5)
    expect(page.locator(".chart canvas").first).to_be_attached()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the stream scrolls sideways on a phone ({width}px)"
    shot(page, "listening-04-phone")
    context.close()
    assert watch.problems == [], watch.problems
