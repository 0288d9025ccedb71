"""The social media policy as data: versioned rules an organization edits.

A policy is a JSON document validated by `Policy` (its JSON Schema: `policy_json_schema()`,
also `groundswell governance policy schema`). The starter policy ships in the package
(`starter_policy.json`, explained in ``docs/starter-policy.md``). Rules come in five kinds:

* ``terms``: words and phrases (blocked words, slurs, confidential code names, claims that need
  legal review, competitors), matched on word boundaries, ignoring case and accents, and
  seeing through light leetspeak (``sh1t``, ``@ss``) and stretched letters (``fuuuck``).
  A trailing ``*`` matches any word ending (``guarantee*``).
* ``pattern``: a regular expression over the original text (case-insensitive).
* ``personal_data``: the triage recognizers' spans (card and IBAN numbers are checksum
  validated), with a severity per type and an allow list (the organization's own contacts).
* ``links``: URLs whose host is not on (or under) an allowed domain.
* ``disclosure``: employee-advocacy posts must carry one of the tags (``#ad``, ``#employee``).

``networks`` sets per-network length and format limits, checked when a network is named.
"""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from groundswell.governance.domain import Severity
from groundswell.kernel.errors import InvalidInput
from groundswell.triage import PERSONAL_DATA_TYPES

STARTER_POLICY_FILE = "starter_policy.json"
_RULE_ID = r"^[a-z0-9][a-z0-9_.-]{0,79}$"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=_RULE_ID, description="Stable rule id, e.g. `respect.profanity`.")
    guideline: str = Field(
        default="", description="The guideline the rule enforces (privacy, respect, ...)."
    )
    severity: Severity = Field(description="block, warn or info.")
    message: str = Field(
        min_length=1,
        description="How to fix it. `{match}` is replaced by the matched text.",
    )


class TermsRule(_Rule):
    kind: Literal["terms"] = "terms"
    terms: list[str] = Field(description="Words or phrases; a trailing `*` matches any ending.")
    languages: list[str] = Field(default_factory=list, description="For people: ISO 639-1.")

    @field_validator("terms")
    @classmethod
    def _terms_not_blank(cls, terms: list[str]) -> list[str]:
        for term in terms:
            if not term.strip(" *"):
                raise ValueError("a term must contain at least one character other than '*'")
        return terms


class PatternRule(_Rule):
    kind: Literal["pattern"] = "pattern"
    pattern: str = Field(description="Python regular expression, matched case-insensitively.")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return pattern


class PersonalDataRule(_Rule):
    kind: Literal["personal_data"] = "personal_data"
    severity: Severity = Field(
        default=Severity.BLOCK, description="Severity for types not listed in `types`."
    )
    types: dict[str, Severity] = Field(
        default_factory=dict,
        description=f"Severity per type ({', '.join(PERSONAL_DATA_TYPES)}).",
    )
    allow: list[str] = Field(
        default_factory=list,
        description="Values that are fine to post: the organization's own contacts.",
    )

    @field_validator("types")
    @classmethod
    def _known_types(cls, types: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(types) - set(PERSONAL_DATA_TYPES))
        if unknown:
            raise ValueError(f"unknown personal data type(s): {', '.join(unknown)}")
        return types


class LinksRule(_Rule):
    kind: Literal["links"] = "links"
    allowed_domains: list[str] = Field(
        default_factory=list, description="Domains (and their subdomains) links may point to."
    )


class DisclosureRule(_Rule):
    kind: Literal["disclosure"] = "disclosure"
    tags: list[str] = Field(min_length=1, description="Any one of these tags discloses.")


Rule = Annotated[
    TermsRule | PatternRule | PersonalDataRule | LinksRule | DisclosureRule,
    Field(discriminator="kind"),
]


class NetworkLimits(BaseModel):
    """Length and format limits of one network. Severities: length `block` (the network would
    refuse or cut the text), counts `warn`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_chars: int = Field(gt=0)
    counting: Literal["chars", "x_weighted"] = Field(
        default="chars",
        description="`x_weighted`: X's rule, CJK and emoji count 2.",
    )
    url_length: int | None = Field(
        default=None, ge=1, description="Every link counts this many characters."
    )
    max_hashtags: int | None = Field(default=None, ge=0)
    max_mentions: int | None = Field(default=None, ge=0)
    max_links: int | None = Field(default=None, ge=0)
    links_clickable: bool = True


class Policy(BaseModel):
    """One version of the organization's social media policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(pattern=r"^\d+\.\d+\.\d+$", description="Semantic version.")
    rules: list[Rule]
    networks: dict[str, NetworkLimits] = Field(default_factory=dict)

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[Rule]) -> list[Rule]:
        seen: set[str] = set()
        for rule in rules:
            if rule.id in seen:
                raise ValueError(f"duplicate rule id {rule.id!r}")
            seen.add(rule.id)
        return rules

    @property
    def major(self) -> int:
        """The major version: a new major version asks people to attest again."""
        return int(self.version.split(".", 1)[0])


def parse_policy(data: str | bytes, source: str = "policy") -> Policy:
    """Validate a policy document; any problem raises `InvalidInput` naming where it is."""
    try:
        return Policy.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "document"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise InvalidInput(f"{source}: {where}: {first['msg']}{more}") from exc


def load_policy(path: Path) -> Policy:
    """Read a policy file: TOML (`.toml`, the friendliest to edit by hand) or JSON; both
    follow the JSON Schema printed by `groundswell policy schema`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"Cannot read policy file {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".toml":
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise InvalidInput(f"{path}: not valid TOML: {exc}") from exc
        return parse_policy(json.dumps(document).encode(), str(path))
    return parse_policy(data, str(path))


def starter_policy() -> Policy:
    """The starter policy shipped with Groundswell (an organization's first version)."""
    data = resources.files("groundswell.governance").joinpath(STARTER_POLICY_FILE).read_bytes()
    return parse_policy(data, STARTER_POLICY_FILE)


def policy_json_schema() -> dict[str, Any]:
    return Policy.model_json_schema()


def diff_policies(old: Policy, new: Policy) -> list[str]:
    """Human-readable changes from `old` to `new`, one line each, rules then networks."""
    changes: list[str] = []
    if old.version != new.version:
        changes.append(f"version {old.version} -> {new.version}")
    before = {rule.id: rule for rule in old.rules}
    after = {rule.id: rule for rule in new.rules}
    for rule_id in sorted(before.keys() | after.keys()):
        a, b = before.get(rule_id), after.get(rule_id)
        if a is None:
            changes.append(f"+ rule {rule_id}")
        elif b is None:
            changes.append(f"- rule {rule_id}")
        elif a != b:
            old_fields, new_fields = a.model_dump(), b.model_dump()
            keys = old_fields.keys() | new_fields.keys()
            fields = sorted(k for k in keys if old_fields.get(k) != new_fields.get(k))
            changes.append(f"~ rule {rule_id}: {', '.join(fields)}")
    for name in sorted(old.networks.keys() | new.networks.keys()):
        x, y = old.networks.get(name), new.networks.get(name)
        if x is None:
            changes.append(f"+ network {name}")
        elif y is None:
            changes.append(f"- network {name}")
        elif x != y:
            changes.append(f"~ network {name}")
    return changes


def dump_policy(policy: Policy) -> str:
    return json.dumps(policy.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"
