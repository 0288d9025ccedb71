"""Near-duplicate clusters: MinHash signatures, LSH bands, clusters across batches, sizes."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from groundswell.connectors.contract import RawRecord
from groundswell.connectors.files.connector import FilesConnector
from groundswell.kernel.clock import FrozenClock, SystemClock
from groundswell.kernel.db import Database
from groundswell.listening import dedupe, ingest, pipeline
from groundswell.listening.matcher import QuerySet
from groundswell.listening.tables import ClusterBand, Mention
from tests.builders import make_org

CAMPAIGN = "Boycott Acme now: they lied about the battery recall and nobody was refunded at all"
VARIANTS = [
    CAMPAIGN,
    "@acme " + CAMPAIGN + " https://t.co/abc",  # a tag and a link added
    CAMPAIGN.upper(),  # case
    CAMPAIGN.replace("lied", "lied again"),  # one word more
    "Boycott Acmé now: they lied about the battery recall and nobody was refunded at all!!",
]
OTHERS = [
    "Loving the new Acme kettle, it boils in a minute and looks great on the counter",
    "Does anyone know when the Acme store in Lyon opens on Sundays this winter season",
    "short one",
]


def test_signatures_of_near_duplicates_agree_and_others_do_not() -> None:
    sigs = dedupe.signatures([CAMPAIGN, VARIANTS[1], VARIANTS[3], OTHERS[0], OTHERS[2]])
    a, tagged, longer, other, short = sigs
    assert a is not None
    assert tagged is not None
    assert longer is not None
    assert other is not None
    assert short is None  # fewer than MIN_WORDS words: not clustered
    assert dedupe.jaccard_estimate(a, tagged) == 1.0  # tags and links do not count
    assert dedupe.jaccard_estimate(a, longer) > 0.6
    assert dedupe.jaccard_estimate(a, other) < 0.2
    assert dedupe.band_keys(a) == dedupe.band_keys(tagged)
    assert not set(dedupe.band_keys(a)) & set(dedupe.band_keys(other))


def test_signatures_are_stable_and_batch_independent() -> None:
    alone = dedupe.signatures([CAMPAIGN])[0]
    batched = dedupe.signatures([OTHERS[0], CAMPAIGN, OTHERS[1]])[1]
    assert alone is not None
    assert batched is not None
    assert np.array_equal(alone, batched)
    assert alone.shape == (dedupe.NUM_PERM,)


def write(path: Path, texts: list[str], prefix: str) -> Path:
    with path.open("w") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"id": f"{prefix}{i}", "text": text}) + "\n")
    return path


def test_a_copy_paste_campaign_becomes_one_cluster_across_imports(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    owner = make_org(db)
    org = owner.actor.organization_id
    run = ingest.import_posts
    run(
        db,
        owner.actor,
        FilesConnector(),
        str(write(tmp_path / "a.jsonl", [VARIANTS[0], *OTHERS], "a")),
        clock=clock,
    )
    run(
        db,
        owner.actor,
        FilesConnector(),
        str(write(tmp_path / "b.jsonl", VARIANTS[1:], "b")),
        clock=clock,
    )
    with db.reader() as session:
        by_id = {e: c for e, c in session.execute(select(Mention.external_id, Mention.cluster_id))}
        founder = by_id["a0"]
        assert founder is not None
        # The first post founds the cluster; its copies join it; the others stay alone.
        assert {by_id[k] for k in ("a0", "b0", "b1", "b2", "b3")} == {founder}
        # Posts without near-duplicates are clusters of one; a short post is not compared.
        assert len({founder, by_id["a1"], by_id["a2"]}) == 3
        assert by_id["a3"] is None
        assert dedupe.cluster_size(session, org, by_id["a1"] or 0) == 1
        assert dedupe.cluster_size(session, org, founder) == 5
        assert (
            dedupe.cluster_size(session, make_org(db, "Other").actor.organization_id, founder) == 0
        )
        [top] = dedupe.largest_clusters(session, org)
        assert (top.cluster_id, top.size, top.sample) == (founder, 5, CAMPAIGN)


def test_clusters_form_within_one_batch_and_per_organization(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    first, second = make_org(db), make_org(db, "Beta")
    path = write(tmp_path / "c.jsonl", [OTHERS[0], *VARIANTS[:3]], "c")
    for person in (first, second):
        ingest.import_posts(db, person.actor, FilesConnector(), str(path), clock=clock)
    with db.reader() as session:
        rows = session.execute(
            select(Mention.organization_id, Mention.external_id, Mention.id, Mention.cluster_id)
        ).all()
    for person in (first, second):
        mine = {
            ext: (id_, cluster)
            for org, ext, id_, cluster in rows
            if org == person.actor.organization_id
        }
        assert mine["c1"][1] == mine["c2"][1] == mine["c3"][1]
        assert mine["c0"][1] not in (None, mine["c1"][1])


def test_old_bands_are_purged_so_clusters_stay_within_the_window(
    db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    owner = make_org(db)
    ingest.import_posts(
        db,
        owner.actor,
        FilesConnector(),
        str(write(tmp_path / "d.jsonl", [CAMPAIGN], "d")),
        clock=clock,
    )
    clock.advance(timedelta(days=8))
    with db.unit_of_work() as session:
        assert dedupe.purge_bands(session, clock.now(), timedelta(days=7)) == dedupe.BANDS
    ingest.import_posts(
        db,
        owner.actor,
        FilesConnector(),
        str(write(tmp_path / "e.jsonl", [VARIANTS[1]], "e")),
        clock=clock,
    )
    with db.reader() as session:
        old, new = session.scalars(select(Mention.cluster_id).order_by(Mention.id)).all()
        assert old != new
        assert session.scalar(select(func.count()).select_from(ClusterBand)) == dedupe.BANDS


def test_direct_messages_get_no_band_keys_and_are_not_even_hashed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hashed: list[str] = []
    keys_for = dedupe.keys_for

    def recording(texts: Sequence[str]) -> list[tuple[int, ...]]:
        hashed.extend(texts)
        return keys_for(texts)

    monkeypatch.setattr(dedupe, "keys_for", recording)
    posts = [
        {"id": "p1", "text": CAMPAIGN},
        {"id": "d1", "text": VARIANTS[1], "channel": "direct"},
        {"id": "p2", "text": OTHERS[0]},
        {"id": "p3", "text": OTHERS[2]},  # too short: no keys either way
        {"id": "d2", "text": OTHERS[1], "channel": "direct"},
    ]
    records = [RawRecord(json.dumps(p).encode(), n + 1, "jsonl") for n, p in enumerate(posts)]

    def prepare(cluster: bool) -> pipeline.Prepared:
        ctx = pipeline.BatchContext(
            organization_id="org",
            source_name="files",
            connector=FilesConnector(),
            location="memory",
            queries=QuerySet([]),
            clock=SystemClock(),
            triage=pipeline.default_triage,
            cluster=cluster,
        )
        return pipeline.prepare_batch(ctx, records, datetime(2026, 11, 2, 12, tzinfo=UTC))

    prepared = prepare(cluster=True)
    assert [p.post.channel for p in prepared.items] == [
        "public",
        "direct",
        "public",
        "public",
        "direct",
    ]
    public = [CAMPAIGN, OTHERS[0], OTHERS[2]]
    assert hashed == public  # the direct messages' texts are never shingled
    # public posts keep the keys they had when every text was hashed (and DMs' dropped after)
    before = keys_for([str(p["text"]) for p in posts])
    assert prepared.bands == [before[0], (), before[2], (), ()]
    assert len(prepared.bands[0]) == len(prepared.bands[2]) == dedupe.BANDS
    hashed.clear()
    assert prepare(cluster=False).bands == [()] * 5
    assert hashed == []
