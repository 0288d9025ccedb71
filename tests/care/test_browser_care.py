"""The care inbox in a real browser (plumbing in tests/browser.py): two agents on one
conversation see each other (collision warning), and a keyboard-only triage of five
conversations. Screenshots land in test-artifacts/browser/care-*.png."""

from __future__ import annotations

from typing import Any

import pytest

from groundswell.care.tables import CareConversation
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, open_page, shot, sign_in, wait_at
from tests.builders import make_org, make_user
from tests.care.page_data import add_reply_source, make_conversation

pytestmark = pytest.mark.browser


def _user_name(db: Database, user_id: str) -> str:
    from groundswell.identity.tables import User

    with db.reader() as session:
        user = session.get(User, user_id)
        assert user is not None
        return user.name


def test_agent_b_sees_that_agent_a_is_replying(
    browser: Any, base_url: str, db: Database, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    ari = make_user(db, owner, Role.AGENT)
    bea = make_user(db, owner, Role.AGENT)
    add_reply_source(db, owner, clock.now())
    cid = make_conversation(db, owner, now=clock.now(), handle="@ana")
    ari_name = _user_name(db, ari.actor.user_id)
    bea_name = _user_name(db, bea.actor.user_id)

    context_a, page_a, watch_a = open_page(browser, base_url, DESKTOP)
    context_b, page_b, watch_b = open_page(browser, base_url, DESKTOP)
    sign_in(page_a, ari)
    sign_in(page_b, bea)
    page_a.goto(f"/care/conversations/{cid}")
    page_b.goto(f"/care/conversations/{cid}")

    # Both see the other one viewing.
    expect(page_b.locator("#presence")).to_contain_text(f"{ari_name} is viewing")
    expect(page_a.locator("#presence")).to_contain_text(f"{bea_name} is viewing")
    expect(page_b.locator("#collision")).not_to_contain_text("replying")

    # Agent A types a reply: agent B is warned that A is replying.
    page_a.get_by_label("Your reply").press_sequentially("Hi Ana, we are rebooking you", delay=20)
    expect(page_b.locator("#presence")).to_contain_text(f"{ari_name} is replying")
    expect(page_b.locator("#collision")).to_contain_text(f"{ari_name} is replying")
    expect(page_b.locator("#collision")).to_contain_text("Check with them before you send")
    # The live policy check ran on A's draft.
    expect(page_a.locator("#policy-check")).to_contain_text("characters")
    shot(page_a, "care-01-agent-a-typing")
    shot(page_b, "care-02-agent-b-warned")
    # A does not see a warning about themselves.
    expect(page_a.locator("#collision")).not_to_contain_text("replying")

    assert watch_a.problems == []
    assert watch_b.problems == []
    assert watch_a.off_site() == []
    assert watch_b.off_site() == []
    context_a.close()
    context_b.close()


def test_keyboard_only_triage_of_five_conversations(
    browser: Any, base_url: str, db: Database, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    ari = make_user(db, owner, Role.AGENT)
    texts = [
        "My bag did not arrive in Lisbon",
        "Is flight GS112 delayed?",
        "Refund still missing after 3 weeks",
        "The app crashes at check-in",
        "Can I bring my cat on board?",
    ]
    ids = [
        make_conversation(db, owner, now=clock.now(), handle=f"@c{i}", text=t)
        for i, t in enumerate(texts)
    ]
    ari_name = _user_name(db, ari.actor.user_id)

    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, ari)
    page.goto("/care")
    rows = page.locator("[data-conversation-row]")
    expect(rows).to_have_count(5)
    expect(rows.first).to_have_attribute("aria-selected", "true")

    # ? shows the keys, Esc hides them.
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_hidden()

    # Triage all five with the keyboard alone: take, resolve (or snooze the last), next.
    for index in range(5):
        row = rows.nth(index)
        expect(row).to_have_attribute("aria-selected", "true")
        page.keyboard.press("a")
        expect(row).to_contain_text(f"Assigned to {ari_name}")
        expect(rows.nth(index)).to_have_attribute("aria-selected", "true")
        if index < 4:
            page.keyboard.press("e")
            expect(rows.nth(index)).to_contain_text("Resolved")
        else:
            page.keyboard.press("s")
            expect(rows.nth(index)).to_contain_text("Snoozed")
        page.keyboard.press("j")
    shot(page, "care-03-keyboard-triage")

    # k goes back up, / focuses the search, r opens the selected one ready to reply.
    page.keyboard.press("k")
    expect(rows.nth(3)).to_have_attribute("aria-selected", "true")
    page.keyboard.press("/")
    expect(page.get_by_label("Search")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("j")
    snoozed_id = rows.nth(4).get_attribute("data-id")
    page.keyboard.press("r")
    wait_at(page, f"/care/conversations/{snoozed_id}")
    expect(page.get_by_label("Your reply")).to_be_focused()
    shot(page, "care-04-reply-with-r")
    # Esc leaves the composer, u goes back to the inbox, Enter opens the first row.
    page.keyboard.press("Escape")
    page.keyboard.press("u")
    wait_at(page, "/care")
    expect(rows).to_have_count(1)  # the four resolved ones left the "not resolved" list
    page.keyboard.press("Enter")
    wait_at(page, f"/care/conversations/{snoozed_id}")

    with db.reader() as session:
        states = {
            c.id: (c.assignee_id, c.status)
            for c in session.query(CareConversation).filter(CareConversation.id.in_(ids))
        }
    assert {assignee for assignee, _status in states.values()} == {ari.actor.user_id}
    assert sorted(status for _assignee, status in states.values()) == ["resolved"] * 4 + ["snoozed"]
    assert states[str(snoozed_id)][1] == "snoozed"
    assert watch.problems == []
    context.close()
