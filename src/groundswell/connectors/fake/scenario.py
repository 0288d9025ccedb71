"""Scenarios of the ``fake`` connector: who posts about which brand, in which languages, with
which intents, how often by hour of the week, and which incidents break out. Read from a TOML
or JSON file (the format is documented in this folder's README.md), or built in Python:

    scenario = load_scenario("demo").with_incident(
        Incident(start=datetime(2026, 11, 2, 9, tzinfo=UTC), hours=6, multiplier=8,
                 topic="outage", terms=("app down", "cannot log in"), negative_share=0.85)
    )

Pure: standard library only, no clock, no I/O except `load_scenario`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

INTENTS = (
    "complaint",
    "question",
    "praise",
    "suggestion",
    "purchase_intent",
    "churn",
    "safety",
    "legal",
    "spam",
    "neutral",
)
# Intents an incident's negative posts are drawn from, with their weights.
NEGATIVE_INTENTS = {"complaint": 6.0, "churn": 2.0, "safety": 1.0, "legal": 1.0}
OTHER_INCIDENT_INTENTS = {"question": 3.0, "neutral": 1.0}
SCENARIOS_DIR = Path(__file__).parent / "scenarios"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the field."""


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    handle: str
    products: tuple[str, ...]
    hashtags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rates:
    """Mean posts per hour, shaped by a 24-hour profile (local hours) times a 7-day profile
    (Monday first), or by a full 168-hour `hour_of_week` profile (Monday 00:00 first) when
    given, and a slow exponential trend (`trend_per_week`: 0.05 = +5 % a week, counted from
    `trend_from`)."""

    per_hour: float
    hour_of_day: tuple[float, ...] = (1.0,) * 24
    day_of_week: tuple[float, ...] = (1.0,) * 7
    hour_of_week: tuple[float, ...] | None = None
    trend_per_week: float = 0.0
    trend_from: datetime = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Persona:
    """A kind of author. `authors` distinct handles ``<handle_prefix><n>``; followers drawn
    once per author from a log-normal law (median, sigma)."""

    name: str
    weight: float
    handle_prefix: str
    authors: int
    followers_median: float
    followers_sigma: float
    verified_share: float
    languages: Mapping[str, float]
    intents: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class Incident:
    """From `start`, for `hours`, the rate is multiplied by `multiplier`; the extra posts are
    about `topic` (each names one of `terms`), and `negative_share` of them are negative
    (complaint, churn, safety, legal)."""

    start: datetime
    hours: float
    multiplier: float
    topic: str
    terms: tuple[str, ...]
    negative_share: float = 0.8

    @property
    def end(self) -> datetime:
        return self.start + timedelta(hours=self.hours)


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    brand: Brand
    rates: Rates
    personas: tuple[Persona, ...]
    # language -> intent -> sentences with {brand} {handle} {product} {n} {term} {hashtag}
    templates: Mapping[str, Mapping[str, tuple[str, ...]]]
    # language -> sentences about an incident, each with {term}
    incident_templates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # language -> short additions (greetings, emoji, sign-offs) sometimes appended
    extras: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    incidents: tuple[Incident, ...] = ()
    timezone: str = "UTC"
    seed: int = 0

    def with_incident(self, incident: Incident) -> Scenario:
        """This scenario plus one more incident."""
        return replace(self, incidents=(*self.incidents, incident))

    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# --- loading ---------------------------------------------------------------------------------


def load_scenario(location: str | Path) -> Scenario:
    """A scenario from a ``.toml`` or ``.json`` file, or a bundled one by name (``demo``).
    Raises `ScenarioError` (bad content) or `OSError` (unreadable file)."""
    path = Path(location)
    if not path.suffix and not path.exists():
        path = SCENARIOS_DIR / f"{location}.toml"
        if not path.exists():
            bundled = ", ".join(sorted(p.stem for p in SCENARIOS_DIR.glob("*.toml")))
            raise ScenarioError(f"No scenario file {location!r}; bundled: {bundled}.")
    raw = path.read_bytes()
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path.name}: cannot read: {exc}") from None
    return scenario_from_dict(data, default_name=path.stem)


def scenario_from_dict(data: Mapping[str, Any], *, default_name: str = "scenario") -> Scenario:
    """Check a decoded scenario document and build the `Scenario`."""
    if not isinstance(data, Mapping):
        raise ScenarioError("a scenario is an object (a TOML document or a JSON object)")
    brand_data = _table(data, "brand")
    brand = Brand(
        name=_str(brand_data, "name", "brand.name"),
        handle=_str(brand_data, "handle", "brand.handle").lstrip("@"),
        products=_strs(brand_data, "products", "brand.products", required=True),
        hashtags=_strs(brand_data, "hashtags", "brand.hashtags"),
    )
    rates_data = _table(data, "rates")
    rates = Rates(
        per_hour=_number(rates_data, "per_hour", "rates.per_hour", minimum=0.0),
        hour_of_day=_profile(rates_data, "hour_of_day", 24),
        day_of_week=_profile(rates_data, "day_of_week", 7),
        hour_of_week=_profile(rates_data, "hour_of_week", 168)
        if "hour_of_week" in rates_data
        else None,
        trend_per_week=float(rates_data.get("trend_per_week", 0.0)),
        trend_from=_instant(rates_data.get("trend_from", "2026-01-01T00:00:00Z"), "trend_from"),
    )
    personas_data = data.get("personas")
    if not isinstance(personas_data, list) or not personas_data:
        raise ScenarioError("personas: expected a non-empty list of personas")
    personas = tuple(_persona(p, i) for i, p in enumerate(personas_data))
    templates = _templates(data.get("templates"))
    incident_templates = {
        lang: _strs({"t": v}, "t", f"incident_templates.{lang}", required=True)
        for lang, v in _table(data, "incident_templates", required=False).items()
    }
    extras = {
        lang: _strs({"t": v}, "t", f"extras.{lang}")
        for lang, v in _table(data, "extras", required=False).items()
    }
    incidents_data = data.get("incidents", [])
    if not isinstance(incidents_data, list):
        raise ScenarioError("incidents: expected a list")
    scenario = Scenario(
        name=str(data.get("name", default_name)),
        brand=brand,
        rates=rates,
        personas=personas,
        templates=templates,
        incident_templates=incident_templates,
        extras=extras,
        incidents=tuple(_incident(x, i) for i, x in enumerate(incidents_data)),
        timezone=str(data.get("timezone", "UTC")),
        seed=int(data.get("seed", 0)),
    )
    check(scenario)
    return scenario


def check(scenario: Scenario) -> None:
    """Raise `ScenarioError` when the scenario cannot generate: every language a persona
    writes needs a sentence for every intent it uses (and incident sentences when the
    scenario has incidents)."""
    try:
        scenario.zone()
    except (ZoneInfoNotFoundError, ValueError):
        raise ScenarioError(f"timezone: unknown time zone {scenario.timezone!r}") from None
    for persona in scenario.personas:
        for lang in persona.languages:
            by_intent = scenario.templates.get(lang)
            if by_intent is None:
                raise ScenarioError(f"templates.{lang}: missing (persona {persona.name!r})")
            for intent, weight in persona.intents.items():
                if weight > 0 and not by_intent.get(intent):
                    raise ScenarioError(
                        f"templates.{lang}.{intent}: missing (persona {persona.name!r})"
                    )
    langs = {lang for p in scenario.personas for lang in p.languages}
    for incident in scenario.incidents:
        if not incident.terms:
            raise ScenarioError(f"incident {incident.topic!r}: terms: expected at least one")
        for lang in langs:
            if not scenario.incident_templates.get(lang):
                raise ScenarioError(f"incident_templates.{lang}: missing (scenario has incidents)")
            for intent in (*NEGATIVE_INTENTS, *OTHER_INCIDENT_INTENTS):
                if not scenario.templates[lang].get(intent):
                    raise ScenarioError(f"templates.{lang}.{intent}: missing (used by incidents)")


def _persona(data: Any, index: int) -> Persona:
    where = f"personas[{index}]"
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: expected a table")
    followers = _table(data, "followers", where=where, required=False)
    languages = _weights(data.get("languages"), f"{where}.languages", set())
    intents = _weights(data.get("intents"), f"{where}.intents", set(INTENTS))
    authors = data.get("authors", 1000)
    if isinstance(authors, bool) or not isinstance(authors, int) or authors < 1:
        raise ScenarioError(f"{where}.authors: expected a positive integer")
    return Persona(
        name=_str(data, "name", f"{where}.name"),
        weight=_number(data, "weight", f"{where}.weight", minimum=0.0, default=1.0),
        handle_prefix=str(data.get("handle_prefix", _str(data, "name", where))),
        authors=authors,
        followers_median=_number(followers, "median", f"{where}.followers.median", 0.0, 100.0),
        followers_sigma=_number(followers, "sigma", f"{where}.followers.sigma", 0.0, 1.0),
        verified_share=_number(data, "verified_share", f"{where}.verified_share", 0.0, 0.0),
        languages=languages,
        intents=intents,
    )


def _incident(data: Any, index: int) -> Incident:
    where = f"incidents[{index}]"
    if not isinstance(data, Mapping):
        raise ScenarioError(f"{where}: expected a table")
    share = _number(data, "negative_share", f"{where}.negative_share", 0.0, 0.8)
    if share > 1:
        raise ScenarioError(f"{where}.negative_share: expected a number from 0 to 1")
    return Incident(
        start=_instant(data.get("start"), f"{where}.start"),
        hours=_number(data, "hours", f"{where}.hours", minimum=0.0),
        multiplier=_number(data, "multiplier", f"{where}.multiplier", minimum=1.0),
        topic=_str(data, "topic", f"{where}.topic"),
        terms=_strs(data, "terms", f"{where}.terms", required=True),
        negative_share=share,
    )


def _templates(data: Any) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(data, Mapping) or not data:
        raise ScenarioError("templates: expected a table of languages")
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for lang, by_intent in data.items():
        if not isinstance(by_intent, Mapping):
            raise ScenarioError(f"templates.{lang}: expected a table of intents")
        unknown = set(by_intent) - set(INTENTS)
        if unknown:
            raise ScenarioError(
                f"templates.{lang}: unknown intent {sorted(unknown)[0]!r}; "
                f"intents: {', '.join(INTENTS)}"
            )
        out[str(lang)] = {
            intent: _strs(by_intent, intent, f"templates.{lang}.{intent}", required=True)
            for intent in by_intent
        }
    return out


def _table(
    data: Mapping[str, Any], key: str, *, where: str = "", required: bool = True
) -> Mapping[str, Any]:
    value = data.get(key)
    label = f"{where}.{key}" if where else key
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{label}: expected a table")
    return value


def _str(data: Mapping[str, Any], key: str, label: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{label}: expected a non-empty string")
    return value.strip()


def _strs(
    data: Mapping[str, Any], key: str, label: str, *, required: bool = False
) -> tuple[str, ...]:
    value = data.get(key)
    if value is None and not required:
        return ()
    if (
        not isinstance(value, list)
        or not all(isinstance(x, str) and x.strip() for x in value)
        or (required and not value)
    ):
        raise ScenarioError(f"{label}: expected a list of non-empty strings")
    return tuple(value)


def _number(
    data: Mapping[str, Any],
    key: str,
    label: str,
    minimum: float = 0.0,
    default: float | None = None,
) -> float:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < minimum:
        raise ScenarioError(f"{label}: expected a number >= {minimum:g}")
    return float(value)


def _profile(data: Mapping[str, Any], key: str, size: int) -> tuple[float, ...]:
    value = data.get(key)
    if value is None:
        return (1.0,) * size
    if (
        not isinstance(value, list)
        or len(value) != size
        or not all(not isinstance(x, bool) and isinstance(x, int | float) and x >= 0 for x in value)
    ):
        raise ScenarioError(f"rates.{key}: expected {size} numbers >= 0")
    return tuple(float(x) for x in value)


def _weights(value: Any, label: str, allowed: set[str]) -> dict[str, float]:
    if not isinstance(value, Mapping) or not value:
        raise ScenarioError(f"{label}: expected a table of name = weight")
    out: dict[str, float] = {}
    for name, weight in value.items():
        if allowed and name not in allowed:
            raise ScenarioError(
                f"{label}: unknown name {name!r}; expected one of {sorted(allowed)}"
            )
        if isinstance(weight, bool) or not isinstance(weight, int | float) or weight < 0:
            raise ScenarioError(f"{label}.{name}: expected a weight >= 0")
        out[str(name)] = float(weight)
    if sum(out.values()) <= 0:
        raise ScenarioError(f"{label}: the weights add up to 0")
    return out


def _instant(value: Any, label: str) -> datetime:
    if isinstance(value, datetime):  # TOML offset date-times arrive parsed
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str):
        raise ScenarioError(f"{label}: expected an ISO 8601 instant")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ScenarioError(f"{label}: not ISO 8601: {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
