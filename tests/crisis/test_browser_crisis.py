"""The crisis room in a real browser: an injected spike (mentions stored directly) shows an
alert with the chart, an incident is opened from it, and a checklist step is ticked."""

from __future__ import annotations

import re
from typing import Any

import pytest

from groundswell.crisis import jobs
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, open_page, shot, sign_in, wait_at
from tests.builders import make_org
from tests.crisis.spike import quiet_then_spike

pytestmark = pytest.mark.browser


def test_spike_alert_incident_and_checklist(
    browser: Any, base_url: str, db: Database, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db)
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner)
    page.goto("/crisis")
    expect(page.get_by_role("heading", level=1)).to_have_text("Crisis room")
    expect(page.get_by_text("No alerts in the last 7 days")).to_be_visible()

    # A spike arrives and the worker's detection job runs.
    quiet_then_spike(db, owner.actor.organization_id, clock.now())
    assert jobs.detect(db, clock) >= 1
    page.reload()
    alert = page.locator('.alert-item[data-metric="volume"][data-topic=""]')
    expect(alert).to_have_count(1)
    expect(alert.locator(".alert-summary")).to_contain_text("posts in")
    expect(alert).to_contain_text("battery")
    expect(page.locator("#live .chart canvas").first).to_be_visible()
    shot(page, "crisis-01-alert")

    alert.get_by_text("Open incident", exact=True).click()
    alert.get_by_label("Title").fill("Swelling batteries")
    alert.get_by_label("Severity").select_option("sev2")
    alert.get_by_role("button", name="Open incident from this alert").click()
    wait_at(page, "/crisis/incidents/", prefix=True)
    expect(page.get_by_role("heading", level=1)).to_have_text("Swelling batteries")
    expect(page.locator("#timeline")).to_contain_text("Alert:")
    checklist = page.locator("#checklist")
    total = checklist.locator('input[type="checkbox"]').count()
    assert total >= 3
    expect(checklist.get_by_role("heading")).to_contain_text(f"0 of {total} done")
    shot(page, "crisis-02-incident")

    checklist.locator('input[type="checkbox"]').first.check()
    expect(page.locator("#checklist").get_by_role("heading")).to_contain_text(f"1 of {total} done")
    page.reload()
    expect(page.locator('#checklist input[type="checkbox"]').first).to_be_checked()
    expect(page.locator("#timeline")).to_contain_text(re.compile(r"Done: "))
    shot(page, "crisis-03-step-ticked")

    # Back in the crisis room, the incident is the one being worked on, step ticked.
    page.get_by_role("navigation", name="Crisis").get_by_role("link", name="Crisis room").click()
    wait_at(page, "/crisis")
    expect(page.locator(".focus-incident")).to_contain_text("Swelling batteries")
    expect(page.locator("#checklist").get_by_role("heading")).to_contain_text(f"1 of {total} done")
    shot(page, "crisis-04-room-working-on")
    assert watch.problems == []
    assert watch.off_site() == []
    context.close()
