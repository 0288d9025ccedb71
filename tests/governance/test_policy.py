"""Policy documents: the shipped starter policy, validation errors, the schema, diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from groundswell.governance.policy import (
    DisclosureRule,
    PersonalDataRule,
    TermsRule,
    diff_policies,
    dump_policy,
    load_policy,
    parse_policy,
    policy_json_schema,
    starter_policy,
)
from groundswell.kernel.errors import InvalidInput

ROOT = Path(__file__).resolve().parents[2]


def test_starter_policy_covers_every_guideline() -> None:
    policy = starter_policy()
    assert policy.version == "1.0.0"
    assert policy.major == 1
    guidelines = {rule.guideline for rule in policy.rules}
    for guideline in ("intellectual_property", "privacy", "confidentiality", "respect",
                      "disclosure", "legal"):  # fmt: skip
        assert guideline in guidelines
    kinds = {type(rule) for rule in policy.rules}
    assert {TermsRule, PersonalDataRule, DisclosureRule} <= kinds
    assert {"x", "mastodon", "bluesky", "linkedin", "instagram"} <= set(policy.networks)


def test_starter_policy_rule_ids_are_documented() -> None:
    doc = (ROOT / "docs" / "starter-policy.md").read_text()
    for rule in starter_policy().rules:
        assert f"`{rule.id}`" in doc, rule.id


def test_dump_round_trips() -> None:
    policy = starter_policy()
    assert parse_policy(dump_policy(policy)) == policy


def test_validation_errors_name_the_place(tmp_path: Path) -> None:
    data = json.loads(dump_policy(starter_policy()))
    data["rules"][0]["severity"] = "fatal"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInput, match=r"p\.json: rules\.0\.terms\.severity"):
        load_policy(path)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"id": "x", "kind": "pattern", "severity": "warn", "message": "m", "pattern": "("},
         "not a valid regular expression"),
        ({"id": "x", "kind": "terms", "severity": "warn", "message": "m", "terms": ["*"]},
         "at least one character"),
        ({"id": "x", "kind": "personal_data", "message": "m", "types": {"dna": "block"}},
         "unknown personal data type"),
        ({"id": "Bad Id", "kind": "terms", "severity": "warn", "message": "m", "terms": ["a"]},
         "pattern"),
    ],
)  # fmt: skip
def test_bad_rules_are_refused(rule: dict[str, object], message: str) -> None:
    document = json.dumps({"name": "p", "version": "1.0.0", "rules": [rule]})
    with pytest.raises(InvalidInput, match=message):
        parse_policy(document)


def test_duplicate_rule_ids_are_refused() -> None:
    rule = {"id": "a", "kind": "terms", "severity": "warn", "message": "m", "terms": ["x"]}
    document = json.dumps({"name": "p", "version": "1.0.0", "rules": [rule, rule]})
    with pytest.raises(InvalidInput, match="duplicate rule id 'a'"):
        parse_policy(document)


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="Cannot read policy file"):
        load_policy(tmp_path / "missing.json")


def test_schema_describes_the_rule_kinds() -> None:
    schema = policy_json_schema()
    assert schema["title"] == "Policy"
    text = json.dumps(schema)
    for kind in ("terms", "pattern", "personal_data", "links", "disclosure"):
        assert f'"{kind}"' in text


def test_diff_lists_what_changed() -> None:
    old = starter_policy()
    data = json.loads(dump_policy(old))
    data["version"] = "2.0.0"
    data["rules"] = [r for r in data["rules"] if r["id"] != "competitors.mentions"]
    data["rules"][0]["terms"].append("newslur")
    data["rules"].append(
        {"id": "extra.rule", "kind": "terms", "severity": "info", "message": "m", "terms": ["q"]}
    )
    data["networks"]["x"]["max_chars"] = 25000
    del data["networks"]["threads"]
    data["networks"]["tiktok"] = {"max_chars": 2200}
    new = parse_policy(json.dumps(data))
    assert diff_policies(old, new) == [
        "version 1.0.0 -> 2.0.0",
        "- rule competitors.mentions",
        "+ rule extra.rule",
        "~ rule respect.slurs: terms",
        "- network threads",
        "+ network tiktok",
        "~ network x",
    ]
    assert diff_policies(old, old) == []
