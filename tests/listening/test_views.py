"""Read models of the listening pages: filters, keyset pagination, the query filter with its
scan budget, "N new", volume by sentiment, highlighting, the mention detail."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from groundswell.kernel.errors import InvalidInput, NotFound
from groundswell.listening import actions, highlight, ingest, views, views_mention
from groundswell.listening.domain import QuerySyntaxError
from groundswell.listening.query import compile_query
from groundswell.listening.views import Filters
from tests.builders import Person, make_org
from tests.listening.pages_support import ingest_posts

POSTS = [
    {"id": "1", "text": "I love the new Café menu", "lang": "en", "author": "ana"},
    {"id": "2", "text": "Bad service, I want a refund", "lang": "en", "author": "bob"},
    {"id": "3", "text": "refund please, this is bad", "lang": "fr", "author": "ana"},
    {"id": "4", "text": "just a neutral remark", "lang": "en", "author": "cy"},
]


@pytest.fixture
def owner(db: Database) -> Person:
    return make_org(db)


def stored(db: Database, owner: Person, tmp_path: Path, clock: FrozenClock) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(
            session, owner.actor, name="refunds", topic="risk terms", query="refund*", clock=clock
        )
    ingest_posts(db, owner, tmp_path, POSTS, clock=clock)


def ids(db: Database, owner: Person, filters: Filters, clock: FrozenClock) -> list[str]:
    with db.reader() as session:
        page = views.list_mentions(session, owner.actor, filters, now=clock.now())
        return [m.external_id for m in page.items]


def test_each_filter_narrows_the_stream(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    stored(db, owner, tmp_path, clock)
    everything = ids(db, owner, Filters(), clock)
    assert sorted(everything) == ["1", "2", "3", "4"]
    assert sorted(ids(db, owner, Filters(q="refund"), clock)) == ["2", "3"]
    assert ids(db, owner, Filters(q="cafe"), clock) == ["1"]  # accent-insensitive
    assert sorted(ids(db, owner, Filters(topic="risk terms"), clock)) == ["2", "3"]
    assert ids(db, owner, Filters(topic="brand"), clock) == []
    assert sorted(ids(db, owner, Filters(sentiment="negative"), clock)) == ["2", "3"]
    assert ids(db, owner, Filters(sentiment="positive"), clock) == ["1"]
    assert sorted(ids(db, owner, Filters(label="complaint"), clock)) == ["2", "3"]
    assert ids(db, owner, Filters(language="fr"), clock) == ["3"]
    assert ids(db, owner, Filters(source="elsewhere"), clock) == []
    assert ids(db, owner, Filters(q="refund", language="en"), clock) == ["2"]


def test_time_range_uses_created_at(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    old = (clock.now() - timedelta(days=3)).isoformat()
    ingest_posts(
        db,
        owner,
        tmp_path,
        [{"id": "old", "text": "old post", "created_at": old}, {"id": "new", "text": "new post"}],
        clock=clock,
    )
    assert ids(db, owner, Filters(range="24h"), clock) == ["new"]
    assert ids(db, owner, Filters(range="7d"), clock) == ["new", "old"]


def test_bad_filters_raise_invalid_input(db: Database, owner: Person, clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput):
        Filters(range="2y")
    with pytest.raises(InvalidInput):
        Filters(sentiment="furious")
    with pytest.raises(QuerySyntaxError) as caught:
        ids(db, owner, Filters(q="refund AND"), clock)
    assert "^" in caught.value.message


def test_keyset_pages_cover_everything_once_and_survive_inserts(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    posts = [
        {
            "id": f"p{i}",
            "text": f"post {i}",
            "created_at": (clock.now() - timedelta(minutes=i)).isoformat(),
        }
        for i in range(7)
    ]
    ingest_posts(db, owner, tmp_path, posts, clock=clock)
    seen: list[str] = []
    cursor = None
    with db.reader() as session:
        first = views.list_mentions(session, owner.actor, Filters(), now=clock.now(), limit=3)
    seen += [m.external_id for m in first.items]
    cursor = first.next_cursor
    # A post arriving meanwhile does not shift the pages already cursored.
    ingest_posts(db, owner, tmp_path, [{"id": "late", "text": "late"}], clock=clock, name="b.jsonl")
    while cursor:
        with db.reader() as session:
            page = views.list_mentions(
                session, owner.actor, Filters(), now=clock.now(), limit=3, cursor=cursor
            )
        seen += [m.external_id for m in page.items]
        cursor = page.next_cursor
    assert seen == [f"p{i}" for i in range(7)]
    with db.reader() as session:
        assert (
            views.count_newer(session, owner.actor, Filters(), first.newest_id, now=clock.now())
            == 1
        )
        assert (
            views.count_newer(
                session, owner.actor, Filters(q="nothing"), first.newest_id, now=clock.now()
            )
            == 0
        )


def test_query_scan_budget_returns_a_partial_page_with_a_cursor(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    posts = [{"id": f"n{i}", "text": f"noise {i}"} for i in range(6)]
    posts.append({"id": "hit", "text": "the needle"})
    posts[0]["created_at"] = (clock.now() - timedelta(hours=1)).isoformat()
    posts[0]["text"] = "an older needle"
    ingest_posts(db, owner, tmp_path, posts, clock=clock)
    with db.reader() as session:
        page = views.list_mentions(
            session, owner.actor, Filters(q="needle"), now=clock.now(), budget=3
        )
        assert page.partial
        assert page.scanned == 3
        assert page.next_cursor
        found = [m.external_id for m in page.items]
        while page.next_cursor:
            page = views.list_mentions(
                session,
                owner.actor,
                Filters(q="needle"),
                now=clock.now(),
                budget=3,
                cursor=page.next_cursor,
            )
            found += [m.external_id for m in page.items]
    assert sorted(found) == ["hit", "n0"]


def test_volume_buckets_by_sentiment(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    stored(db, owner, tmp_path, clock)
    with db.reader() as session:
        v = views.volume(session, owner.actor, Filters(range="24h"), now=clock.now())
        assert v.bucket == timedelta(hours=1)
        assert v.total == 4
        assert sum(v.by_sentiment["negative"]) == 2
        assert sum(v.by_sentiment["positive"]) == 1
        assert sum(v.by_sentiment["neutral"]) == 1
        chart = v.chart()
        assert len(chart["x"]) == len(v.starts) == 25
        assert [s["label"] for s in chart["series"]] == ["negative", "neutral", "positive"]
        assert v.rows()[0][2] == 4  # one bucket holds all four
        narrowed = views.volume(
            session, owner.actor, Filters(q="refund", range="7d"), now=clock.now()
        )
        assert narrowed.total == 2
        assert sum(narrowed.by_sentiment["negative"]) == 2
        everything = views.volume(session, owner.actor, Filters(range="all"), now=clock.now())
        assert everything.bucket == timedelta(hours=1)
        assert everything.total == 4
        empty = views.volume(session, owner.actor, Filters(q="zzz"), now=clock.now())
        assert empty.total == 0
        assert empty.chart()["x"] == []


def test_highlight_marks_query_words_and_escapes_the_rest() -> None:
    terms = highlight.query_terms([compile_query('refund* OR "cafe menu" NOT spam')])
    html = str(highlight.highlight("<b>Refunds</b> at the Café menu & spam", terms))
    assert html == (
        "&lt;b&gt;<mark>Refunds</mark>&lt;/b&gt; at the <mark>Café</mark> "
        "<mark>menu</mark> &amp; spam"
    )
    assert str(highlight.highlight("<i>x</i>", [])) == "&lt;i&gt;x&lt;/i&gt;"


def test_mention_detail_thread_author_matches_and_flags(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    with db.unit_of_work() as session:
        ingest.add_query(session, owner.actor, name="r", topic="", query="refund", clock=clock)
    ingest_posts(
        db,
        owner,
        tmp_path,
        [
            {
                "id": "root",
                "text": "where is my refund",
                "author": {"handle": "ana", "followers": 5},
            },
            {"id": "mid", "text": "we are on it", "in_reply_to": "root", "author": "brand"},
            {"id": "leaf", "text": "still no refund", "in_reply_to": "mid", "author": "ana"},
            {"id": "orphan", "text": "hello", "in_reply_to": "gone"},
        ],
        clock=clock,
    )
    with db.reader() as session:
        by_ext = {
            m.external_id: m.id
            for m in views.list_mentions(session, owner.actor, Filters(), now=clock.now()).items
        }
        d = views_mention.mention_detail(session, owner.actor, by_ext["leaf"])
        assert [m.external_id for m in d.ancestors] == ["root", "mid"]
        assert [m.external_id for m in d.author_mentions] == ["root"]
        assert [q.name for q in d.matched] == ["r"]
        assert d.cluster_size >= 1
        assert d.flags == []
        mid = views_mention.mention_detail(session, owner.actor, by_ext["mid"])
        assert [m.external_id for m in mid.replies] == ["leaf"]
        orphan = views_mention.mention_detail(session, owner.actor, by_ext["orphan"])
        assert orphan.missing_parent == "gone"
        assert orphan.ancestors == []
    with db.unit_of_work() as session:
        event = actions.flag_mention(
            session, owner.actor, by_ext["leaf"], note=" angry customer ", clock=clock
        )
    assert event.note == "angry customer"
    assert event.user_id == owner.actor.user_id
    with db.reader() as session:
        flags = views_mention.mention_detail(session, owner.actor, by_ext["leaf"]).flags
    assert [(f.by, f.note) for f in flags] == [(owner.email, "angry customer")]


def test_other_organizations_mentions_are_invisible(
    db: Database, owner: Person, tmp_path: Path, clock: FrozenClock
) -> None:
    stored(db, owner, tmp_path, clock)
    other = make_org(db, "Other")
    assert ids(db, other, Filters(), clock) == []
    with db.reader() as session:
        mine = views.list_mentions(session, owner.actor, Filters(), now=clock.now()).items[0].id
        with pytest.raises(NotFound):
            views_mention.mention_detail(session, other.actor, mine)
        assert views.facets(session, other.actor).sources == []
        assert views.facets(session, owner.actor).topics == ["risk terms"]


def test_volume_with_a_query_says_when_it_only_tried_the_most_recent(
    db: Database,
    owner: Person,
    tmp_path: Path,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stored(db, owner, tmp_path, clock)
    monkeypatch.setattr(views, "CHART_QUERY_SCAN", 2)
    with db.reader() as session:
        v = views.volume(session, owner.actor, Filters(q="refund"), now=clock.now())
        full = views.volume(session, owner.actor, Filters(), now=clock.now())
    assert v.capped
    assert v.total <= 2
    assert not full.capped
    assert full.total == 4
