"""Alert explanations: grown terms, near-duplicate clusters, authors by reach, examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from groundswell.crisis.domain import Spike
from groundswell.crisis.explain import Explainer, Post, signature, terms

T0 = datetime(2026, 2, 2, tzinfo=UTC)

NORMAL = [
    "loving the new blend at the downtown store",
    "my order arrived early, thanks team",
    "is the loyalty card valid abroad?",
    "great service at the airport kiosk today",
]


def _post(i: int, at: datetime, text: str, **kw: object) -> Post:
    return Post(at=at, id=str(i), text=text, topics=("stores",), **kw)  # type: ignore[arg-type]


def _explainer_with_spike() -> tuple[Explainer, Spike]:
    ex = Explainer(window_seconds=1800)
    i = 0
    # A day of ordinary posts, one every ten minutes.
    for minute in range(0, 24 * 60, 10):
        at = T0 + timedelta(minutes=minute)
        ex.advance(at)
        ex.add(_post(i, at, NORMAL[i % len(NORMAL)], author=f"user{i % 7}", followers=100))
        i += 1
    onset = T0 + timedelta(days=1)
    for k in range(12):
        at = onset + timedelta(seconds=20 * k)
        ex.advance(at)
        text = f"Refund scandal: they charged my card twice!! https://x.co/{k} @brand"
        ex.add(_post(i, at, text, author=f"angry{k % 4}", followers=1000 * k, negative=True))
        i += 1
    spike = Spike(
        at=onset + timedelta(minutes=5),
        topic="stores",
        metric="volume",
        observed=12,
        expected=0.5,
        score=9.0,
        window_start=onset,
        window_buckets=1,
    )
    ex.advance(spike.at)
    return ex, spike


def test_terms_and_signatures_ignore_noise() -> None:
    assert terms("RT @brand The REFUND is late #Fail http://t.co/x 2024") == {
        "refund",
        "late",
        "#fail",
    }
    a = signature("They charged my card twice, refund now https://a.b/1")
    b = signature("they charged my card twice refund now!! https://a.b/2 @x")
    c = signature("a completely different sentence about coffee beans")
    assert set(a) & set(b)
    assert not set(a) & set(c)
    assert signature("too short") == ()


def test_explanation_names_the_terms_cluster_authors_and_examples() -> None:
    ex, spike = _explainer_with_spike()
    why = ex.explain(spike)
    assert why["posts"] == 12
    assert why["window_minutes"] == 5
    grown = [t["term"] for t in why["terms"]]
    assert {"refund", "scandal", "charged"} <= set(grown)
    assert all(t["posts"] >= 3 and t["posts"] > 2 * t["expected"] for t in why["terms"])
    assert len(why["clusters"]) == 1
    cluster = why["clusters"][0]
    assert cluster["posts"] == 12
    assert cluster["posts_last_24h"] == 0
    assert "charged my card twice" in cluster["example"]["text"]
    reach = [a["followers"] for a in why["authors"]]
    assert reach == sorted(reach, reverse=True)
    assert why["authors"][0]["author"] == "angry3"
    assert 1 <= len(why["examples"]) <= 3
    assert "12 posts in 5 min" in why["summary"]


def test_metric_filters_the_posts_explained() -> None:
    ex, spike = _explainer_with_spike()
    risk = spike.model_copy(update={"metric": "legal_threat"})
    assert ex.explain(risk)["posts"] == 0
    share = spike.model_copy(update={"metric": "negative_share", "observed": 1.0})
    assert ex.explain(share)["posts"] == 12
    other = spike.model_copy(update={"topic": "online"})
    assert ex.explain(other)["posts"] == 0
