"""The governance acceptance test in a real browser: an owner switches the coordination model
to Command & Control, a contributor's reply in the care composer waits for approval, a
manager approves it on the approvals page, and the reply is queued to be sent.
Screenshots land in test-artifacts/browser/approval-*.png."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from groundswell.care.tables import CareMessage
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, open_page, shot, sign_in, wait_at
from tests.builders import make_org
from tests.care.page_data import add_reply_source, make_conversation
from tests.governance.gov_helpers import trained_user

pytestmark = pytest.mark.browser

REPLY = "Hi Ana, we rebooked you on the 18:05 to Lisbon. Sorry for the wait."


def test_command_and_control_reply_waits_for_a_managers_approval(
    browser: Any, base_url: str, db: Database, clock: FrozenClock
) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Acme")
    manager = trained_user(db, owner, Role.MANAGER, clock.now())
    contributor = trained_user(db, owner, Role.CONTRIBUTOR, clock.now())
    add_reply_source(db, owner, clock.now())
    cid = make_conversation(db, owner, now=clock.now(), handle="@ana")

    # 1. The owner switches the model to Command & Control.
    owner_ctx, owner_page, owner_watch = open_page(browser, base_url, DESKTOP)
    sign_in(owner_page, owner)
    owner_page.goto("/governance/model")
    owner_page.locator("#model-command_and_control").check()
    owner_page.get_by_role("button", name="Save").click()
    expect(owner_page.locator("#current-model")).to_contain_text("Command")
    shot(owner_page, "approval-01-model-switched")

    # 2. A contributor answers in the care composer: the live check says it needs approval,
    #    and once sent the reply waits for approval.
    writer_ctx, writer_page, writer_watch = open_page(browser, base_url, DESKTOP)
    sign_in(writer_page, contributor)
    writer_page.goto(f"/care/conversations/{cid}")
    writer_page.get_by_label("Your reply").fill(REPLY)
    writer_page.get_by_label("Your reply").press("End")  # a keyup for the live check
    expect(writer_page.locator("#policy-check")).to_contain_text("Needs approval")
    writer_page.get_by_role("button", name="Send reply").click()
    expect(writer_page.locator("#thread")).to_contain_text("Waiting for approval")
    expect(writer_page.get_by_text("Your reply waits for approval")).to_be_visible()
    shot(writer_page, "approval-02-waiting")
    with db.reader() as session:
        waiting = session.scalars(
            select(CareMessage).where(CareMessage.direction == "outbound")
        ).one()
    assert waiting.delivery_status == "awaiting_approval"
    assert waiting.approval_request_id is not None

    # 3. A manager approves it on the approvals page.
    manager_ctx, manager_page, manager_watch = open_page(browser, base_url, DESKTOP)
    sign_in(manager_page, manager)
    manager_page.goto("/governance/approvals")
    card = manager_page.locator(f"#approval-{waiting.approval_request_id}")
    expect(card).to_contain_text("Hi Ana")
    card.get_by_role("button", name="Approve").click()
    expect(manager_page.locator(f"#approval-{waiting.approval_request_id}")).to_contain_text(
        "pproved"
    )
    shot(manager_page, "approval-03-approved")

    # 4. The reply is queued to be sent; the contributor's thread updates by itself.
    expect(writer_page.locator("#thread")).not_to_contain_text("Waiting for approval")
    expect(writer_page.locator(f"#msg-{waiting.id}")).to_contain_text("Sending…")
    shot(writer_page, "approval-04-queued")
    with db.reader() as session:
        approved = session.get(CareMessage, waiting.id)
        assert approved is not None
        assert approved.delivery_status in ("queued", "sending", "sent")

    # The contributor never saw an approve button for their own reply.
    writer_page.goto("/governance/approvals")
    wait_at(writer_page, "/governance/approvals")
    expect(writer_page.get_by_role("button", name="Approve")).to_have_count(0)

    for watch in (owner_watch, writer_watch, manager_watch):
        assert watch.problems == []
    for context in (owner_ctx, writer_ctx, manager_ctx):
        context.close()
