"""Crisis pages through the test client: room with chart and alerts, opening an incident
from an alert, ticking a step (htmx), crisis-mode banner on every page, review link, API."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from groundswell.crisis import jobs
from groundswell.crisis.tables import CrisisAlert, Incident, IncidentStep
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import bearer, csrf_from, login, make_org, make_token, make_user
from tests.crisis.spike import quiet_then_spike


def test_crisis_room_alert_to_incident_to_review(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    quiet_then_spike(db, owner.actor.organization_id, clock.now())
    jobs.detect(db, clock)
    login(client, owner)

    room = client.get("/crisis")
    assert room.status_code == 200
    chart = json.loads(re.search(r"data-chart='([^']*)'", room.text).group(1).replace("&#34;", '"'))  # type: ignore[union-attr]
    assert len(chart["x"]) == 24 * 12
    assert max(chart["series"][0]["values"]) >= 40
    assert chart["markers"]
    assert len(chart["band"]["upper"]) == len(chart["x"])
    assert "Open incident from this alert" in room.text
    assert client.get("/crisis/live", headers={"HX-Request": "true"}).status_code == 200

    with db.reader() as session:
        alert = session.scalars(
            select(CrisisAlert).where(CrisisAlert.metric == "volume", CrisisAlert.topic == "")
        ).one()
    token = csrf_from(room.text)
    opened = client.post(
        "/crisis/incidents",
        data={
            "csrf_token": token,
            "title": "Battery spike",
            "kind": "safety",
            "severity": "sev2",
            "alert_id": alert.id,
        },
        follow_redirects=False,
    )
    assert opened.status_code == 303
    page = client.get(opened.headers["location"])
    assert "Battery spike" in page.text
    assert "Checklist" in page.text
    with db.reader() as session:
        incident = session.scalars(select(Incident)).one()
        step = session.scalars(
            select(IncidentStep)
            .where(IncidentStep.incident_id == incident.id)
            .order_by(IncidentStep.position)
        ).first()
    assert step is not None
    ticked = client.post(
        f"/crisis/incidents/{incident.id}/steps/{step.id}",
        data={"done": "1"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert ticked.status_code == 200
    assert "1 of" in ticked.text
    assert "checked" in ticked.text
    # The crisis room works on it: roles, checklist, latest timeline, statement drafts.
    room = client.get("/crisis")
    assert "Working on:" in room.text
    steps = ticked.text.count('type="checkbox"')
    assert f"1 of {steps} done" in room.text
    assert "Latest on the timeline" in room.text
    # Without the CSRF token, refused.
    assert (
        client.post(
            f"/crisis/incidents/{incident.id}/steps/{step.id}", data={"done": ""}
        ).status_code
        == 403
    )

    clock.advance(timedelta(hours=1))
    closed = client.post(
        f"/crisis/incidents/{incident.id}/close",
        data={"csrf_token": token, "summary": "Firmware bug"},
        follow_redirects=False,
    )
    assert closed.headers["location"] == f"/crisis/incidents/{incident.id}/review"
    shared = client.post(
        f"/crisis/incidents/{incident.id}/review/share", data={"csrf_token": token}
    )
    link = re.search(r'value="(http[^"]+/crisis/reviews/[^"]+)"', shared.text).group(1)  # type: ignore[union-attr]
    client.cookies.clear()
    public = client.get(link.split("testserver")[-1].replace("http://127.0.0.1:8000", ""))
    assert public.status_code == 200
    assert "Firmware bug" in public.text
    assert client.get("/crisis/reviews/not-a-token").status_code == 404


def test_crisis_mode_switch_banner_and_api(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    viewer = make_user(db, owner, Role.VIEWER)
    login(client, owner)
    room = client.get("/crisis")
    assert "Crisis mode is on" not in room.text
    switched = client.post(
        "/crisis/mode",
        data={"csrf_token": csrf_from(room.text), "on": "1", "reason": "Recall trending"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    for path in ("/", "/crisis", "/crisis/incidents", "/governance"):
        assert (
            "Crisis mode is on: every public reply and post needs approval. Recall trending"
            in client.get(path).text
        )

    secret = make_token(db, viewer)
    assert client.get("/api/v1/crisis/mode", headers=bearer(secret)).json()["on"] is True
    assert (
        client.put("/api/v1/crisis/mode", json={"on": False}, headers=bearer(secret)).status_code
        == 403
    )
    owner_secret = make_token(db, owner)
    made = client.post(
        "/api/v1/crisis/incidents",
        json={"title": "By API", "kind": "legal", "severity": "sev1"},
        headers=bearer(owner_secret),
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["roles"]["incident_commander"] == owner.actor.user_id
    assert body["steps"]
    step = body["steps"][0]["id"]
    ticked = client.post(
        f"/api/v1/crisis/incidents/{body['id']}/steps/{step}",
        json={"done": True},
        headers=bearer(owner_secret),
    ).json()
    assert ticked["steps"][0]["done_by"] == owner.actor.user_id
    listed = client.get("/api/v1/crisis/incidents?status=active", headers=bearer(secret)).json()
    assert [i["title"] for i in listed["items"]] == ["By API"]
    assert (
        client.put("/api/v1/crisis/mode", json={"on": False}, headers=bearer(owner_secret)).json()[
            "on"
        ]
        is False
    )
    assert "Crisis mode is on" not in client.get("/crisis").text
