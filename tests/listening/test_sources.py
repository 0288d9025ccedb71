"""Configured sources: validation, secrets kept in the vault only, pause/resume/remove
audited, organization scoping."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from groundswell.connectors import registry
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    ConnectorPost,
    RawRecord,
    SourceConfig,
)
from groundswell.governance.vault import KeySource, Vault, generate_key
from groundswell.identity.domain import Role
from groundswell.kernel.audit import AuditEntry
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import Conflict, Forbidden, InvalidInput, NotFound
from groundswell.listening import sources
from groundswell.listening.tables import ListeningSource
from tests.builders import Person, make_org, make_user

SECRET = "tok-9f8e7d6c5b4a"


class FakePull:
    """A pull connector defined here (the real ones are tested with their own payloads)."""

    name = "fakepull"
    capabilities = Capabilities(
        pulls=True, options=("tag",), secrets=("token",), required=("tag", "token")
    )

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        return Batch(cursor=cursor)

    def parse(self, record: RawRecord) -> ConnectorPost:
        data = json.loads(record.payload)
        return ConnectorPost(external_id=data["id"], text=data["text"])


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = registry.get

    def get(name: str) -> Any:
        return FakePull() if name == "fakepull" else real(name)

    monkeypatch.setattr(registry, "get", get)
    return


@pytest.fixture
def vault() -> Vault:
    return Vault(KeySource((generate_key(),), None))


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


def add(db: Database, owner: Person, vault: Vault, clock: FrozenClock, **kw: Any) -> str:
    args: dict[str, Any] = {
        "name": "brand-tag",
        "connector": "fakepull",
        "options": {"tag": "acme"},
        "secrets": {"token": SECRET},
    }
    args.update(kw)
    with db.unit_of_work() as session:
        return sources.add_source(session, owner.actor, vault, clock=clock, **args).id


def test_add_keeps_secrets_encrypted_and_out_of_audit_and_views(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, fake_registry: None
) -> None:
    source_id = add(db, owner, vault, clock)
    with db.reader() as session:
        row = sources.get_source(session, source_id)
        assert row.secrets
        assert SECRET not in row.secrets
        assert sources.config_for(row, vault) == SourceConfig({"tag": "acme"}, {"token": SECRET})
        shown = sources.view(row).as_dict()
        assert shown["has_secrets"] is True
        assert SECRET not in json.dumps(shown)
        entries = list(session.scalars(select(AuditEntry)))
    logged = json.dumps([[e.action, e.before, e.after] for e in entries], default=str)
    assert "listening.source.add" in logged
    assert SECRET not in logged


@pytest.mark.parametrize(
    ("kw", "error"),
    [
        ({"name": "bad name!"}, InvalidInput),
        ({"name": ""}, InvalidInput),
        ({"options": {"tag": "a", "colour": "red"}}, InvalidInput),
        ({"secrets": {}}, InvalidInput),
        ({"options": {}}, InvalidInput),
        ({"connector": "files"}, InvalidInput),  # reads files; neither pulls nor streams
        ({"connector": "nope"}, NotFound),
    ],
)
def test_add_refuses_bad_configuration(
    db: Database,
    owner: Person,
    vault: Vault,
    clock: FrozenClock,
    fake_registry: None,
    kw: dict[str, Any],
    error: type[Exception],
) -> None:
    with pytest.raises(error):
        add(db, owner, vault, clock, **kw)


def test_names_are_unique_per_organization(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, fake_registry: None
) -> None:
    add(db, owner, vault, clock)
    with pytest.raises(Conflict):
        add(db, owner, vault, clock)
    other = make_org(db, "Other")
    add(db, other, vault, clock)  # the same name in another organization is fine
    with db.reader() as session:
        assert [s.name for s in sources.list_sources(session, owner.actor)] == ["brand-tag"]
        with pytest.raises(NotFound):
            sources.access_source(session, other.actor, source_name_of(db, owner))


def source_name_of(db: Database, owner: Person) -> str:
    with db.reader() as session:
        return sources.list_sources(session, owner.actor)[0].id


def test_pause_resume_remove_are_audited(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, fake_registry: None
) -> None:
    add(db, owner, vault, clock)
    with db.unit_of_work() as session:
        assert sources.pause(session, owner.actor, "brand-tag", clock=clock).status == "paused"
        sources.pause(session, owner.actor, "brand-tag", clock=clock)  # no change, no entry
    with db.unit_of_work() as session:
        row = sources.resume(session, owner.actor, "brand-tag", clock=clock)
        assert row.status == "active"
        assert row.wait_until is None
    with db.unit_of_work() as session:
        sources.remove(session, owner.actor, "brand-tag", clock=clock)
    with db.reader() as session:
        assert session.scalars(select(ListeningSource)).all() == []
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert [a for a in actions if a.startswith("listening.source")] == [
        "listening.source.add",
        "listening.source.pause",
        "listening.source.resume",
        "listening.source.remove",
    ]


def test_changes_need_settings_permission(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, fake_registry: None
) -> None:
    add(db, owner, vault, clock)
    agent = make_user(db, owner, Role.AGENT)
    with pytest.raises(Forbidden):
        add(db, agent, vault, clock, name="other")
    with db.unit_of_work() as session, pytest.raises(Forbidden):
        sources.pause(session, agent.actor, "brand-tag", clock=clock)
    with db.reader() as session:  # reading is allowed
        assert len(sources.list_sources(session, agent.actor)) == 1


def test_optional_options_may_be_left_out_and_webhooks_are_sources(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock
) -> None:
    # `fake` declares five options, none required; `webhook` only receives pushed posts.
    add(db, owner, vault, clock, name="demo-feed", connector="fake", options={}, secrets={})
    add(
        db,
        owner,
        vault,
        clock,
        name="zapier",
        connector="webhook",
        options={},
        secrets={"signing_secret": SECRET},
    )
    with pytest.raises(InvalidInput, match="needs signing_secret"):
        add(db, owner, vault, clock, name="bare", connector="webhook", options={}, secrets={})
    with db.reader() as session:
        names = sorted(s.name for s in sources.list_sources(session, owner.actor))
    assert names == ["demo-feed", "zapier"]
