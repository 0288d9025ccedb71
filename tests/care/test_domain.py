"""SLA deadline arithmetic: the hours grammar, hand-computed tables (weekends, holidays, both
DST transitions in several zones, starts outside hours, long targets) and properties checked
against a minute-by-minute reference walk."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from groundswell.care.domain import (
    BusinessHours,
    Window,
    add_business_time,
    business_minutes_between,
    business_time_between,
    due,
    format_hours,
    is_open,
    next_opening,
    parse_holiday,
    parse_hours,
    parse_instant,
    parse_zone,
)
from groundswell.kernel.errors import InvalidInput

STANDARD = "mon-fri 09:00-17:00; sat 10:00-14:00"
ALWAYS = "mon-sun 00:00-24:00"


def hours(spec: str = STANDARD, zone: str = "Europe/Berlin", *holidays: str) -> BusinessHours:
    return BusinessHours.parse(spec, zone, holidays)


def due_at(start: str, minutes: int, spec: str, zone: str, *holidays: str) -> str:
    business = hours(spec, zone, *holidays)
    return due(parse_instant(start, business.zone), minutes, business).isoformat()


# --- the grammar ------------------------------------------------------------------------------


def test_standard_week_parses_to_its_windows() -> None:
    week = parse_hours(STANDARD)
    assert week[:5] == ((Window(540, 1020),),) * 5
    assert week[5] == (Window(600, 840),)
    assert week[6] == ()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("mon,wed 08:00-12:00,13:00-17:00", "mon,wed 08:00-12:00,13:00-17:00"),
        ("MON - FRI 9:00 - 17:00", "mon-fri 09:00-17:00"),
        ("Monday-Wednesday 09:00-12:00", "mon-wed 09:00-12:00"),
        ("fri-mon 10:00-11:00", "mon,fri-sun 10:00-11:00"),
        ("sun-sat 00:00-24:00", "mon-sun 00:00-24:00"),
        ("mon 09:00-12:00,12:00-17:00", "mon 09:00-17:00"),
        ("mon-fri 09:00-17:00; mon 12:00-20:00", "mon 09:00-20:00; tue-fri 09:00-17:00"),
        ("mon 13:00-14:00,09:00-10:00;", "mon 09:00-10:00,13:00-14:00"),
        ("sat 22:00-24:00; sun 00:00-02:00", "sat 22:00-24:00; sun 00:00-02:00"),
        ("tue 09:00-10:00; tue 09:00-10:00", "tue 09:00-10:00"),
    ],
)
def test_hours_parse_to_a_canonical_form(spec: str, expected: str) -> None:
    assert format_hours(parse_hours(spec)) == expected
    assert parse_hours(expected) == parse_hours(spec)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "no business hours"),
        (" ; ", "no business hours"),
        ("09:00-17:00", "expected days then windows"),
        ("mon-fri", "expected days then windows"),
        ("mon-fry 09:00-17:00", "unknown day 'fry'"),
        ("mon--fri 09:00-17:00", "bad days"),
        ("mon-tue-wed 09:00-17:00", "bad days"),
        ("mon, 09:00-17:00", "bad days"),
        ("mon 9-17", "bad window '9-17'"),
        ("mon 09:00-17:00,", "bad window ''"),
        ("mon 09:60-17:00", "bad time 09:60"),
        ("mon 09:00-25:00", "bad time 25:00"),
        ("mon 09:00-24:30", "bad time 24:30"),
        ("mon 24:00-24:00", "starts at 24:00"),
        ("mon 09:00-09:00", "empty window"),
        ("fri 22:00-02:00", "overnight windows are not supported"),
    ],
)
def test_malformed_hours_are_refused_with_a_clear_message(spec: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message.replace("(", r"\(")):
        parse_hours(spec)


def test_zones_holidays_and_instants_are_validated() -> None:
    assert parse_zone("America/New_York") == ZoneInfo("America/New_York")
    with pytest.raises(InvalidInput, match="unknown time zone 'Mars/Base'"):
        parse_zone("Mars/Base")
    with pytest.raises(InvalidInput, match="did you mean 'Europe/Berlin'"):
        parse_zone("europe/berlin")
    for bad in ("", "../../etc/passwd", "/etc/passwd", "America"):
        with pytest.raises(InvalidInput, match="unknown time zone"):
            parse_zone(bad)
    assert parse_holiday("2026-12-25") == date(2026, 12, 25)
    for bad in ("2026-02-30", "20261225", "25.12.2026", "2026-12-25T00:00"):
        with pytest.raises(InvalidInput, match="bad holiday"):
            parse_holiday(bad)
    berlin = ZoneInfo("Europe/Berlin")
    assert parse_instant("2026-11-23T08:00:00Z", berlin) == datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert parse_instant("2026-11-23T08:00", berlin).utcoffset() == timedelta(hours=1)
    for bad in ("yesterday", "2026-13-01T00:00", "2026-11-23T08:00+25:00", ""):
        with pytest.raises(InvalidInput, match="bad ISO 8601 time"):
            parse_instant(bad, berlin)


def test_week_sums_and_spec_round_trip() -> None:
    business = hours(STANDARD)
    assert business.weekly_minutes == 5 * 480 + 240
    assert business.spec == STANDARD


# --- hand-computed tables ------------------------------------------------------------------
# 2026-11-23 is a Monday. Each row: start, minutes, hours, zone, holidays, expected due.
Row = tuple[str, int, str, str, tuple[str, ...], str]

TABLE: list[Row] = [
    # inside hours, same window
    ("2026-11-23T10:00:00", 60, STANDARD, "Europe/Berlin", (), "2026-11-23T11:00:00+01:00"),
    # start before opening: the clock starts at 09:00
    ("2026-11-23T08:00:00", 30, STANDARD, "Europe/Berlin", (), "2026-11-23T09:30:00+01:00"),
    # zero minutes: start itself inside hours, the next opening outside
    ("2026-11-23T10:00:00", 0, STANDARD, "Europe/Berlin", (), "2026-11-23T10:00:00+01:00"),
    ("2026-11-23T08:00:00", 0, STANDARD, "Europe/Berlin", (), "2026-11-23T09:00:00+01:00"),
    ("2026-11-23T17:00:00", 0, STANDARD, "Europe/Berlin", (), "2026-11-24T09:00:00+01:00"),
    ("2026-11-29T12:00:00", 0, STANDARD, "Europe/Berlin", (), "2026-11-30T09:00:00+01:00"),
    # used up exactly at closing: due at closing, not the next morning
    ("2026-11-23T16:30:00", 30, STANDARD, "Europe/Berlin", (), "2026-11-23T17:00:00+01:00"),
    ("2026-11-23T16:30:00", 31, STANDARD, "Europe/Berlin", (), "2026-11-24T09:01:00+01:00"),
    # weekend: Friday into Saturday's short hours, then over Sunday to Monday
    ("2026-11-27T16:00:00", 120, STANDARD, "Europe/Berlin", (), "2026-11-28T11:00:00+01:00"),
    ("2026-11-27T16:00:00", 300, STANDARD, "Europe/Berlin", (), "2026-11-28T14:00:00+01:00"),
    ("2026-11-27T16:00:00", 301, STANDARD, "Europe/Berlin", (), "2026-11-30T09:01:00+01:00"),
    ("2026-11-28T15:00:00", 10, STANDARD, "Europe/Berlin", (), "2026-11-30T09:10:00+01:00"),
    # holidays (local dates): Christmas Friday and Saturday closed
    (
        "2026-12-24T16:00:00",
        120,
        STANDARD,
        "Europe/Berlin",
        ("2026-12-25", "2026-12-26"),
        "2026-12-28T10:00:00+01:00",
    ),
    # a holiday on a closed day changes nothing
    (
        "2026-11-28T15:00:00",
        10,
        STANDARD,
        "Europe/Berlin",
        ("2026-11-29",),
        "2026-11-30T09:10:00+01:00",
    ),
    # a start on a holiday waits for the next open day
    (
        "2026-11-30T10:00:00",
        0,
        STANDARD,
        "Europe/Berlin",
        ("2026-11-30",),
        "2026-12-01T09:00:00+01:00",
    ),
    # many days: one whole week ends Saturday 14:00; a minute more is Monday 09:01
    ("2026-11-23T09:00:00", 2640, STANDARD, "Europe/Berlin", (), "2026-11-28T14:00:00+01:00"),
    ("2026-11-23T09:00:00", 2641, STANDARD, "Europe/Berlin", (), "2026-11-30T09:01:00+01:00"),
    # ten weeks end on Saturday 2027-01-30 ...
    ("2026-11-23T09:00:00", 26400, STANDARD, "Europe/Berlin", (), "2027-01-30T14:00:00+01:00"),
    # ... and with three holidays (1200 minutes) 2.5 days later
    (
        "2026-11-23T09:00:00",
        26400,
        STANDARD,
        "Europe/Berlin",
        ("2026-12-25", "2026-12-26", "2027-01-01"),
        "2027-02-03T13:00:00+01:00",
    ),
    # 100,000 minutes: 37 weeks + holiday + a week + 160 minutes, into summer time
    (
        "2026-11-23T08:00:00",
        100_000,
        STANDARD,
        "Europe/Berlin",
        ("2026-12-25",),
        "2027-08-16T11:40:00+02:00",
    ),
    # comma lists of days and windows; the lunch break does not count
    (
        "2026-11-23T11:30:00",
        60,
        "mon,wed 08:00-12:00,13:00-17:00",
        "Europe/Berlin",
        (),
        "2026-11-23T13:30:00+01:00",
    ),
    (
        "2026-11-23T16:00:00",
        120,
        "mon,wed 08:00-12:00,13:00-17:00",
        "Europe/Berlin",
        (),
        "2026-11-25T09:00:00+01:00",
    ),
    # whole days: 00:00-24:00 on weekdays runs through Friday midnight to Monday
    (
        "2026-11-27T23:00:00",
        120,
        "mon-fri 00:00-24:00",
        "Europe/Berlin",
        (),
        "2026-11-30T01:00:00+01:00",
    ),
    # a start given in another offset is that instant (08:00Z is 09:00 in Berlin)
    ("2026-11-23T08:00:00Z", 0, STANDARD, "Europe/Berlin", (), "2026-11-23T09:00:00+01:00"),
    # zones without DST, one of them half an hour off
    (
        "2026-03-06T17:00:00+09:00",
        120,
        "mon-fri 09:00-18:00",
        "Asia/Tokyo",
        (),
        "2026-03-09T10:00:00+09:00",
    ),
    ("2026-11-23T03:30:00Z", 30, STANDARD, "Asia/Kolkata", (), "2026-11-23T09:30:00+05:30"),
    ("2026-11-23T12:00:00Z", 1, STANDARD, "UTC", (), "2026-11-23T12:01:00+00:00"),
]

DST_TABLE: list[Row] = [
    # America/New_York springs forward on Sunday 2026-03-08 at 02:00: a day of 23 real hours
    ("2026-03-08T00:00:00", 240, ALWAYS, "America/New_York", (), "2026-03-08T05:00:00-04:00"),
    # a window over the jump lasts two real hours, not three
    (
        "2026-03-08T00:00:00",
        120,
        "sun 01:00-04:00",
        "America/New_York",
        (),
        "2026-03-08T04:00:00-04:00",
    ),
    (
        "2026-03-08T00:00:00",
        121,
        "sun 01:00-04:00",
        "America/New_York",
        (),
        "2026-03-15T01:01:00-04:00",
    ),
    # ordinary office hours keep their wall-clock times over the DST weekend
    (
        "2026-03-06T16:00:00",
        120,
        "mon-fri 09:00-17:00",
        "America/New_York",
        (),
        "2026-03-09T10:00:00-04:00",
    ),
    # New York falls back on Sunday 2026-11-01 at 02:00: 01:00-02:00 happens twice
    ("2026-11-01T00:00:00", 240, ALWAYS, "America/New_York", (), "2026-11-01T03:00:00-05:00"),
    (
        "2026-11-01T00:00:00",
        60,
        "sun 01:00-04:00",
        "America/New_York",
        (),
        "2026-11-01T01:00:00-05:00",
    ),
    (
        "2026-11-01T00:00:00",
        240,
        "sun 01:00-04:00",
        "America/New_York",
        (),
        "2026-11-01T04:00:00-05:00",
    ),
    # Europe/Berlin: spring 2026-03-29 02:00 -> 03:00, autumn 2026-10-25 03:00 -> 02:00
    ("2026-03-29T00:00:00", 1440, ALWAYS, "Europe/Berlin", (), "2026-03-30T01:00:00+02:00"),
    (
        "2026-03-29T00:00:00",
        180,
        "sun 01:00-05:00",
        "Europe/Berlin",
        (),
        "2026-03-29T05:00:00+02:00",
    ),
    ("2026-10-25T00:00:00", 1440, ALWAYS, "Europe/Berlin", (), "2026-10-25T23:00:00+01:00"),
    # 02:30-04:00 on the autumn day: 02:30-03:00 CEST, then (after the wall clock
    # reads 02:00-02:30 again, outside the window) 02:30-04:00 CET: 120 real minutes
    (
        "2026-10-25T00:00:00",
        30,
        "sun 02:30-04:00",
        "Europe/Berlin",
        (),
        "2026-10-25T02:00:00+01:00",
    ),
    (
        "2026-10-25T00:00:00",
        31,
        "sun 02:30-04:00",
        "Europe/Berlin",
        (),
        "2026-10-25T02:31:00+01:00",
    ),
    (
        "2026-10-25T00:00:00",
        120,
        "sun 02:30-04:00",
        "Europe/Berlin",
        (),
        "2026-10-25T04:00:00+01:00",
    ),
    # Australia/Sydney (southern hemisphere): DST ends 2026-04-05 03:00 -> 02:00 (25 hours) ...
    ("2026-04-05T00:00:00", 1440, ALWAYS, "Australia/Sydney", (), "2026-04-05T23:00:00+10:00"),
    # ... and starts 2026-10-04 02:00 -> 03:00 (23 hours)
    ("2026-10-04T00:00:00", 1440, ALWAYS, "Australia/Sydney", (), "2026-10-05T01:00:00+11:00"),
    (
        "2026-10-02T16:00:00",
        120,
        "mon-fri 09:00-17:00",
        "Australia/Sydney",
        (),
        "2026-10-05T10:00:00+11:00",
    ),
    # a nonexistent local start (02:30 in the New York gap) reads with fold=0: EST, i.e. 03:30 EDT
    ("2026-03-08T02:30:00", 0, ALWAYS, "America/New_York", (), "2026-03-08T03:30:00-04:00"),
    # an ambiguous local start (01:30 twice in New York) reads with fold=0: the first, EDT
    ("2026-11-01T01:30:00", 0, ALWAYS, "America/New_York", (), "2026-11-01T01:30:00-04:00"),
    ("2026-11-01T01:30:00", 60, ALWAYS, "America/New_York", (), "2026-11-01T01:30:00-05:00"),
    # an explicit offset picks the second 01:30
    ("2026-11-01T01:30:00-05:00", 30, ALWAYS, "America/New_York", (), "2026-11-01T02:00:00-05:00"),
]


@pytest.mark.parametrize(("start", "minutes", "spec", "zone", "holidays", "expected"), TABLE)
def test_due_table(
    start: str, minutes: int, spec: str, zone: str, holidays: tuple[str, ...], expected: str
) -> None:
    assert due_at(start, minutes, spec, zone, *holidays) == expected


@pytest.mark.parametrize(("start", "minutes", "spec", "zone", "holidays", "expected"), DST_TABLE)
def test_due_across_dst_transitions(
    start: str, minutes: int, spec: str, zone: str, holidays: tuple[str, ...], expected: str
) -> None:
    assert due_at(start, minutes, spec, zone, *holidays) == expected


@pytest.mark.parametrize(
    ("start", "minutes", "spec", "zone", "holidays", "expected"), TABLE + DST_TABLE
)
def test_business_time_between_start_and_due_is_the_target(
    start: str, minutes: int, spec: str, zone: str, holidays: tuple[str, ...], expected: str
) -> None:
    business = hours(spec, zone, *holidays)
    begin = parse_instant(start, business.zone)
    end = datetime.fromisoformat(expected)
    assert business_time_between(begin, end, business) == timedelta(minutes=minutes)
    assert business_time_between(end, begin, business) == -timedelta(minutes=minutes)


def test_business_time_between_counts_real_time() -> None:
    berlin = hours(STANDARD)
    monday_8 = parse_instant("2026-11-23T08:00", berlin.zone)
    tuesday_12 = parse_instant("2026-11-24T12:00", berlin.zone)
    assert business_minutes_between(monday_8, tuesday_12, berlin) == 480 + 180
    assert business_minutes_between(monday_8, monday_8, berlin) == 0
    seconds = business_time_between(monday_8, tuesday_12 + timedelta(seconds=30), berlin)
    assert seconds == timedelta(minutes=660, seconds=30)
    always = hours(ALWAYS, "Europe/Berlin")
    autumn = parse_instant("2026-10-25T00:00", always.zone)
    spring = parse_instant("2026-03-29T00:00", always.zone)
    # (aware + timedelta adds wall-clock time in Python; in UTC it adds real time)
    assert (
        business_minutes_between(autumn, autumn.astimezone(UTC) + timedelta(days=1), always) == 1440
    )
    # the wall-clock day of 25 hours / 23 hours, measured between local midnights
    next_autumn = parse_instant("2026-10-26T00:00", always.zone)
    next_spring = parse_instant("2026-03-30T00:00", always.zone)
    assert business_minutes_between(autumn, next_autumn, always) == 25 * 60
    assert business_minutes_between(spring, next_spring, always) == 23 * 60


def test_seconds_and_microseconds_count_exactly() -> None:
    business = hours(STANDARD)
    start = parse_instant("2026-11-23T16:59:59.500000", business.zone)
    result = add_business_time(start, timedelta(seconds=1), business)
    assert result.isoformat() == "2026-11-24T09:00:00.500000+01:00"


def test_open_and_next_opening() -> None:
    business = hours(STANDARD)
    at = parse_instant
    assert is_open(at("2026-11-23T09:00", business.zone), business)
    assert is_open(at("2026-11-23T16:59:59", business.zone), business)
    assert not is_open(at("2026-11-23T17:00", business.zone), business)
    assert not is_open(at("2026-11-29T12:00", business.zone), business)
    opening = next_opening(at("2026-11-28T14:00", business.zone), business)
    assert opening.isoformat() == "2026-11-30T09:00:00+01:00"


def test_naive_start_is_read_in_the_zone() -> None:
    business = hours(STANDARD, "America/New_York")
    naive = datetime(2026, 11, 23, 10, 0)
    assert due(naive, 0, business).isoformat() == "2026-11-23T10:00:00-05:00"


def test_bad_targets_are_refused() -> None:
    business = hours(STANDARD)
    start = datetime(2026, 11, 23, 10, tzinfo=UTC)
    with pytest.raises(InvalidInput, match="0 or more"):
        due(start, -1, business)
    with pytest.raises(InvalidInput, match="negative"):
        add_business_time(start, timedelta(seconds=-1), business)
    with pytest.raises(InvalidInput, match="after year 9999"):
        due(start, 10**12, business)
    with pytest.raises(InvalidInput, match="after year 9999"):
        due(start, 10**30, business)
    with pytest.raises(InvalidInput, match="out of range"):
        due(datetime(9999, 12, 31, 12, tzinfo=UTC), 0, business)


def test_sparse_hours_far_targets_are_walked_in_jumps() -> None:
    """One minute a week: 100,000 minutes is 100,000 weeks, about 1,918 years ahead."""
    business = hours("mon 09:00-09:01", "UTC")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    result = due(start, 100_000, business)
    first_monday = datetime(2026, 1, 5, 9, 1, tzinfo=UTC)
    assert result == first_monday + timedelta(weeks=99_999)


# --- properties -----------------------------------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
    "Australia/Lord_Howe",
]
# Local midnights near DST changes (2024-2026) and ordinary days, to start walks from.
AROUND = [
    datetime(2026, 3, 6),
    datetime(2026, 3, 27),
    datetime(2026, 4, 3),
    datetime(2026, 10, 2),
    datetime(2026, 10, 23),
    datetime(2026, 10, 30),
    datetime(2024, 2, 15),
    datetime(2025, 9, 26),
    datetime(2026, 7, 15),
]


@st.composite
def windows(draw: st.DrawFn) -> tuple[Window, ...]:
    # Quarter-hour edges so windows often start or end inside DST gaps and folds.
    edges = sorted(draw(st.sets(st.integers(0, 96), min_size=0, max_size=6)))
    return tuple(Window(a * 15, b * 15) for a, b in zip(edges[::2], edges[1::2], strict=False))


@st.composite
def business_hours(draw: st.DrawFn) -> BusinessHours:
    week = tuple(draw(windows()) for _ in range(7))
    assume(any(week))
    zone = ZoneInfo(draw(st.sampled_from(ZONES)))
    base = draw(st.sampled_from(AROUND)).date()
    holidays = draw(
        st.sets(st.integers(-3, 14).map(lambda d: base + timedelta(days=d)), max_size=3)
    )
    return BusinessHours(week, zone, frozenset(holidays))


@st.composite
def starts(draw: st.DrawFn) -> datetime:
    local = draw(st.sampled_from(AROUND)) + timedelta(minutes=draw(st.integers(0, 7 * 1440)))
    return local.replace(tzinfo=UTC) - timedelta(hours=draw(st.integers(-14, 12)))


def reference_due(start: datetime, minutes: int, business: BusinessHours) -> datetime | None:
    """Minute-by-minute walk over real time (exact when every edge and offset is whole
    minutes and `start` is on a minute); None when not due within 60 days."""
    t = start
    remaining = minutes
    for _ in range(60 * 1440):
        local = t.astimezone(business.zone)
        minute = local.hour * 60 + local.minute
        inside = local.date() not in business.holidays and any(
            window.start <= minute < window.end for window in business.week[local.weekday()]
        )
        if inside:
            if remaining == 0:
                return t
            remaining -= 1
            if remaining == 0:
                return t + timedelta(minutes=1)
        t += timedelta(minutes=1)
    return None


@settings(max_examples=150, deadline=None)
@given(business=business_hours(), start=starts(), minutes=st.integers(0, 1500))
def test_due_matches_a_minute_by_minute_walk(
    business: BusinessHours, start: datetime, minutes: int
) -> None:
    expected = reference_due(start, minutes, business)
    assume(expected is not None)
    assert expected is not None
    # Compared as instants: `==` between zones is always False for a wall time that a
    # daylight-saving change repeats (PEP 495), though both name the same moment.
    assert due(start, minutes, business).astimezone(UTC) == expected.astimezone(UTC)


def test_due_in_the_hour_a_clock_change_repeats_is_its_first_occurrence() -> None:
    # Sydney turns its clocks back from 03:00 to 02:00 on 2026-04-05: 02:00 comes twice.
    sunday_two = BusinessHours(
        week=((), (), (), (), (), (), (Window(start=120, end=135),)),
        zone=ZoneInfo("Australia/Sydney"),
        holidays=frozenset(),
    )
    start = datetime(2026, 4, 3, tzinfo=UTC)
    assert due(start, 0, sunday_two).astimezone(UTC) == datetime(2026, 4, 4, 15, 0, tzinfo=UTC)


@settings(max_examples=100, deadline=None)
@given(
    business=business_hours(),
    start=starts(),
    later_by=st.integers(0, 3 * 1440),
    minutes=st.integers(0, 5000),
    more=st.integers(0, 5000),
)
def test_due_never_decreases_when_start_or_minutes_increase(
    business: BusinessHours, start: datetime, later_by: int, minutes: int, more: int
) -> None:
    first = due(start, minutes, business)
    assert due(start + timedelta(minutes=later_by), minutes, business) >= first
    assert due(start, minutes + more, business) >= first


@settings(max_examples=100, deadline=None)
@given(
    business=business_hours(),
    start=starts(),
    minutes=st.integers(0, 20_000),
    more=st.integers(1, 5000),
)
def test_due_is_consistent_with_elapsed_time(
    business: BusinessHours, start: datetime, minutes: int, more: int
) -> None:
    first = due(start, minutes, business)
    assert business_time_between(start, first, business) == timedelta(minutes=minutes)
    assert is_open(first, business) or minutes > 0
    # adding in two steps is adding at once (the second step is positive, so it continues
    # from a window's end rather than asking for the next opening)
    assert due(first, more, business) == due(start, minutes + more, business)


@settings(max_examples=100, deadline=None)
@given(business=business_hours(), a=starts(), b=starts(), c=starts())
def test_business_time_adds_up_over_consecutive_spans(
    business: BusinessHours, a: datetime, b: datetime, c: datetime
) -> None:
    first, middle, last = sorted((a, b, c))
    whole = business_time_between(first, last, business)
    assert whole == business_time_between(first, middle, business) + business_time_between(
        middle, last, business
    )
    assert timedelta(0) <= whole <= last - first


@given(week=st.tuples(*(windows() for _ in range(7))))
def test_format_then_parse_is_the_identity(week: tuple[tuple[Window, ...], ...]) -> None:
    assume(any(week))
    canonical = BusinessHours(week, UTC).week
    assert parse_hours(format_hours(canonical)) == canonical
