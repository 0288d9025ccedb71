"""The social network connectors run as configured sources through the listening runner: the
cursor is stored with the mentions, so reading again after a restart brings no gap and no
duplicate, and deletions from the network delete the mentions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from groundswell.connectors import registry
from groundswell.connectors.contract import Batch, StreamSource
from groundswell.connectors.http import SourceUnavailable
from groundswell.governance.vault import KeySource, Vault, generate_key
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.listening import pipeline, sources, worker
from groundswell.listening.matcher import QuerySet
from groundswell.listening.tables import Mention
from groundswell.listening.worker import Fetched
from tests.builders import Person, make_org
from tests.connectors.mastodon_server import TIMELINE_IDS, MastodonServer, mastodon_server
from tests.connectors.test_bluesky import FRAMES, Jetstream
from tests.connectors.test_reddit import Reddit, _fixture

__all__ = ["mastodon_server"]  # the fixture, imported for pytest


@pytest.fixture
def vault() -> Vault:
    return Vault(KeySource((generate_key(),), None))


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


@pytest.fixture
def jetstream() -> Iterator[Jetstream]:
    server = Jetstream(FRAMES)
    yield server
    server.stop()


def _add(
    db: Database,
    owner: Person,
    vault: Vault,
    clock: FrozenClock,
    connector: str,
    options: dict[str, str],
    secrets: dict[str, str],
) -> str:
    caps = registry.get(connector).capabilities
    with db.unit_of_work() as session:
        row = sources.add_source(
            session,
            owner.actor,
            vault,
            name=f"{connector}-brand",
            connector=connector,
            # Options left empty mean "the default" to these connectors.
            options={name: options.get(name, "") for name in caps.options},
            secrets={name: secrets.get(name, "") for name in caps.secrets},
            clock=clock,
        )
        return row.id


def _stored(db: Database) -> list[str]:
    with db.reader() as session:
        return sorted(session.scalars(select(Mention.external_id)))


def _cursor(db: Database, source_id: str) -> str | None:
    with db.reader() as session:
        return sources.get_source(session, source_id).cursor


def _pull(
    db: Database, vault: Vault, source_id: str, clock: FrozenClock, client: httpx.Client
) -> Any:
    return worker.pull_once(db, vault, source_id, resolve=registry.get, clock=clock, client=client)


def _apply(
    db: Database,
    source_id: str,
    connector: str,
    before: str | None,
    batch: Batch,
    clock: FrozenClock,
) -> None:
    worker.apply_batch(
        db,
        Fetched(source_id, 0, before, batch),
        connector=registry.get(connector),
        queries=QuerySet(()),
        clock=clock,
        triage=pipeline.default_triage,
    )


def test_mastodon_source_resumes_and_deletes(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, mastodon_server: MastodonServer
) -> None:
    source_id = _add(
        db,
        owner,
        vault,
        clock,
        "mastodon",
        {"instance": mastodon_server.base_url, "hashtag": "acmecoffee"},
        {"access_token": mastodon_server.token},
    )
    with httpx.Client() as client:
        assert _pull(db, vault, source_id, clock, client).stored == 5
        assert _cursor(db, source_id) == TIMELINE_IDS[-1]
        # A restart reads the stored cursor: only what came after it.
        assert _pull(db, vault, source_id, clock, client).stored == 0
        mastodon_server.add_status(
            dict(mastodon_server.statuses[TIMELINE_IDS[0]], id="113501000000000006")
        )
        assert _pull(db, vault, source_id, clock, client).stored == 1
    assert _stored(db) == [*TIMELINE_IDS, "113501000000000006"]
    cursor = _cursor(db, source_id)
    _apply(
        db,
        source_id,
        "mastodon",
        cursor,
        Batch(deleted=("113501000000000004",), cursor=cursor),
        clock,
    )
    assert "113501000000000004" not in _stored(db)


def test_reddit_source_resumes_and_deletes(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock
) -> None:
    everything = _fixture("listing_new.json")["data"]["children"]
    reddit = Reddit(everything[1:])
    source_id = _add(
        db,
        owner,
        vault,
        clock,
        "reddit",
        {"subreddit": "AcmeCoffee", "username": "AcmeCoffeeTeam"},
        {"client_id": "app-id", "client_secret": "app-secret"},
    )
    with httpx.Client(transport=httpx.MockTransport(reddit)) as client:
        assert _pull(db, vault, source_id, clock, client).stored == 2
        reddit.things = everything
        assert _pull(db, vault, source_id, clock, client).stored == 1
        assert _pull(db, vault, source_id, clock, client).stored == 0
    assert _stored(db) == ["t3_1h4k3bc", "t3_1h4k7mx", "t3_1h4k9zq"]
    assert _cursor(db, source_id) == "t3_1h4k9zq"


def test_bluesky_stream_resumes_from_the_stored_cursor(
    db: Database, owner: Person, vault: Vault, clock: FrozenClock, jetstream: Jetstream
) -> None:
    source_id = _add(db, owner, vault, clock, "bluesky", {"jetstream_url": jetstream.url}, {})
    connector = registry.get("bluesky")
    assert isinstance(connector, StreamSource)
    with db.reader() as session:
        config = sources.config_for(sources.get_source(session, source_id), vault)
    jetstream.break_after = 3
    before = _cursor(db, source_id)
    with pytest.raises(SourceUnavailable, match="1011"):  # noqa: PT012 (the loop is the act)
        for batch in connector.stream(config, before):
            _apply(db, source_id, "bluesky", before, batch, clock)
            before = batch.cursor
    first = _stored(db)
    jetstream.break_after = None
    before = _cursor(db, source_id)  # a restart: the cursor stored with the mentions
    for batch in connector.stream(config, before):
        _apply(db, source_id, "bluesky", before, batch, clock)
        before = batch.cursor
    stored = _stored(db)
    assert len(first) == 2
    # The first post was deleted on the network (a frame after the restart).
    assert stored == sorted(
        [
            "at://did:plc:z72i7hdynmk6r22z27h6tvur/app.bsky.feed.post/3lbq2bbbbb22b",
            "at://did:plc:4hqjfn7m6n5hno3doamuhgef/app.bsky.feed.post/3lbq2ccccc22c",
            "at://did:plc:4hqjfn7m6n5hno3doamuhgef/app.bsky.feed.post/3lbq2eeeee22e",
        ]
    )
    assert _cursor(db, source_id) == "1795424400000007"
