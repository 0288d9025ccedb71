"""Care's pure rules. For now: SLA deadline arithmetic in business hours.

Business time is the set of real instants whose local wall-clock time in the team's zone lies
inside one of the weekly windows on a date that is not a holiday. Every function here measures
*real* elapsed time inside that set: a window that a DST jump shortens (spring forward) lasts
less real time, one that a DST jump repeats (fall back) lasts more, and an hour that the wall
clock skips is never business time. See docs/sla.md for the grammar of business hours and
worked examples.

The walk is exact to the microsecond and fast: it moves one constant-offset stretch of the
zone at a time, inside a stretch it visits each local day's windows (not each minute), and it
jumps whole weeks at once while no holiday or offset change is near.

Nothing here reads the clock: callers pass instants in.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from groundswell.kernel.errors import InvalidInput

DAY_NAMES: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES: Final = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)
MINUTES_PER_DAY: Final = 24 * 60

_US: Final = timedelta(microseconds=1)
_US_PER_SECOND: Final = 1_000_000
_US_PER_MINUTE: Final = 60 * _US_PER_SECOND
_US_PER_DAY: Final = 86_400_000_000
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE: Final = date(1970, 1, 1)
# 1970-01-01 was a Thursday: weekday (Monday = 0) of epoch day d is (d + 3) % 7.
_EPOCH_WEEKDAY: Final = 3
# Instants the walk may reach: a day of margin inside datetime's range so that converting to
# any zone (offsets reach ±26 h historically) never overflows.
_FIRST_US: Final = (datetime(1, 1, 3, tzinfo=UTC) - _EPOCH) // _US
_LAST_US: Final = (datetime(9999, 12, 30, tzinfo=UTC) - _EPOCH) // _US
# Offset changes are found by probing the zone once per day and bisecting to the microsecond
# where a probe differs. That finds every change as long as two changes are more than a day
# apart: in the tz database the closest pair is about four days apart (Africa/Freetown, 1940s).
_PROBE_US: Final = _US_PER_DAY
# The walk asks for a week of the zone first, then twice as much each time up to a year: a
# near target costs a few probes, and zones that never change offset (UTC, Asia/Tokyo) are
# still probed lazily rather than up to year 9999.
_FIRST_CHUNK_US: Final = 8 * _US_PER_DAY
_CHUNK_US: Final = 366 * _US_PER_DAY

_TOO_LATE: Final = "the due time would fall after year 9999"

_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$")
_RULE = re.compile(r"^(?P<days>[A-Za-z][A-Za-z\s,-]*?)\s+(?P<windows>\d.*)$")
_HOLIDAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, order=True)
class Window:
    """Local wall-clock minutes [start, end) of one day: 0 <= start < end <= 1440."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"window must satisfy 0 <= start < end <= 1440, got {self}")

    @property
    def minutes(self) -> int:
        return self.end - self.start

    def __str__(self) -> str:
        return f"{_clock(self.start)}-{_clock(self.end)}"


Week = tuple[tuple[Window, ...], ...]
"""Seven tuples of windows, Monday first; each sorted, non-overlapping and non-touching."""


@dataclass(frozen=True)
class BusinessHours:
    """Weekly windows read on the wall clock of `zone`, minus whole local `holidays`."""

    week: Week
    zone: tzinfo
    holidays: frozenset[date] = frozenset()
    # Holidays as days since 1970-01-01, sorted (to find the next one) and as a set.
    _holiday_days: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _holiday_set: frozenset[int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.week) != 7:
            raise ValueError("week needs seven days of windows, Monday first")
        # Frozen: the derived fields are set once here, the only way a frozen dataclass can.
        object.__setattr__(self, "week", tuple(_merge(day) for day in self.week))
        days = tuple(sorted((day - _EPOCH_DATE).days for day in self.holidays))
        object.__setattr__(self, "_holiday_days", days)
        object.__setattr__(self, "_holiday_set", frozenset(days))

    @classmethod
    def parse(cls, hours: str, zone: str, holidays: Iterable[str] = ()) -> BusinessHours:
        """Business hours from their text forms (the CLI's `--hours`, `--tz`, `--holiday`).

        Raises InvalidInput naming the bad piece."""
        return cls(parse_hours(hours), parse_zone(zone), frozenset(map(parse_holiday, holidays)))

    @property
    def weekly_minutes(self) -> int:
        """Wall-clock minutes of business hours in a week without holidays."""
        return sum(window.minutes for day in self.week for window in day)

    @property
    def spec(self) -> str:
        """The canonical `--hours` text of `week` (parses back to the same week)."""
        return format_hours(self.week)


# --- parsing --------------------------------------------------------------------------------


def parse_hours(text: str) -> Week:
    """Parse `"mon-fri 09:00-17:00; sat 10:00-14:00"` into a week (grammar in docs/sla.md).

    Rules are separated by `;`; each names days (`mon`, `mon-fri`, `mon,wed`, `fri-mon` wraps
    around the week; three-letter or full English names, any case) and then one or more
    windows `HH:MM-HH:MM` separated by commas, with `24:00` allowed as an end. Rules that name
    the same day add up (their union). A window must end after it starts on the same day:
    overnight windows are refused with the split that expresses them."""
    days: list[list[Window]] = [[] for _ in DAY_NAMES]
    rules = [rule.strip() for rule in text.split(";")]
    if not any(rules):
        raise InvalidInput('no business hours given; expected e.g. "mon-fri 09:00-17:00"')
    for rule in rules:
        if not rule:
            continue
        match = _RULE.match(rule)
        if match is None:
            raise InvalidInput(
                f"cannot read {rule!r}: expected days then windows, e.g. 'mon-fri 09:00-17:00'"
            )
        windows = [_parse_window(piece.strip(), rule) for piece in match["windows"].split(",")]
        for weekday in _parse_days(match["days"], rule):
            days[weekday].extend(windows)
    return tuple(_merge(day) for day in days)


def format_hours(week: Week) -> str:
    """The canonical text of a week: days with equal windows grouped, runs written `a-b`."""
    groups: dict[tuple[Window, ...], list[int]] = {}
    for weekday, windows in enumerate(week):
        if windows:
            groups.setdefault(tuple(windows), []).append(weekday)
    rules = []
    for windows, weekdays in sorted(groups.items(), key=lambda item: item[1][0]):
        runs: list[list[int]] = []
        for weekday in weekdays:
            if runs and runs[-1][-1] == weekday - 1:
                runs[-1].append(weekday)
            else:
                runs.append([weekday])
        days = ",".join(
            DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}"
            for run in runs
        )
        rules.append(f"{days} {','.join(str(window) for window in windows)}")
    return "; ".join(rules)


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name (`Europe/Berlin`, `UTC`); InvalidInput if unknown."""
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    # Only on the error path: listing the tz database reads the disk.
    same = [key for key in available_timezones() if key.lower() == name.strip().lower()]
    hint = f"did you mean {same[0]!r}?" if same else "use an IANA name such as 'Europe/Berlin'"
    raise InvalidInput(f"unknown time zone {name!r}; {hint}")


def parse_holiday(text: str) -> date:
    """A holiday as a local date `YYYY-MM-DD`; InvalidInput otherwise."""
    if _HOLIDAY.match(text.strip()):
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            pass
    raise InvalidInput(f"bad holiday {text!r}; expected a date YYYY-MM-DD")


def parse_instant(text: str, zone: tzinfo) -> datetime:
    """An ISO 8601 date-time. With an offset (or `Z`) it is that instant; without one it is a
    wall-clock time in `zone`, read with fold=0 (see `aware`). InvalidInput otherwise."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(
            f"bad ISO 8601 time {text!r}; expected e.g. 2026-03-09T08:30:00+01:00"
        ) from None
    return aware(parsed, zone)


def aware(moment: datetime, zone: tzinfo) -> datetime:
    """`moment` itself if it carries an offset, else its wall-clock reading in `zone`.

    A naive time is read with its `fold` (0 unless set): of the two readings of an ambiguous
    time (fall back) fold=0 is the earlier; a nonexistent time (spring forward) takes the
    offset in force before the gap, so 02:30 on a New York spring-forward day is 03:30 EDT."""
    if moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment
    return moment.replace(tzinfo=zone)


def _parse_window(text: str, rule: str) -> Window:
    match = _WINDOW.match(text)
    if match is None:
        raise InvalidInput(f"bad window {text!r} in {rule!r}; expected HH:MM-HH:MM")
    start_h, start_m, end_h, end_m = (int(group) for group in match.groups())
    for hour, minute in ((start_h, start_m), (end_h, end_m)):
        if minute > 59 or hour > 24 or (hour == 24 and minute != 0):
            raise InvalidInput(f"bad time {hour:02d}:{minute:02d} in {rule!r}; 00:00 to 24:00")
    start, end = start_h * 60 + start_m, end_h * 60 + end_m
    if start == MINUTES_PER_DAY:
        raise InvalidInput(f"window {text!r} in {rule!r} starts at 24:00; use 00:00")
    if end == start:
        raise InvalidInput(f"empty window {text!r} in {rule!r}")
    if end < start:
        raise InvalidInput(
            f"window {text!r} in {rule!r} crosses midnight; overnight windows are not "
            f"supported: split it, e.g. 'fri {_clock(start)}-24:00; sat 00:00-{_clock(end)}'"
        )
    return Window(start, end)


def _parse_days(text: str, rule: str) -> list[int]:
    weekdays: list[int] = []
    for item in text.split(","):
        names = [name.strip() for name in item.split("-")]
        if len(names) > 2 or not all(names):
            raise InvalidInput(f"bad days {item.strip()!r} in {rule!r}; e.g. 'mon-fri' or 'sat'")
        first, last = (_weekday(name, rule) for name in (names[0], names[-1]))
        weekdays.extend((first + offset) % 7 for offset in range((last - first) % 7 + 1))
    return weekdays


def _weekday(name: str, rule: str) -> int:
    lowered = name.lower()
    for names in (DAY_NAMES, _FULL_DAY_NAMES):
        if lowered in names:
            return names.index(lowered)
    raise InvalidInput(f"unknown day {name!r} in {rule!r}; use mon tue wed thu fri sat sun")


def _merge(windows: Iterable[Window]) -> tuple[Window, ...]:
    """Sorted union: overlapping or touching windows become one."""
    merged: list[Window] = []
    for window in sorted(windows):
        if merged and window.start <= merged[-1].end:
            if window.end > merged[-1].end:
                merged[-1] = Window(merged[-1].start, window.end)
        else:
            merged.append(window)
    return tuple(merged)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# --- arithmetic ----------------------------------------------------------------------------


def due(start: datetime, minutes: int, hours: BusinessHours) -> datetime:
    """The earliest instant at which `minutes` of business time have elapsed since `start`.

    The clock starts at `start` if it is inside business hours, else at the next opening; so
    with `minutes == 0` the answer is `start` itself inside hours and the next opening outside.
    A target that is used up exactly at a window's end is due at that end (17:00, not the next
    morning). The result is in `hours.zone`; a naive `start` is read there (see `aware`).
    InvalidInput if `minutes` < 0 or the due time would fall after year 9999."""
    if minutes < 0:
        raise InvalidInput(f"minutes must be 0 or more, got {minutes}")
    # Longer than datetime's whole range: never due inside it (and timedelta would overflow).
    if minutes > (_LAST_US - _FIRST_US) // _US_PER_MINUTE:
        raise InvalidInput(_TOO_LATE)
    return add_business_time(start, timedelta(minutes=minutes), hours)


def add_business_time(start: datetime, duration: timedelta, hours: BusinessHours) -> datetime:
    """`due` for any non-negative duration (seconds and microseconds count exactly)."""
    if duration < timedelta(0):
        raise InvalidInput(f"duration must not be negative, got {duration}")
    t = _to_us(aware(start, hours.zone))
    if duration // _US > _LAST_US - t:  # business time never outruns real time
        raise InvalidInput(_TOO_LATE)
    position, _, reached = _walk(hours, t, _LAST_US, duration // _US)
    if not reached:
        raise InvalidInput(_TOO_LATE)
    return _from_us(position).astimezone(hours.zone)


def next_opening(moment: datetime, hours: BusinessHours) -> datetime:
    """`moment` if it is inside business hours, else the next instant that is (in the zone)."""
    return add_business_time(moment, timedelta(0), hours)


def is_open(moment: datetime, hours: BusinessHours) -> bool:
    """Whether `moment` is inside business hours (a window's end is outside: [start, end))."""
    return next_opening(moment, hours) == aware(moment, hours.zone)


def business_time_between(start: datetime, end: datetime, hours: BusinessHours) -> timedelta:
    """Real time inside business hours in [start, end); negative when `end` is before `start`
    (so `business_time_between(now, due)` is what remains, and below zero once overdue)."""
    a, b = _to_us(aware(start, hours.zone)), _to_us(aware(end, hours.zone))
    if b < a:
        return -business_time_between(end, start, hours)
    _, consumed, _ = _walk(hours, a, b, b - a + 1)
    return consumed * _US


def business_minutes_between(start: datetime, end: datetime, hours: BusinessHours) -> float:
    """`business_time_between` in minutes (fractional when seconds are involved)."""
    return business_time_between(start, end, hours) / timedelta(minutes=1)


def _to_us(moment: datetime) -> int:
    t = (moment - _EPOCH) // _US
    if not _FIRST_US <= t <= _LAST_US:
        raise InvalidInput(f"time {moment.isoformat()} is out of range (years 1 to 9999)")
    return t


def _from_us(t: int) -> datetime:
    return _EPOCH + timedelta(microseconds=t)


def _offset(zone: tzinfo, t: int) -> int:
    # Whole seconds suffice (tz database offsets change on whole seconds) and are faster.
    offset = datetime.fromtimestamp(t // _US_PER_SECOND, zone).utcoffset()
    return 0 if offset is None else offset // _US


def _stretch_end(zone: tzinfo, t: int, offset: int, limit: int) -> int:
    """The first instant in (t, limit] where the zone's offset is no longer `offset`, else
    `limit`. Probes daily, then bisects inside the day where a probe differs."""
    low = t  # the offset at `low` is `offset`
    while True:
        high = min(low + _PROBE_US, limit - 1)
        if high <= low:
            return limit
        if _offset(zone, high) != offset:
            while high - low > 1:  # invariant: `offset` at low, another offset at high
                middle = (low + high) // 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            return high
        low = high


def _walk(hours: BusinessHours, t: int, limit: int, budget: int) -> tuple[int, int, bool]:
    """Walk business time forward from `t` (µs since the epoch) until `budget` µs of it are
    used up or `limit` is reached.

    Returns (position, consumed, reached): with `reached`, position is the earliest instant in
    business hours (or at a window's end) with `budget` consumed since `t` — for budget 0 the
    next opening; without, position is `limit` and consumed all business time in [t, limit)."""
    consumed = 0
    chunk = _FIRST_CHUNK_US
    while t < limit:
        offset = _offset(hours.zone, t)
        end = _stretch_end(hours.zone, t, offset, min(limit, t + chunk))
        chunk = min(2 * chunk, _CHUNK_US)
        position, used, reached = _walk_stretch(hours, t, end, offset, budget - consumed)
        consumed += used
        if reached:
            return position, consumed, True
        t = end
    return limit, consumed, False


def _walk_stretch(
    hours: BusinessHours, t: int, end: int, offset: int, budget: int
) -> tuple[int, int, bool]:
    """`_walk` over [t, end), where the zone's UTC offset is constantly `offset`, so the wall
    clock reads t + offset and each local day's windows map to one real interval each."""
    week = hours.week
    weekly = hours.weekly_minutes * _US_PER_MINUTE
    holiday_days = hours._holiday_days
    holiday_set = hours._holiday_set
    consumed = 0
    day = (t + offset) // _US_PER_DAY
    while True:
        day_start = day * _US_PER_DAY - offset
        if day_start >= end:
            return end, consumed, False
        if day_start >= t and budget - consumed > weekly > 0:
            # Whole weeks that lie inside the stretch, contain no holiday and leave some
            # budget over (so the due instant is found window by window) are taken at once.
            whole_days = (end + offset) // _US_PER_DAY - day
            weeks = min((budget - consumed - 1) // weekly, whole_days // 7)
            next_holiday = bisect_left(holiday_days, day)
            if next_holiday < len(holiday_days):
                weeks = min(weeks, (holiday_days[next_holiday] - day) // 7)
            if weeks > 0:
                consumed += weeks * weekly
                day += 7 * weeks
                continue
        if day not in holiday_set:
            for window in week[(day + _EPOCH_WEEKDAY) % 7]:
                opens = max(day_start + window.start * _US_PER_MINUTE, t)
                closes = min(day_start + window.end * _US_PER_MINUTE, end)
                if closes <= opens:
                    continue
                if budget - consumed <= closes - opens:
                    return opens + budget - consumed, budget, True
                consumed += closes - opens
        day += 1
