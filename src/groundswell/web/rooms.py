"""The nine rooms of the product, in navigation order, with the promise each one makes.
A room whose pages are not built yet shows an honest empty state, never fake data."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Room:
    slug: str
    title: str
    summary: str
    issue_hint: str
    # Parts of the room that already have pages, shown on its (otherwise empty) room page.
    built_parts: tuple[tuple[str, str], ...] = ()


ROOMS: tuple[Room, ...] = (
    Room(
        "listening",
        "Listening",
        "Hear what the public says about you, across networks, with nothing lost.",
        "Connect a source and write a listening query to see mentions here.",
        built_parts=(
            ("Stream", "/listening"),
            ("Saved searches", "/listening/queries"),
            ("Sources health", "/listening/sources"),
            ("Quarantine", "/listening/quarantine"),
        ),
    ),
    Room(
        "care",
        "Care",
        "Answer people fast: a shared inbox with routing and SLA clocks.",
        "Conversations appear here once listening brings in mentions.",
    ),
    Room(
        "governance",
        "Governance",
        "Decide who speaks for you: coordination model, roles, approvals, policy, brand accounts.",
        "Pick a coordination model and register your brand accounts here.",
        built_parts=(
            ("Coordination model", "/governance/model"),
            ("Units", "/governance/units"),
            ("Approvals", "/governance/approvals"),
            ("Brand accounts", "/governance/accounts"),
            ("Orphan risks", "/governance/accounts/orphans"),
            ("Hand-over", "/governance/accounts/handover"),
            ("Policy", "/governance/policy"),
            ("Guidelines training", "/governance/training"),
        ),
    ),
    Room(
        "crisis",
        "Crisis",
        "Spot spikes early and run incidents by playbook.",
        "Incidents and playbooks appear here.",
        built_parts=(
            ("Crisis room", "/crisis"),
            ("Incidents", "/crisis/incidents"),
            ("Stakeholders", "/crisis/stakeholders"),
        ),
    ),
    Room(
        "cocreation",
        "Co-creation",
        "Let your community suggest and vote on ideas, and tell them what became of them.",
        "Idea boards and polls appear here.",
    ),
    Room(
        "insights",
        "Insights",
        "Themes from conversations, routed to the departments that need them.",
        "Themes and digests appear here.",
    ),
    Room(
        "publishing",
        "Publishing",
        "Anyone drafts, the model decides who approves; a calendar and an advocacy library.",
        "Drafts, the calendar and the advocacy library appear here.",
    ),
    Room(
        "measurement",
        "Measurement",
        "Goals and KPIs computed from the data, and an honest follower-value model.",
        "Goals and KPI charts appear here.",
    ),
    Room(
        "readiness",
        "Readiness",
        "An honest audit of how ready the organization is, with a roadmap.",
        "Start the readiness assessment here.",
    ),
)
