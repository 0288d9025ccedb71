"""The care metrics page and its CSV export."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta

from fastapi.testclient import TestClient

from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import Person, login, make_org, make_user
from tests.care.page_data import make_conversation, make_team


def _seed(db: Database, clock: FrozenClock) -> Person:
    owner = make_org(db, "Acme")
    ari = make_user(db, owner, Role.AGENT)
    team = make_team(db, owner, "Care EN", clock.now())
    # Answered after 10 and 30 minutes, one resolved after 2 h, one unanswered and overdue.
    make_conversation(
        db,
        owner,
        now=clock.now(),
        age=timedelta(hours=5),
        due_in=timedelta(hours=-4),
        first_responded_after=timedelta(minutes=10),
        resolved_after=timedelta(hours=2),
        status="resolved",
        assignee_id=ari.actor.user_id,
        team_id=team,
    )
    make_conversation(
        db,
        owner,
        now=clock.now(),
        age=timedelta(hours=3),
        due_in=timedelta(hours=-2),
        first_responded_after=timedelta(minutes=30),
        status="open",
        assignee_id=ari.actor.user_id,
        team_id=team,
        source="bluesky",
        handle="@b",
    )
    make_conversation(
        db,
        owner,
        now=clock.now(),
        age=timedelta(hours=2),
        due_in=timedelta(hours=-1),
        handle="@c",
    )
    return owner


def test_metrics_page_shows_figures_charts_and_groups(
    client: TestClient, db: Database, clock: FrozenClock
) -> None:
    owner = _seed(db, clock)
    login(client, owner)

    page = client.get("/care/metrics?range=7d")

    assert page.status_code == 200
    text = page.text
    assert "Response metrics" in text
    assert "20 min" in text  # median first response of 10 and 30 minutes
    assert "2 h 00 min" in text  # resolution
    assert "Care EN" in text
    assert "Unassigned" in text
    assert "bluesky" in text
    charts = [
        json.loads(m.replace("&#34;", '"')) for m in re.findall(r"data-chart='([^']+)'", text)
    ]
    assert len(charts) == 2
    assert sum(charts[0]["series"][0]["values"]) == 3  # created
    assert '<script src="/static/charts.js" defer></script>' in text


def test_metrics_csv_export(client: TestClient, db: Database, clock: FrozenClock) -> None:
    owner = _seed(db, clock)
    login(client, owner)

    response = client.get("/care/metrics.csv?range=24h")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    overall = rows[0]
    assert (overall["dimension"], overall["conversations"]) == ("all", "3")
    assert overall["first_response_median_s"] == "1200"
    # met: first response ×2; missed: the unanswered one after its due instant.
    assert (overall["sla_met"], overall["sla_missed"]) == ("2", "1")
    assert {r["group"] for r in rows if r["dimension"] == "source"} == {"mastodon", "bluesky"}


def test_metrics_empty_state_and_bad_range(client: TestClient, db: Database) -> None:
    owner = make_org(db)
    login(client, owner)

    empty = client.get("/care/metrics")
    bad = client.get("/care/metrics?range=forever")

    assert "No conversations in this period" in empty.text
    assert bad.status_code == 422


def test_metrics_need_sign_in(client: TestClient) -> None:
    response = client.get("/care/metrics", follow_redirects=False)

    assert response.status_code in (303, 401)
