"""The policy editor, its htmx endpoints (validation, live check preview), the history and
diff pages, the guidelines training page, and the JSON API of both."""

from __future__ import annotations

import json
import re

from fastapi.testclient import TestClient
from markupsafe import Markup
from sqlalchemy import select

from groundswell.governance import training
from groundswell.governance.policy import dump_policy, starter_policy
from groundswell.governance.policy_tables import PolicyVersion
from groundswell.identity.domain import Role, Scope
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import bearer, csrf_from, login, make_org, make_token, make_user

HTMX = {"HX-Request": "true"}


def draft_with(term: str) -> str:
    data = json.loads(dump_policy(starter_policy()))
    data["rules"].append(
        {
            "id": "confidentiality.codename",
            "kind": "terms",
            "guideline": "confidentiality",
            "severity": "block",
            "message": "“{match}” is a code name.",
            "terms": [term],
        }
    )
    return json.dumps(data, indent=2)


def test_editor_shows_the_starter_policy_and_saves_a_version(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)
    login(client, owner)
    page = client.get("/governance/policy")
    assert page.status_code == 200
    assert "starter policy" in page.text
    assert 'hx-trigger="keyup changed delay:300ms"' in page.text
    assert "No saved versions yet" in page.text
    token = csrf_from(page.text)
    saved = client.post(
        "/governance/policy",
        data={
            "csrf_token": token,
            "document": draft_with("zorblax"),
            "change": "minor",
            "note": "Add the Zorblax code name",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/governance/policy?saved=1.1"
    after = client.get("/governance/policy?saved=1.1")
    assert "Saved version 1.1" in after.text
    assert "Add the Zorblax code name" in after.text
    assert owner.email in after.text
    assert "diff from starter" in after.text


def test_a_bad_save_keeps_the_draft_and_says_what_is_wrong(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)
    login(client, owner)
    token = csrf_from(client.get("/governance/policy").text)
    data = json.loads(draft_with("zorblax"))
    data["rules"][-1]["severity"] = "fatal"
    broken = json.dumps(data, indent=2)
    answer = client.post(
        "/governance/policy",
        data={"csrf_token": token, "document": broken, "change": "major", "note": "oops"},
    )
    assert answer.status_code == 422
    assert "Not saved." in answer.text
    assert re.search(r"rules\.\d+\.terms\.severity|rules\.\d+\.\w+\.severity", answer.text)
    # nothing lost: the broken draft, the note and the major choice are all still there
    assert "&#34;fatal&#34;" in answer.text or "&quot;fatal&quot;" in answer.text
    assert 'value="oops"' in answer.text
    assert 'value="major" checked' in answer.text
    with db.reader() as session:
        assert session.scalars(select(PolicyVersion)).all() == []
    not_json = client.post(
        "/governance/policy",
        data={"csrf_token": token, "document": "{oops", "change": "minor", "note": "x"},
    )
    assert not_json.status_code == 422
    assert "not valid JSON" in not_json.text


def test_saving_needs_csrf_and_the_right_role(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    login(client, agent)
    page = client.get("/governance/policy")
    assert page.status_code == 200
    assert "Save new version" not in page.text  # read-only for them, with the reason
    assert "edited by owners and admins" in page.text
    refused = client.post(
        "/governance/policy",
        data={
            "csrf_token": csrf_from(page.text),
            "document": draft_with("zorblax"),
            "note": "mine",
        },
    )
    assert refused.status_code == 403
    no_csrf = client.post("/governance/policy", data={"document": "{}", "note": "x"})
    assert no_csrf.status_code == 403


def test_live_preview_highlights_findings_against_the_draft(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)
    login(client, owner)
    token = csrf_from(client.get("/governance/policy").text)
    headers = HTMX | {"X-CSRF-Token": token}
    current = client.post(
        "/governance/policy/preview",
        data={"sample": "The zorblax launches, guaranteed!"},
        headers=headers,
    )
    assert current.status_code == 200
    assert "checked against the current policy" in current.text
    assert '<mark class="finding warn"' in current.text  # "guaranteed" needs legal review
    assert "zorblax</mark>" not in current.text
    draft = client.post(
        "/governance/policy/preview",
        data={"sample": "The zorblax launches, guaranteed!", "document": draft_with("zorblax")},
        headers=headers,
    )
    assert "checked against your draft" in draft.text
    assert "<strong>Blocked</strong>" in draft.text
    assert re.search(
        r'<mark class="finding block" title="[^"]*code name[^"]*">zorblax</mark>', draft.text
    )
    assert "[4, 11)" in draft.text
    broken = client.post(
        "/governance/policy/preview",
        data={"sample": "hello", "document": "{broken"},
        headers=headers,
    )
    assert "Your draft is not valid" in broken.text
    assert "No findings" in broken.text
    advocacy = client.post(
        "/governance/policy/preview",
        data={"sample": "Love our new app", "advocacy": "true", "network": "x"},
        headers=headers,
    )
    assert '<mark class="finding block missing"' in advocacy.text
    escaped = client.post(
        "/governance/policy/preview", data={"sample": "<script>x</script>"}, headers=headers
    )
    assert "<script>x" not in escaped.text
    assert client.post("/governance/policy/preview", data={"sample": "x"}).status_code == 403


def test_validate_endpoint(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    login(client, owner)
    token = csrf_from(client.get("/governance/policy").text)
    headers = HTMX | {"X-CSRF-Token": token}
    ok = client.post(
        "/governance/policy/validate", data={"document": draft_with("x1")}, headers=headers
    )
    rules = len(starter_policy().rules) + 1
    assert f"Valid: {rules} rules" in ok.text
    bad = client.post(
        "/governance/policy/validate", data={"document": 'name = "x"'}, headers=headers
    )
    assert "flash error" in bad.text
    assert "version" in bad.text


def test_history_version_and_diff_pages(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    login(client, owner)
    for term, change in (("zorblax", "minor"), ("quuxly", "major")):
        token = csrf_from(client.get("/governance/policy").text)
        response = client.post(
            "/governance/policy",
            data={
                "csrf_token": token,
                "document": draft_with(term),
                "change": change,
                "note": f"code name {term}",
            },
            follow_redirects=False,
        )
        assert response.status_code == 303
    version = client.get("/governance/policy/versions/2.0")
    assert version.status_code == 200
    assert "code name quuxly" in version.text
    assert "What changed from 1.1" in version.text
    diff = client.get("/governance/policy/diff?old=1.1&new=2.0")
    assert diff.status_code == 200
    assert "1.1 → 2.0: 1 change" in diff.text
    assert "added quuxly" in diff.text
    assert "removed zorblax" in diff.text
    assert client.get("/governance/policy/diff?old=1.1&new=7.7").status_code == 404
    assert client.get("/governance/policy/versions/7.7").status_code == 404
    loaded = client.get("/governance/policy?from=1.1")
    assert "Loaded version 1.1 into the editor" in loaded.text
    assert "zorblax" in loaded.text


def test_training_page_fail_then_pass(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    login(client, agent)
    page = client.get("/governance/training")
    assert page.status_code == 200
    assert "Intellectual property" in page.text
    assert "Disclosure" in page.text
    assert "not trained for version 1.x" in page.text
    quiz = training.quiz()
    first = quiz.questions[0]
    answers = {f"q.{q.id}": str(q.answer) for q in quiz.questions}
    answers[f"q.{first.id}"] = str((first.answer + 1) % len(first.choices))
    answers.pop(f"q.{quiz.questions[1].id}")
    answers[f"q.{quiz.questions[2].id}"] = str((quiz.questions[2].answer + 1) % 3)
    failed = client.post(
        "/governance/training", data={"csrf_token": csrf_from(page.text), **answers}
    )
    assert failed.status_code == 200
    assert f"Not passed: {len(quiz.questions) - 3} of {len(quiz.questions)} right" in failed.text
    assert f'class="question wrong" id="question-{first.id}"' in failed.text
    assert "(not answered)" in failed.text
    assert str(Markup.escape(first.explanation)) in failed.text
    passed = client.post(
        "/governance/training",
        data={
            "csrf_token": csrf_from(failed.text),
            **{f"q.{q.id}": str(q.answer) for q in quiz.questions},
        },
        follow_redirects=False,
    )
    assert passed.status_code == 303
    done = client.get(passed.headers["location"])
    assert "You passed" in done.text
    assert "trained for version 1.x" in done.text


def test_a_new_major_version_shows_a_banner_and_a_notification(
    client: TestClient, db: Database
) -> None:
    owner = make_org(db)
    login(client, owner)
    quiz = training.quiz()
    page = client.get("/governance/training")
    client.post(
        "/governance/training",
        data={
            "csrf_token": csrf_from(page.text),
            **{f"q.{q.id}": str(q.answer) for q in quiz.questions},
        },
    )
    token = csrf_from(client.get("/governance/policy").text)
    client.post(
        "/governance/policy",
        data={
            "csrf_token": token,
            "document": draft_with("zorblax"),
            "change": "major",
            "note": "big",
        },
    )
    again = client.get("/governance/training")
    assert "The policy has a new major version (2.0)" in again.text
    assert "You had attested to version 1.x" in again.text
    notes = client.get("/notifications")
    assert "Policy 2.0: please read the guidelines" in notes.text


def test_api_versions_diff_check_and_quiz(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    agent = make_user(db, owner, Role.AGENT)
    owner_auth = bearer(make_token(db, owner))
    agent_auth = bearer(make_token(db, agent))
    current = client.get("/api/v1/governance/policy", headers=agent_auth).json()
    assert current["version"] == "1.0"
    assert current["stored"] is False
    created = client.post(
        "/api/v1/governance/policy/versions",
        json={"policy": json.loads(draft_with("zorblax")), "note": "code name"},
        headers=owner_auth,
    )
    assert created.status_code == 201, created.text
    assert created.json()["info"]["version"] == "1.1"
    assert created.json()["info"]["author"] == owner.email
    refused = client.post(
        "/api/v1/governance/policy/versions",
        json={"policy": draft_with("quux"), "note": "mine"},
        headers=agent_auth,
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    invalid = client.post(
        "/api/v1/governance/policy/versions",
        json={"policy": "{nope", "note": "x"},
        headers=owner_auth,
    )
    assert invalid.status_code == 422
    listing = client.get("/api/v1/governance/policy/versions", headers=agent_auth).json()
    assert [v["version"] for v in listing["items"]] == ["1.1"]
    diff = client.get(
        "/api/v1/governance/policy/diff",
        params={"old": "starter", "new": "1.1"},
        headers=agent_auth,
    ).json()
    assert diff["changes"] == [
        {"kind": "rule", "op": "added", "id": "confidentiality.codename", "fields": []}
    ]
    check = client.post(
        "/api/v1/governance/policy/check", json={"text": "zorblax!"}, headers=agent_auth
    ).json()
    assert check["blocked"] is True
    assert check["version"] == "1.1"
    assert check["findings"][0] | {"message": ""} == {
        "rule": "confidentiality.codename",
        "severity": "block",
        "start": 0,
        "end": 7,
        "message": "",
    }
    quiz = client.get("/api/v1/governance/training/quiz", headers=agent_auth).json()
    assert "answer" not in quiz["questions"][0]
    answers = {q.id: q.answer for q in training.quiz().questions}
    result = client.post(
        "/api/v1/governance/training/quiz", json={"answers": answers}, headers=agent_auth
    ).json()
    assert result["passed"] is True
    assert result["trained"] is True
    status = client.get("/api/v1/governance/training", headers=agent_auth).json()
    assert status["trained"] is True
    assert status["version"] == "1.1"
    read_only = bearer(make_token(db, agent, [Scope.READ]))
    assert (
        client.post(
            "/api/v1/governance/training/quiz", json={"answers": answers}, headers=read_only
        ).status_code
        == 403
    )
