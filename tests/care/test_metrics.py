"""Care metrics: the pure arithmetic, table-tested with hand-computed figures."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from groundswell.care.metrics import (
    ConversationFacts,
    bucket_size,
    chart_series,
    group_by,
    human_duration,
    over_time,
    percentile,
    sla_outcomes,
    summarize,
    to_csv,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def fact(
    n: int,
    *,
    first: float | None = None,
    resolved: float | None = None,
    first_due: float | None = None,
    resolution_due: float | None = None,
    agent: str | None = None,
    team: str | None = None,
    source: str = "mastodon",
    created: float = 0,
) -> ConversationFacts:
    """Offsets are minutes after T0 (created) or after creation (the others)."""
    c = T0 + timedelta(minutes=created)

    def after(minutes: float | None) -> datetime | None:
        return None if minutes is None else c + timedelta(minutes=minutes)

    return ConversationFacts(
        id=str(n),
        source=source,
        status="resolved" if resolved is not None else "open",
        created_at=c,
        first_responded_at=after(first),
        resolved_at=after(resolved),
        first_response_due_at=after(first_due),
        resolution_due_at=after(resolution_due),
        agent=agent,
        team=team,
    )


@pytest.mark.parametrize(
    ("values", "p", "expected"),
    [
        ([], 90, None),
        ([5], 90, 5),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90, 9),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90, 10),
        ([10, 1, 7], 50, 7),
        ([3, 1, 2], 100, 3),
    ],
)
def test_nearest_rank_percentile(values: list[float], p: float, expected: float | None) -> None:
    assert percentile(values, p) == expected


def test_percentile_refuses_out_of_range() -> None:
    with pytest.raises(ValueError, match="p must be"):
        percentile([1.0], 0)


@given(st.lists(st.floats(min_value=0, max_value=1e7, allow_nan=False), min_size=1))
def test_p90_is_a_value_at_or_above_the_median(values: list[float]) -> None:
    p90 = percentile(values, 90)
    assert p90 in values
    assert p90 is not None
    assert p90 >= sorted(values)[(len(values) - 1) // 2]


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, (0, 0)),  # no targets
        ({"first": 10, "first_due": 30}, (1, 0)),  # answered in time
        ({"first": 30, "first_due": 30}, (1, 0)),  # exactly at the due instant still counts
        ({"first": 31, "first_due": 30}, (0, 1)),  # answered late
        ({"first_due": 30}, (0, 1)),  # still unanswered after the due instant (now = +1 day)
        ({"first_due": 60 * 48}, (0, 0)),  # still running: left out
        ({"first": 5, "first_due": 30, "resolved": 100, "resolution_due": 90}, (1, 1)),
    ],
)
def test_sla_outcomes(kwargs: dict[str, Any], expected: tuple[int, int]) -> None:
    assert sla_outcomes(fact(1, **kwargs), NOW) == expected


def test_summary_of_a_small_team() -> None:
    facts = [
        fact(1, first=10, resolved=60, first_due=30, resolution_due=240),
        fact(2, first=20, resolved=120, first_due=30, resolution_due=240),
        fact(3, first=40, first_due=30),
        fact(4),  # new, unanswered, no SLA
    ]

    s = summarize("all", facts, NOW)

    assert s.conversations == 4
    assert s.first_response_median == 20 * 60
    assert s.first_response_p90 == 40 * 60
    assert s.resolution_median == 90 * 60
    assert s.resolution_p90 == 120 * 60
    assert (s.sla_met, s.sla_missed) == (4, 1)
    assert s.sla_attainment == pytest.approx(0.8)
    assert s.backlog == 2


def test_summary_of_nothing_has_no_figures() -> None:
    s = summarize("none", [], NOW)

    assert (s.conversations, s.first_response_median, s.sla_attainment, s.backlog) == (
        0,
        None,
        None,
        0,
    )


def test_group_by_agent_team_and_source() -> None:
    facts = [
        fact(1, first=10, agent="Ari", team="Care", source="mastodon"),
        fact(2, first=30, agent="Ari", team="Care", source="bluesky"),
        fact(3, first=50, agent="Bea", team="Care", source="mastodon"),
        fact(4),
    ]

    by_agent = group_by("agent", facts, NOW)
    by_team = group_by("team", facts, NOW)
    by_source = group_by("source", facts, NOW)

    assert [(s.label, s.conversations, s.first_response_median) for s in by_agent] == [
        ("Ari", 2, 20 * 60),
        ("Bea", 1, 50 * 60),
        ("Unassigned", 1, None),
    ]
    assert [(s.label, s.conversations) for s in by_team] == [("Care", 3), ("No team", 1)]
    assert [(s.label, s.conversations) for s in by_source] == [("mastodon", 3), ("bluesky", 1)]


def test_over_time_counts_created_resolved_and_backlog_per_bucket() -> None:
    facts = [
        fact(1, created=0, first=10, resolved=90),  # 09:00, resolved 10:30
        fact(2, created=30, first=20),  # 09:30, open
        fact(3, created=70),  # 10:10, open
    ]
    end = T0 + timedelta(hours=3)

    buckets = over_time(facts, start=T0, end=end, now=end, step=timedelta(hours=1))

    assert [b.start.hour for b in buckets] == [9, 10, 11]
    assert [b.created for b in buckets] == [2, 1, 0]
    assert [b.resolved for b in buckets] == [0, 1, 0]
    assert [b.backlog_at_end for b in buckets] == [2, 2, 2]
    assert buckets[0].first_response_median == 15 * 60
    assert buckets[2].first_response_median is None


def test_over_time_backlog_stops_at_now() -> None:
    facts = [fact(1, created=0)]
    end = T0 + timedelta(hours=3)

    buckets = over_time(facts, start=T0, end=end, now=T0 + timedelta(minutes=30))

    assert [b.backlog_at_end for b in buckets] == [1, 0, 0]


@pytest.mark.parametrize(
    ("span", "step"),
    [
        (timedelta(hours=24), timedelta(hours=1)),
        (timedelta(days=30), timedelta(days=1)),
        (timedelta(days=365), timedelta(weeks=1)),
    ],
)
def test_bucket_size(span: timedelta, step: timedelta) -> None:
    assert bucket_size(T0, T0 + span) == step


def test_chart_series_follow_the_charts_contract() -> None:
    end = T0 + timedelta(hours=2)
    buckets = over_time([fact(1, first=30)], start=T0, end=end, now=end)

    charts = chart_series(buckets)

    assert charts["volume"]["x"] == [int(T0.timestamp()), int(T0.timestamp()) + 3600]
    series = charts["first_response"]["series"]
    assert isinstance(series, list)
    assert series[0]["values"] == [30.0, None]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "—"),
        (45, "45 s"),
        (720, "12 min"),
        (3900, "1 h 05 min"),
        (86400 * 3 + 3600 * 4, "3 d 4 h"),
    ],
)
def test_human_duration(seconds: float | None, text: str) -> None:
    assert human_duration(seconds) == text


def test_csv_export_has_one_row_per_group_and_defuses_formulas() -> None:
    facts = [fact(1, first=10, agent="=HYPERLINK(evil)"), fact(2, agent="Bea")]
    rows = [("agent", s) for s in group_by("agent", facts, NOW)]

    parsed = list(csv.DictReader(io.StringIO(to_csv(rows))))

    assert [r["group"] for r in parsed] == ["'=HYPERLINK(evil)", "Bea"]
    assert parsed[0]["first_response_median_s"] == "600"
    assert parsed[1]["first_response_median_s"] == ""
    assert parsed[0]["dimension"] == "agent"


def test_since_limits_times_but_backlog_counts_older_open_conversations() -> None:
    old_open = fact(1, created=-600)
    new = fact(2, created=10, first=5)

    s = summarize("all", [old_open, new], NOW, since=T0)

    assert s.conversations == 1
    assert s.first_response_median == 5 * 60
    assert s.backlog == 2
