"""The deterministic generator behind the ``fake`` connector.

Time is cut into one-minute slots. The posts of a slot depend only on the scenario, the seed
and the slot (its own `random.Random`), so any window gives the same posts as the windows it
is cut into: ``generate(s, a, c)`` == ``generate(s, a, b)`` + ``generate(s, b, c)``. Within a
slot the posts are ordered by time; a post's position in its slot is its sequence number.

Each post is a dict in the files format (docs/files-format.md) plus three fields the pipeline
ignores but a drill can check against: ``intent``, ``persona`` and ``incident`` (the topic of
the incident that caused it, or null).

Pure: standard library only, no clock.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from groundswell.connectors.fake.scenario import (
    NEGATIVE_INTENTS,
    OTHER_INCIDENT_INTENTS,
    Incident,
    Persona,
    Scenario,
    load_scenario,
)

SLOT = timedelta(minutes=1)
SLOT_SECONDS = 60
URL_BASE = "https://social.example"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def slot_of(instant: datetime) -> int:
    """The index of the minute holding `instant` (minutes since the Unix epoch)."""
    return math.floor(instant.timestamp() / SLOT_SECONDS)


def slot_start(slot: int) -> datetime:
    return EPOCH + timedelta(seconds=slot * SLOT_SECONDS)


def generate(
    scenario: Scenario | str | Path,
    start: datetime,
    end: datetime,
    seed: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The posts created in ``[start, end)``, oldest first, as files-format dicts. `scenario`
    is a `Scenario`, a scenario file, or a bundled scenario's name; `seed` defaults to the
    scenario's. The same scenario, seed and window always give the same posts."""
    generator = Generator(
        scenario if isinstance(scenario, Scenario) else load_scenario(scenario),
        seed,
    )
    _aware(start, "start")
    _aware(end, "end")
    for slot in range(slot_of(start), slot_of(end) + 1):
        for post in generator.slot(slot):
            if start <= post.created_at < end:
                yield post.data


def _aware(value: datetime, name: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone)")


@dataclass(frozen=True, slots=True)
class FakePost:
    created_at: datetime
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Author:
    handle: str
    name: str
    followers: int
    verified: bool


class Generator:
    """Posts of a scenario, slot by slot. Keeps each author's followers once drawn."""

    def __init__(self, scenario: Scenario, seed: int | None = None) -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self._zone = scenario.zone()
        self._authors: dict[str, _Author] = {}
        self._persona_weights = [p.weight for p in scenario.personas]
        self._hashtags = scenario.brand.hashtags

    # -- rates --------------------------------------------------------------------------------

    def base_rate(self, instant: datetime) -> float:
        """Expected posts per minute at `instant`, without incidents."""
        rates = self.scenario.rates
        local = instant.astimezone(self._zone)
        weeks = (instant - rates.trend_from).total_seconds() / (7 * 86400)
        trend = (1.0 + rates.trend_per_week) ** weeks if rates.trend_per_week else 1.0
        if rates.hour_of_week is not None:
            shape = rates.hour_of_week[local.weekday() * 24 + local.hour]
        else:
            shape = rates.hour_of_day[local.hour] * rates.day_of_week[local.weekday()]
        return rates.per_hour / 60.0 * shape * trend

    def active_incidents(self, instant: datetime) -> list[Incident]:
        return [i for i in self.scenario.incidents if i.start <= instant < i.end]

    # -- one slot -----------------------------------------------------------------------------

    def slot(self, slot: int) -> list[FakePost]:
        """The posts of minute `slot`, ordered by time (ties: by draw order)."""
        rng = random.Random(f"{self.seed}:{slot}")  # noqa: S311 - simulation, not secrets
        begin = slot_start(slot)
        base = self.base_rate(begin)
        plan: list[Incident | None] = [None] * _poisson(rng, base)
        for incident in self.active_incidents(begin):
            plan += [incident] * _poisson(rng, base * (incident.multiplier - 1.0))
        drawn = [(rng.randrange(SLOT_SECONDS * 1000), cause) for cause in plan]
        drawn.sort(key=lambda item: item[0])
        return [
            self._post(rng, slot, seq, begin + timedelta(milliseconds=ms), cause)
            for seq, (ms, cause) in enumerate(drawn)
        ]

    def _post(
        self, rng: random.Random, slot: int, seq: int, at: datetime, cause: Incident | None
    ) -> FakePost:
        scenario = self.scenario
        persona = rng.choices(scenario.personas, self._persona_weights)[0]
        author = self._author(persona, rng.randrange(persona.authors))
        lang = _pick(rng, persona.languages)
        by_intent = scenario.templates[lang]
        if cause is None:
            intent = _pick(rng, persona.intents)
            term = rng.choice(scenario.brand.products)
            sentences = [rng.choice(by_intent[intent])]
        else:
            negative = rng.random() < cause.negative_share
            intent = _pick(rng, NEGATIVE_INTENTS if negative else OTHER_INCIDENT_INTENTS)
            term = rng.choice(cause.terms)
            sentences = [rng.choice(scenario.incident_templates[lang])]
            if rng.random() < 0.6:
                sentences.append(rng.choice(by_intent[intent]))
        if rng.random() < 0.3:
            sentences.append(rng.choice(by_intent[intent]))
        extras = scenario.extras.get(lang, ())
        if extras and rng.random() < 0.3:
            sentences.append(rng.choice(extras))
        if self._hashtags and rng.random() < 0.15:
            sentences.append("#" + rng.choice(self._hashtags).lstrip("#"))
        text = " ".join(
            dict.fromkeys(self._fill(rng, s, term) for s in sentences)  # no sentence twice
        )
        post_id = f"{slot}-{seq}"
        data: dict[str, Any] = {
            "id": post_id,
            "text": text,
            "created_at": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "author": {
                "handle": author.handle,
                "name": author.name,
                "followers": author.followers,
                "verified": author.verified,
            },
            "lang": lang,
            "url": f"{URL_BASE}/@{author.handle}/{post_id}",
            "intent": intent,
            "persona": persona.name,
            "incident": None if cause is None else cause.topic,
        }
        if intent == "spam":
            data["links"] = [f"https://deals.example/{rng.randrange(10**6):06d}"]
        metrics = {"likes": int(rng.expovariate(1.0) * (1 + author.followers) ** 0.5)}
        data["metrics"] = metrics
        return FakePost(at, data)

    def _fill(self, rng: random.Random, sentence: str, term: str) -> str:
        brand = self.scenario.brand
        values = {
            "brand": brand.name,
            "handle": "@" + brand.handle,
            "product": rng.choice(brand.products),
            "n": str(rng.randint(2, 48)),
            "term": term,
            "hashtag": "#" + rng.choice(self._hashtags).lstrip("#") if self._hashtags else "",
        }
        try:
            return sentence.format_map(values)
        except (KeyError, ValueError, IndexError):
            return sentence  # a template with a stray brace is kept as written

    def _author(self, persona: Persona, index: int) -> _Author:
        handle = f"{persona.handle_prefix}{index}"
        author = self._authors.get(handle)
        if author is None:
            rng = random.Random(f"{self.seed}:author:{handle}")  # noqa: S311 - simulation
            followers = persona.followers_median * math.exp(
                persona.followers_sigma * rng.gauss(0.0, 1.0)
            )
            author = _Author(
                handle=handle,
                name=f"{persona.name.title()} {index}",
                followers=int(followers),
                verified=rng.random() < persona.verified_share,
            )
            self._authors[handle] = author
        return author


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    names: Sequence[str] = list(weights)
    return rng.choices(names, [weights[n] for n in names])[0]


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw: Knuth's product method for small means, a rounded normal beyond."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k
