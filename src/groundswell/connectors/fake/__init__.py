"""The built-in ``fake`` connector: a seeded, deterministic generator of posts from a scenario
(brand, products, personas, rates by hour of week, injected incidents). See README.md."""

from groundswell.connectors.fake.generate import generate
from groundswell.connectors.fake.scenario import Incident, Scenario, ScenarioError, load_scenario

__all__ = ["Incident", "Scenario", "ScenarioError", "generate", "load_scenario"]
