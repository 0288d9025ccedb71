"""The ``fake`` connector: a deterministic generator (same seed and window, same posts; any
window is the sum of its parts), shaped by the scenario (rates by hour, personas, languages,
intents, incidents), and a `PullSource` whose cursor resumes with no gap and no duplicate."""

from __future__ import annotations

import itertools
import json
import re
import tomllib
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from groundswell.connectors import registry
from groundswell.connectors.contract import PullSource, RawRecord, SourceConfig
from groundswell.connectors.fake import Incident, ScenarioError, generate, load_scenario
from groundswell.connectors.fake.connector import FakeConnector, parse_cursor
from groundswell.connectors.fake.scenario import INTENTS, scenario_from_dict
from groundswell.connectors.http import SourceUnavailable
from groundswell.kernel.clock import FrozenClock

FOLDER = Path(__file__).parents[2] / "src/groundswell/connectors/fake"
GOLDEN = FOLDER / "fixtures/demo_seed7_2026-11-02T0900Z_2min.jsonl"
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Madrid


def _client() -> httpx.Client:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError("the fake connector makes no request")

    return httpx.Client(transport=httpx.MockTransport(refuse))


def test_the_same_seed_and_window_give_the_captured_posts() -> None:
    expected = [json.loads(line) for line in GOLDEN.read_text(encoding="utf-8").splitlines()]
    assert list(generate("demo", T0, T0 + timedelta(minutes=2), seed=7)) == expected
    assert len(expected) > 20


def test_any_window_is_the_sum_of_its_parts() -> None:
    end = T0 + timedelta(hours=2)
    whole = list(generate("demo", T0, end))
    cuts = [T0, T0 + timedelta(seconds=61.5), T0 + timedelta(minutes=47, seconds=3), end]
    parts = [p for a, b in itertools.pairwise(cuts) for p in generate("demo", a, b)]
    assert parts == whole
    assert len({p["id"] for p in whole}) == len(whole)
    instants = [p["created_at"] for p in whole]
    assert instants == sorted(instants)


def test_another_seed_gives_other_posts() -> None:
    a = [p["text"] for p in generate("demo", T0, T0 + timedelta(minutes=10), seed=1)]
    b = [p["text"] for p in generate("demo", T0, T0 + timedelta(minutes=10), seed=2)]
    assert a != b


def test_generated_posts_are_files_format_and_parse() -> None:
    connector = FakeConnector()
    for i, post in enumerate(generate("demo", T0, T0 + timedelta(minutes=5))):
        parsed = connector.parse(RawRecord(json.dumps(post).encode(), i + 1, "jsonl"))
        assert parsed.external_id == post["id"]
        assert parsed.text == post["text"]
        assert parsed.created_at is not None
        assert parsed.created_at >= T0
        assert parsed.author_handle == post["author"]["handle"]
        assert "{" not in parsed.text, "every placeholder is filled"


def test_a_day_follows_the_hour_of_day_profile_and_uses_every_intent_and_language() -> None:
    posts = list(generate("demo", T0, T0 + timedelta(days=1)))
    by_hour = Counter(datetime.fromisoformat(p["created_at"]).hour for p in posts)
    # Madrid is UTC+1 in November: 03:00 local (0.1) is far quieter than 19:00 local (1.55).
    assert by_hour[2] * 5 < by_hour[18]
    intents = Counter(p["intent"] for p in posts)
    assert set(intents) == set(INTENTS)
    assert intents["neutral"] > intents["legal"]
    assert {p["lang"] for p in posts} == {"en", "es", "fr", "de", "pt"}
    spam = [p for p in posts if p["intent"] == "spam"]
    assert spam
    assert all(p["links"] for p in spam)
    assert all(p["persona"] == "spammer" for p in spam)
    # An author keeps the same followers across posts.
    followers: dict[str, set[int]] = {}
    for p in posts:
        followers.setdefault(p["author"]["handle"], set()).add(p["author"]["followers"])
    assert all(len(v) == 1 for v in followers.values())


def test_an_injected_incident_multiplies_volume_with_its_terms_and_negative_share() -> None:
    base = load_scenario("demo")
    incident = Incident(
        start=T0 + timedelta(hours=1),
        hours=1,
        multiplier=6,
        topic="app outage",
        terms=("app down", "cannot log in"),
        negative_share=0.9,
    )
    scenario = base.with_incident(incident)
    before = list(generate(scenario, T0, T0 + timedelta(hours=1)))
    during = list(generate(scenario, T0 + timedelta(hours=1), T0 + timedelta(hours=2)))
    assert len(during) > 4 * len(before)
    # Outside the incident nothing changes.
    assert before == list(generate(base, T0, T0 + timedelta(hours=1)))
    caused = [p for p in during if p["incident"] == "app outage"]
    assert len(caused) > 0.7 * len(during)
    assert all("app down" in p["text"] or "cannot log in" in p["text"] for p in caused)
    negative = sum(p["intent"] in ("complaint", "churn", "safety", "legal") for p in caused)
    assert 0.85 < negative / len(caused) < 0.95


def test_a_scenario_in_json_is_the_same_as_in_toml(tmp_path: Path) -> None:
    data = tomllib.loads((FOLDER / "scenarios/demo.toml").read_text(encoding="utf-8"))
    path = tmp_path / "demo.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    window = (T0, T0 + timedelta(minutes=3))
    assert list(generate(path, *window)) == list(generate("demo", *window))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("brand"), "brand: expected a table"),
        (lambda d: d["rates"].update(hour_of_day=[1.0] * 23), "rates.hour_of_day: expected 24"),
        (lambda d: d["personas"][0]["languages"].update(it=1), "templates.it: missing"),
        (lambda d: d["personas"][0]["intents"].update(rant=1), "unknown name 'rant'"),
        (lambda d: d["templates"]["de"].pop("legal"), "templates.de.legal: missing"),
        (lambda d: d.update(timezone="Mars/Olympus"), "unknown time zone"),
        (
            lambda d: d.update(incidents=[{"start": "yesterday", "hours": 1, "multiplier": 2}]),
            "incidents[0].start: not ISO 8601",
        ),
    ],
)
def test_a_bad_scenario_names_the_field(change: Any, message: str) -> None:
    data = tomllib.loads((FOLDER / "scenarios/demo.toml").read_text(encoding="utf-8"))
    change(data)
    with pytest.raises(ScenarioError, match=re.escape(message)):
        scenario_from_dict(data)


def test_an_unknown_bundled_scenario_lists_the_bundled_ones() -> None:
    with pytest.raises(ScenarioError, match="bundled: demo"):
        load_scenario("nope")


# --- the PullSource ---------------------------------------------------------------------------


def _fetch_all(
    connector: FakeConnector, config: SourceConfig, cursor: str | None
) -> tuple[list[str], str | None]:
    ids: list[str] = []
    with _client() as client:
        while True:
            batch = connector.fetch(config, cursor, client=client)
            ids += [json.loads(r.payload)["id"] for r in batch.records]
            cursor = batch.cursor
            if batch.wait_seconds is not None:
                return ids, cursor


def test_is_registered_as_a_pull_source() -> None:
    connector = registry.get("fake")
    assert isinstance(connector, PullSource)
    assert connector.capabilities.pulls


def test_fetch_follows_the_clock_and_resumes_after_a_restart_without_gap_or_duplicate() -> None:
    clock = FrozenClock(T0 + timedelta(minutes=1, seconds=30))
    config = SourceConfig(options={"start": T0.isoformat(), "batch": "7"})
    first = FakeConnector(clock)
    seen, cursor = _fetch_all(first, config, None)
    assert seen  # a minute and a half of posts, in batches of at most 7
    clock.advance(timedelta(minutes=20, seconds=7))
    # A restart: a new connector instance, from the saved cursor only.
    assert cursor is not None
    restarted = FakeConnector(clock)
    more, cursor = _fetch_all(restarted, config, cursor)
    expected = [p["id"] for p in generate("demo", T0, clock.now())]
    assert seen + more == expected
    assert len(set(seen + more)) == len(expected)
    # Nothing new until time moves.
    again, _ = _fetch_all(restarted, config, cursor)
    assert again == []


def test_until_bounds_the_window_whatever_the_clock() -> None:
    clock = FrozenClock(T0 + timedelta(days=30))
    until = T0 + timedelta(minutes=5)
    config = SourceConfig(
        options={"start": T0.isoformat(), "until": until.isoformat(), "seed": "3"}
    )
    with _client() as client:
        batch = FakeConnector(clock).fetch(config, None, client=client)
    ids = [json.loads(r.payload)["id"] for r in batch.records]
    assert ids == [p["id"] for p in generate("demo", T0, until, seed=3)]
    assert batch.wait_seconds == 3600
    assert parse_cursor(batch.cursor or "")[0] == int(until.timestamp() // 60)


def test_bad_options_make_the_source_unavailable_with_a_reason() -> None:
    with _client() as client:
        for options, message in [
            ({"scenario": "nope"}, "cannot use scenario 'nope'"),
            ({"start": "soon"}, "option start must be an ISO 8601 instant"),
            ({"batch": "0"}, "option batch must be 1 to"),
        ]:
            with pytest.raises(SourceUnavailable, match=message):
                FakeConnector().fetch(SourceConfig(options=options), None, client=client)
        with pytest.raises(SourceUnavailable, match="unreadable cursor"):
            FakeConnector().fetch(SourceConfig(), "garbage", client=client)


def test_an_hour_of_week_profile_replaces_the_day_and_hour_profiles() -> None:
    data = tomllib.loads((FOLDER / "scenarios/demo.toml").read_text(encoding="utf-8"))
    profile = [0.0] * 168
    profile[10] = 1.0  # Monday 10:00-11:00 local (Madrid) only
    data["rates"]["hour_of_week"] = profile
    scenario = scenario_from_dict(data)
    posts = list(generate(scenario, T0 - timedelta(hours=2), T0 + timedelta(days=1)))
    assert posts
    assert {datetime.fromisoformat(p["created_at"]).hour for p in posts} == {9}  # 10:00 +01:00
    data["rates"]["hour_of_week"] = [1.0] * 24
    with pytest.raises(ScenarioError, match="expected 168 numbers"):
        scenario_from_dict(data)
