"""The coordination pages in a real browser: an owner previews and saves a model with the
radio buttons, a manager approves a waiting reply from the queue (htmx swaps the card) and a
contributor never sees an Approve button on their own request. Screenshots land in
test-artifacts/browser/."""

from __future__ import annotations

from typing import Any

import pytest

from groundswell.governance import service
from groundswell.governance.domain import CoordinationModel
from groundswell.governance.units import UnitKind
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, PHONE, open_page, shot, sign_in, wait_at
from tests.builders import make_org, make_user
from tests.governance.gov_helpers import add_unit, ask, join, trained_user

pytestmark = pytest.mark.browser


def test_owner_switches_model_and_manager_approves(
    browser: Any, base_url: str, db: Database, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    now = clock.now()
    owner = make_org(db, "Acme")
    manager = trained_user(db, owner, Role.MANAGER, now)
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, now)
    add_unit(db, owner, "hub", UnitKind.HUB, now, name="Social team")
    join(db, owner, "hub", manager, Role.MANAGER, now)
    join(db, owner, "hub", contributor, Role.CONTRIBUTOR, now)

    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/governance/model")
    wait_at(page, "/governance/model")
    expect(page.locator("#current-model")).to_have_text("Empowered Units (hub and spoke)")
    page.get_by_label("Command & Control").check()
    # htmx swaps in the table of the chosen model before anything is saved.
    expect(page.get_by_role("heading", name="What Command & Control changes")).to_be_visible()
    shot(page, "governance-01-model-preview")
    page.get_by_role("button", name="Save").click()
    wait_at(page, "/governance/model?notice=", prefix=True)
    expect(page.get_by_role("status").first).to_contain_text("is now Command & Control")
    expect(page.locator("#current-model")).to_have_text("Command & Control")
    with db.reader() as session:
        model = service.current_model(session, owner.actor.organization_id)
    assert model is CoordinationModel.COMMAND_AND_CONTROL
    context.close()

    request_id = ask(db, contributor, clock.now(), text="So sorry, we are fixing it now.")

    context, page, watch = open_page(browser, base_url, PHONE)
    sign_in(page, contributor, start="/governance/approvals?box=mine")
    card = page.locator(f"#approval-{request_id}")
    expect(card).to_contain_text("Reply: So sorry")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    expect(card.get_by_role("button", name="Withdraw request")).to_be_visible()
    shot(page, "governance-02-own-request-phone")
    context.close()

    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, manager, start="/governance/approvals")
    card = page.locator(f"#approval-{request_id}")
    expect(card).to_contain_text("Reply: So sorry")
    card.get_by_label("Comment").fill("Good, send it")
    shot(page, "governance-03-queue")
    card.get_by_role("button", name="Approve").click()
    expect(card.locator(".badge.approval-approved")).to_have_text("approved")
    expect(card).to_contain_text("“Good, send it”")
    expect(card.get_by_role("button", name="Approve")).to_have_count(0)
    shot(page, "governance-04-approved")
    page.get_by_role("link", name="Waiting for me").click()
    expect(page.get_by_text("Nothing waits for your approval.")).to_be_visible()
    assert watch.problems == []
    assert watch.off_site() == []
    context.close()


def test_owner_sets_up_units(browser: Any, base_url: str, db: Database) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    agent = make_user(db, owner, Role.AGENT)
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/governance/units")
    wait_at(page, "/governance/units")
    expect(page.get_by_text("works as one team")).to_be_visible()
    page.get_by_label("Name").fill("Social team")
    page.get_by_label("Kind").select_option("hub")
    page.get_by_role("button", name="Add unit").click()
    expect(page.get_by_role("status").first).to_contain_text("Social team added (key hub)")
    page.get_by_label("Name").fill("Retail banking")
    page.get_by_label("Kind").select_option("business_unit")
    page.get_by_role("button", name="Add unit").click()
    retail = page.locator("section.unit", has_text="Retail banking")
    retail.get_by_label("Person").select_option(agent.email)
    retail.get_by_label("Role in Retail banking").select_option("agent")
    retail.get_by_role("button", name="Add member").click()
    retail = page.locator("section.unit", has_text="Retail banking")
    expect(retail.get_by_role("table")).to_contain_text(agent.email)
    expect(page.get_by_text("works as one team")).to_have_count(0)
    shot(page, "governance-05-units")
    assert watch.problems == []
    context.close()
