"""The care metrics page (`/care/metrics`) and its CSV export: first response and resolution
times, SLA attainment, backlog, by agent, team and source and over time, and CSAT results.
The arithmetic lives in `care.metrics`; this module only reads and renders."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from groundswell.care import csat, metrics
from groundswell.identity.deps import ClockDep, DbDep, PageActor
from groundswell.kernel.errors import InvalidInput
from groundswell.web import render

router = APIRouter(include_in_schema=False)

RANGES = {
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
    "90d": timedelta(days=90),
}
RANGE_LABELS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "90d": "Last 90 days",
}
DEFAULT_RANGE = "7d"


@dataclass(frozen=True)
class Period:
    key: str
    start: datetime
    end: datetime


def _period(range_key: str | None, now: datetime) -> Period:
    key = range_key or DEFAULT_RANGE
    if key not in RANGES:
        raise InvalidInput(f"Choose a range among {', '.join(RANGES)}.")
    return Period(key, now - RANGES[key], now)


@router.get("/care/metrics")
def metrics_page(
    request: Request,
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    range: str | None = None,  # the query parameter's public name
) -> Response:
    now = clock.now()
    period = _period(range, now)
    # Render after the session is closed (rendering opens its own for the unread count).
    with db.reader() as session:
        facts = metrics.load_facts(
            session, actor.organization_id, start=period.start, end=period.end
        )
        ratings = csat.results(session, actor, start=period.start, end=period.end)
    buckets = metrics.over_time(facts, start=period.start, end=period.end, now=now)
    charts = metrics.chart_series(buckets)
    return render(
        request,
        "care/metrics.html",
        {
            "period": period,
            "ranges": RANGE_LABELS,
            "overall": metrics.summarize("All", facts, now, since=period.start),
            "groups": {
                "agent": metrics.group_by("agent", facts, now, since=period.start),
                "team": metrics.group_by("team", facts, now, since=period.start),
                "source": metrics.group_by("source", facts, now, since=period.start),
            },
            "charts": {name: json.dumps(doc) for name, doc in charts.items()},
            "has_series": any(b.created or b.resolved or b.backlog_at_end for b in buckets),
            "csat": ratings,
            "duration": metrics.human_duration,
            "rating_labels": csat.RATING_LABELS,
        },
    )


@router.get("/care/metrics.csv")
def metrics_csv(
    actor: PageActor,
    db: DbDep,
    clock: ClockDep,
    range: str | None = None,  # the query parameter's public name
) -> Response:
    now = clock.now()
    period = _period(range, now)
    with db.reader() as session:
        facts = metrics.load_facts(
            session, actor.organization_id, start=period.start, end=period.end
        )
    rows: list[tuple[str, metrics.Summary]] = [
        ("all", metrics.summarize("All", facts, now, since=period.start))
    ]
    for dimension in ("agent", "team", "source"):
        rows += [
            (dimension, s) for s in metrics.group_by(dimension, facts, now, since=period.start)
        ]
    name = f"care-metrics-{period.key}-{now:%Y%m%d-%H%M}.csv"
    return Response(
        metrics.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
