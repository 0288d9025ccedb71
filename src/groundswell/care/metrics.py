"""Care's response metrics: first response time (median, p90), resolution time, SLA
attainment, backlog, by agent, team and source and over time, and their CSV export.

The arithmetic is pure (`summarize`, `group_by`, `over_time`, `percentile`) and works on
`ConversationFacts`, one row per conversation; `load_facts` reads those rows for an
organization. Definitions (docs/care-metrics.md repeats them for users):

- *first response time*: first_responded_at - created_at, for conversations that got one;
- *resolution time*: resolved_at - created_at, for resolved conversations;
- *median* is the middle value (mean of the two middle ones); *p90* is the nearest-rank
  90th percentile: the smallest value with at least 90% of the values at or below it;
- *SLA attainment*: per target (first response, resolution) a conversation with a due
  instant counts as *met* when it was done by the due instant, *missed* when done later or
  still not done after it, and is left out while still running; attainment = met / (met +
  missed) over both targets. Due instants already include the time paused while pending the
  customer, so attainment honours the paused clock.
- *backlog* at an instant: conversations created by then and not resolved by then.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from groundswell.care.tables import CareConversation, CareTeam
from groundswell.identity.tables import User

RESOLVED = "resolved"


@dataclass(frozen=True)
class ConversationFacts:
    """What the metrics need to know about one conversation. Labels (agent, team) are
    display names; None means unassigned / no team."""

    id: str
    source: str
    status: str
    created_at: datetime
    first_responded_at: datetime | None = None
    resolved_at: datetime | None = None
    first_response_due_at: datetime | None = None
    resolution_due_at: datetime | None = None
    agent: str | None = None
    team: str | None = None


@dataclass(frozen=True)
class Summary:
    """Metrics of one group of conversations. Times are in seconds; None when no value."""

    label: str
    conversations: int
    first_response_median: float | None
    first_response_p90: float | None
    resolution_median: float | None
    resolution_p90: float | None
    sla_met: int
    sla_missed: int
    backlog: int

    @property
    def sla_attainment(self) -> float | None:
        decided = self.sla_met + self.sla_missed
        return None if decided == 0 else self.sla_met / decided


@dataclass(frozen=True)
class Bucket:
    """One period of the time series (start inclusive, end exclusive)."""

    start: datetime
    created: int
    resolved: int
    first_response_median: float | None
    sla_attainment: float | None
    backlog_at_end: int


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (0 < p <= 100) of `values`; None for no values."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def first_response_seconds(fact: ConversationFacts) -> float | None:
    if fact.first_responded_at is None:
        return None
    return max((fact.first_responded_at - fact.created_at).total_seconds(), 0.0)


def resolution_seconds(fact: ConversationFacts) -> float | None:
    if fact.resolved_at is None:
        return None
    return max((fact.resolved_at - fact.created_at).total_seconds(), 0.0)


def _target(done: datetime | None, due: datetime | None, now: datetime) -> bool | None:
    """True met, False missed, None not decided yet (or no target)."""
    if due is None:
        return None
    if done is not None:
        return done <= due
    return False if now > due else None


def sla_outcomes(fact: ConversationFacts, now: datetime) -> tuple[int, int]:
    """(met, missed) over the conversation's first-response and resolution targets."""
    met = missed = 0
    for done, due in (
        (fact.first_responded_at, fact.first_response_due_at),
        (fact.resolved_at, fact.resolution_due_at),
    ):
        outcome = _target(done, due, now)
        if outcome is True:
            met += 1
        elif outcome is False:
            missed += 1
    return met, missed


def open_at(fact: ConversationFacts, instant: datetime) -> bool:
    """Part of the backlog at `instant`: created by then and not resolved by then."""
    return fact.created_at <= instant and (fact.resolved_at is None or fact.resolved_at > instant)


def summarize(
    label: str,
    facts: Iterable[ConversationFacts],
    now: datetime,
    *,
    since: datetime | None = None,
) -> Summary:
    """Metrics of a group. With `since`, times and SLA count only conversations created
    since then, while the backlog counts every conversation given (older ones still open)."""
    everything = list(facts)
    rows = everything if since is None else [f for f in everything if f.created_at >= since]
    firsts = [s for s in map(first_response_seconds, rows) if s is not None]
    resolutions = [s for s in map(resolution_seconds, rows) if s is not None]
    met = missed = 0
    for fact in rows:
        m, x = sla_outcomes(fact, now)
        met += m
        missed += x
    return Summary(
        label=label,
        conversations=len(rows),
        first_response_median=median(firsts),
        first_response_p90=percentile(firsts, 90),
        resolution_median=median(resolutions),
        resolution_p90=percentile(resolutions, 90),
        sla_met=met,
        sla_missed=missed,
        backlog=sum(1 for f in everything if open_at(f, now)),
    )


DIMENSIONS: dict[str, Callable[[ConversationFacts], str]] = {
    "agent": lambda f: f.agent or "Unassigned",
    "team": lambda f: f.team or "No team",
    "source": lambda f: f.source,
}


def group_by(
    dimension: str,
    facts: Iterable[ConversationFacts],
    now: datetime,
    *,
    since: datetime | None = None,
) -> list[Summary]:
    """One summary per agent, team or source, busiest first (then by name)."""
    key = DIMENSIONS[dimension]
    groups: dict[str, list[ConversationFacts]] = {}
    for fact in facts:
        groups.setdefault(key(fact), []).append(fact)
    summaries = [summarize(label, rows, now, since=since) for label, rows in groups.items()]
    return sorted(summaries, key=lambda s: (-s.conversations, s.label))


def bucket_size(start: datetime, end: datetime) -> timedelta:
    """Hours for a range of up to two days, days up to 120 days, weeks beyond."""
    span = end - start
    if span <= timedelta(days=2):
        return timedelta(hours=1)
    if span <= timedelta(days=120):
        return timedelta(days=1)
    return timedelta(weeks=1)


def over_time(
    facts: Iterable[ConversationFacts],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    step: timedelta | None = None,
) -> list[Bucket]:
    """The series from `start` to `end` (UTC bucket boundaries): conversations created and
    resolved in each bucket, the median first response and SLA attainment of those created in
    it, and the backlog at its end (or at `now` for the bucket that holds it)."""
    if end <= start:
        return []
    step = step or bucket_size(start, end)
    rows = list(facts)
    buckets: list[Bucket] = []
    at = start
    while at < end:
        stop = min(at + step, end)
        born = [f for f in rows if at <= f.created_at < stop]
        firsts = [s for s in map(first_response_seconds, born) if s is not None]
        met = missed = 0
        for fact in born:
            m, x = sla_outcomes(fact, now)
            met += m
            missed += x
        edge = min(stop, now)
        buckets.append(
            Bucket(
                start=at,
                created=len(born),
                resolved=sum(1 for f in rows if f.resolved_at and at <= f.resolved_at < stop),
                first_response_median=median(firsts),
                sla_attainment=None if met + missed == 0 else met / (met + missed),
                backlog_at_end=sum(1 for f in rows if open_at(f, edge)) if at <= now else 0,
            )
        )
        at = stop
    return buckets


def chart_series(buckets: Sequence[Bucket]) -> dict[str, dict[str, object]]:
    """The `data-chart` documents of /static/charts.js for the metrics page: backlog and
    volume, and first response median in minutes."""
    xs = [int(b.start.astimezone(UTC).timestamp()) for b in buckets]
    return {
        "volume": {
            "x": xs,
            "series": [
                {"label": "Created", "values": [b.created for b in buckets]},
                {"label": "Resolved", "values": [b.resolved for b in buckets]},
                {"label": "Backlog", "values": [b.backlog_at_end for b in buckets]},
            ],
        },
        "first_response": {
            "x": xs,
            "series": [
                {
                    "label": "First response, median (min)",
                    "values": [
                        None if b.first_response_median is None else b.first_response_median / 60
                        for b in buckets
                    ],
                }
            ],
        },
    }


def human_duration(seconds: float | None) -> str:
    """`1 h 05 min`, `12 min`, `45 s`, `3 d 4 h`; an em dash for no value."""
    if seconds is None:
        return "—"
    total = round(seconds)
    if total < 60:
        return f"{total} s"
    minutes = total // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes:02d} min"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h"


CSV_COLUMNS = (
    "dimension",
    "group",
    "conversations",
    "first_response_median_s",
    "first_response_p90_s",
    "resolution_median_s",
    "resolution_p90_s",
    "sla_met",
    "sla_missed",
    "sla_attainment",
    "backlog",
)


def _num(value: float | None) -> str:
    return "" if value is None else f"{value:.0f}"


def to_csv(rows: Iterable[tuple[str, Summary]]) -> str:
    """CSV of (dimension, summary) rows; times in whole seconds, attainment as a fraction."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for dimension, s in rows:
        attainment = s.sla_attainment
        writer.writerow(
            [
                dimension,
                _safe_cell(s.label),
                s.conversations,
                _num(s.first_response_median),
                _num(s.first_response_p90),
                _num(s.resolution_median),
                _num(s.resolution_p90),
                s.sla_met,
                s.sla_missed,
                "" if attainment is None else f"{attainment:.4f}",
                s.backlog,
            ]
        )
    return out.getvalue()


def _safe_cell(value: str) -> str:
    # A label starting with = + - @ would run as a formula when the CSV is opened in a
    # spreadsheet (CSV injection); a leading apostrophe keeps it text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def load_facts(
    session: Session, organization_id: str, *, start: datetime, end: datetime
) -> list[ConversationFacts]:
    """The facts of the organization's conversations that matter for [start, end): created
    in it, or created before it and still unresolved at its start (they are backlog)."""
    rows = session.execute(
        select(
            CareConversation.id,
            CareConversation.source,
            CareConversation.status,
            CareConversation.created_at,
            CareConversation.first_responded_at,
            CareConversation.resolved_at,
            CareConversation.first_response_due_at,
            CareConversation.resolution_due_at,
            User.name,
            CareTeam.name,
        )
        .outerjoin(User, User.id == CareConversation.assignee_id)
        .outerjoin(CareTeam, CareTeam.id == CareConversation.team_id)
        .where(
            CareConversation.organization_id == organization_id,
            CareConversation.created_at < end,
            or_(
                CareConversation.created_at >= start,
                CareConversation.resolved_at.is_(None),
                CareConversation.resolved_at >= start,
            ),
        )
    ).all()
    return [
        ConversationFacts(
            id=r[0],
            source=r[1],
            status=r[2],
            created_at=r[3],
            first_responded_at=r[4],
            resolved_at=r[5],
            first_response_due_at=r[6],
            resolution_due_at=r[7],
            agent=r[8],
            team=r[9],
        )
        for r in rows
    ]
