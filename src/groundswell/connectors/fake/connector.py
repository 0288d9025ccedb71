"""The ``fake`` connector as a `PullSource`: the posts a scenario generates between the cursor
and now (or the ``until`` option), in order, at most ``batch`` a fetch.

The cursor is ``<minute instant>#<sequence>``: the one-minute slot to continue from and how
many of its posts were already given. Posts of a slot depend only on the scenario, the seed and
the slot, so a restart from a saved cursor continues with no gap and no duplicate, and the
same seed and window always give the same posts.

Options (all optional): ``scenario`` (a .toml/.json file, or a bundled name; default
``demo``), ``seed`` (integer; default the scenario's), ``start`` (ISO 8601 instant of the
first fetch; default: now), ``until`` (ISO 8601: generate up to there whatever the clock
says), ``batch`` (posts per fetch, default 1000).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta

import httpx

from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.fake.generate import Generator, slot_of, slot_start
from groundswell.connectors.fake.parse import FORMAT, parse_record
from groundswell.connectors.fake.scenario import Scenario, ScenarioError, load_scenario
from groundswell.connectors.http import SourceUnavailable
from groundswell.kernel.clock import Clock, SystemClock

DEFAULT_BATCH = 1000
MAX_BATCH = 10_000
MAX_SLOTS_PER_FETCH = 7 * 24 * 60  # a quiet week at most, so one fetch never runs for long
LIVE_WAIT_SECONDS = 5.0  # caught up with the clock: ask again soon
DONE_WAIT_SECONDS = 3600.0  # caught up with `until`: nothing more will come


class FakeConnector:
    """Generated posts. `clock` decides what "now" is (tests pass a `FrozenClock`)."""

    name = "fake"
    capabilities = Capabilities(
        pulls=True,
        options=("scenario", "seed", "start", "until", "batch"),
    )

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self._generators: dict[tuple[str, int | None], Generator] = {}

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_record(record)

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        """The next posts after `cursor`, up to now (or ``until``). `client` is not used."""
        options = config.options
        generator = self._generator(options.get("scenario", "demo"), _int(options, "seed"))
        now = self.clock.now()
        end = _instant(options, "until") or now
        limit = _int(options, "batch")
        limit = DEFAULT_BATCH if limit is None else limit
        if not 1 <= limit <= MAX_BATCH:
            raise SourceUnavailable(f"fake: option batch must be 1 to {MAX_BATCH}")
        if cursor is None:
            start = _instant(options, "start") or now
            slot, done = slot_of(start), 0
            skip_before: datetime | None = start
        else:
            slot, done = parse_cursor(cursor)
            skip_before = None
        records: list[RawRecord] = []
        last_slot = min(slot_of(end), slot + MAX_SLOTS_PER_FETCH)
        caught_up = False
        while slot <= last_slot and len(records) < limit:
            posts = generator.slot(slot)
            while done < len(posts) and len(records) < limit:
                post = posts[done]
                if post.created_at >= end:
                    break
                done += 1
                if skip_before is not None and post.created_at < skip_before:
                    continue
                payload = json.dumps(post.data, ensure_ascii=False).encode()
                records.append(RawRecord(payload, len(records) + 1, FORMAT))
            if slot_start(slot) + timedelta(minutes=1) > end:
                caught_up = len(records) < limit or done == len(posts)
                break  # the rest of this minute is still to come
            if done < len(posts):
                break  # the batch is full
            slot, done, skip_before = slot + 1, 0, None
        wait = None
        if caught_up:
            wait = DONE_WAIT_SECONDS if "until" in options else LIVE_WAIT_SECONDS
        return Batch(records=tuple(records), cursor=format_cursor(slot, done), wait_seconds=wait)

    def _generator(self, scenario: str, seed: int | None) -> Generator:
        key = (scenario, seed)
        generator = self._generators.get(key)
        if generator is None:
            try:
                loaded: Scenario = load_scenario(scenario)
            except (ScenarioError, OSError) as exc:
                raise SourceUnavailable(f"fake: cannot use scenario {scenario!r}: {exc}") from exc
            generator = self._generators[key] = Generator(loaded, seed)
        return generator


def format_cursor(slot: int, done: int) -> str:
    return f"{slot_start(slot).isoformat()}#{done}"


def parse_cursor(cursor: str) -> tuple[int, int]:
    """(slot, posts of it already given) from a cursor; `SourceUnavailable` when unreadable."""
    instant, _, seq = cursor.rpartition("#")
    try:
        at = datetime.fromisoformat(instant)
        done = int(seq)
    except ValueError:
        raise SourceUnavailable(f"fake: unreadable cursor {cursor[:60]!r}") from None
    if at.tzinfo is None or done < 0:
        raise SourceUnavailable(f"fake: unreadable cursor {cursor[:60]!r}")
    return slot_of(at), done


def _int(options: Mapping[str, str], key: str) -> int | None:
    value = options.get(key)
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise SourceUnavailable(f"fake: option {key} must be an integer") from None


def _instant(options: Mapping[str, str], key: str) -> datetime | None:
    value = options.get(key)
    if value in (None, ""):
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise SourceUnavailable(f"fake: option {key} must be an ISO 8601 instant") from None
    if at.tzinfo is None:
        raise SourceUnavailable(f"fake: option {key} needs a time zone (e.g. Z)")
    return at
