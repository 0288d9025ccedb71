"""In a real browser: the policy editor's live check preview answers as you type (htmx, no
inline script, nothing blocked by the CSP), a bad save keeps the draft, a good one shows up in
the history; the training quiz fails, says why, then passes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from groundswell.governance import training
from groundswell.governance.policy import dump_policy, starter_policy
from groundswell.kernel.db import Database
from tests.browser import DESKTOP, open_page, shot, sign_in, wait_at
from tests.builders import make_org

pytestmark = pytest.mark.browser


def test_live_preview_editor_and_history(browser: Any, base_url: str, db: Database) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Policy")
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/governance/policy")
    wait_at(page, "/governance/policy")
    expect(page.get_by_role("heading", level=1)).to_have_text("Social media policy")

    sample = page.get_by_label("Sample post or reply")
    sample.press_sequentially("Our zorblax ships Friday, guaranteed!")
    result = page.locator("#preview-result")
    expect(result.locator("mark.finding.warn")).to_have_text("guaranteed")
    expect(result).to_contain_text("checked against your draft")
    shot(page, "governance-policy-preview")

    # Add a code name to the draft: the preview now blocks it, before anything is saved.
    data = json.loads(dump_policy(starter_policy()))
    data["rules"].append(
        {
            "id": "confidentiality.codename",
            "kind": "terms",
            "guideline": "confidentiality",
            "severity": "block",
            "message": "“{match}” is a code name.",
            "terms": ["zorblax"],
        }
    )
    editor = page.locator("#policy-document")
    editor.fill(json.dumps(data, indent=2))
    editor.press("End")  # a keyup: the draft is validated as you type
    expect(page.locator("#validation")).to_contain_text(f"Valid: {len(data['rules'])} rules")
    sample.press("End")
    sample.press_sequentially(" ")
    expect(result.locator("mark.finding.block")).to_have_text("zorblax")
    expect(result).to_contain_text("Blocked")

    # A bad save: the error says where, and the draft and note are still there.
    data["rules"][-1]["severity"] = "fatal"
    editor.fill(json.dumps(data, indent=2))
    page.get_by_label("Note: what changed and why (shown in the history)").fill("Add Zorblax")
    page.get_by_role("button", name="Save new version").click()
    expect(page.locator("#save-error")).to_contain_text("severity")
    expect(page.locator("#policy-document")).to_have_value(json.dumps(data, indent=2))
    expect(page.get_by_label("Note: what changed and why (shown in the history)")).to_have_value(
        "Add Zorblax"
    )

    data["rules"][-1]["severity"] = "block"
    page.locator("#policy-document").fill(json.dumps(data, indent=2))
    page.get_by_role("button", name="Save new version").click()
    wait_at(page, "/governance/policy?saved=1.1")
    expect(page.get_by_role("status").first).to_contain_text("Saved version 1.1")
    history = page.get_by_role("table")
    expect(history).to_contain_text("Add Zorblax")
    expect(history).to_contain_text(owner.email)
    page.get_by_role("link", name="diff from starter").click()
    expect(page.locator(".policy-diff")).to_contain_text("confidentiality.codename")
    shot(page, "governance-policy-diff")
    # 422 on the bad save is expected; nothing else may have gone wrong
    assert [p for p in watch.problems if "422" not in p] == []
    context.close()


def test_training_quiz_fails_then_passes(browser: Any, base_url: str, db: Database) -> None:
    from playwright.sync_api import expect

    owner = make_org(db, "Quiz")
    context, page, watch = open_page(browser, base_url, DESKTOP)
    sign_in(page, owner, start="/governance/training")
    wait_at(page, "/governance/training")
    quiz = training.quiz()
    for i, q in enumerate(quiz.questions):
        pick = q.answer if i >= 3 else (q.answer + 1) % len(q.choices)
        page.locator(f'input[name="q.{q.id}"][value="{pick}"]').check()
    page.get_by_role("button", name="Submit answers").click()
    expect(page.locator("#quiz-result")).to_contain_text(f"{len(quiz.questions) - 3} of")
    expect(page.locator(".question.wrong")).to_have_count(3)
    shot(page, "governance-training-failed")
    for q in quiz.questions[:3]:
        page.locator(f'input[name="q.{q.id}"][value="{q.answer}"]').check()
    page.get_by_role("button", name="Submit answers").click()
    wait_at(page, "/governance/training?passed=1")
    expect(page.get_by_role("status").first).to_contain_text("You passed")
    assert watch.problems == []
    context.close()
