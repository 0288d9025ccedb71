"""Many queries at once: every prefilter returns exactly what evaluating each query would."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.listening.domain import Document, QuerySyntaxError
from groundswell.listening.matcher import PREFILTERS, QuerySet
from groundswell.listening.query import compile_query
from groundswell.listening.schemas import PostIn

VOCAB = ["refund", "refunds", "ref", "delta", "café", "cafe", "late", "bag", "咖啡", "de"]


def test_keys_come_back_in_the_order_the_queries_were_given() -> None:
    queries = [
        ("z", compile_query("refund")),
        ("a", compile_query("NOT delta")),
        ("m", compile_query("refund* late")),
        ("b", compile_query("lang:en")),
    ]
    doc = Document.of("my refund and refunds are late", lang="en")
    for prefilter in PREFILTERS:
        assert QuerySet(queries, prefilter=prefilter).match(doc) == ["z", "a", "m", "b"]


def test_overlapping_needles_are_all_found() -> None:
    # "ref*" and "refund" start at the same offset; "fund" lies inside "refund"
    queries = [(1, compile_query("ref*")), (2, compile_query("refund")), (3, compile_query("fund"))]
    for prefilter in PREFILTERS:
        found = QuerySet(queries, prefilter=prefilter).match(Document.of("refund"))
        assert found == [1, 2], prefilter


def test_an_empty_set_and_match_post() -> None:
    assert QuerySet[int]([]).match(Document.of("anything")) == []
    assert len(QuerySet([("x", compile_query("x"))])) == 1
    post = PostIn.model_validate({"id": 1, "text": "Café", "author": {"handle": "bob"}})
    assert QuerySet([("x", compile_query("cafe author:bob"))]).match_post(post) == ["x"]


_word = st.sampled_from(VOCAB)
_atom = st.one_of(
    _word,
    _word.map(lambda w: w[:2] + "*"),
    st.tuples(_word, _word).map(lambda t: f'"{t[0]} {t[1]}"'),
    _word.map(lambda w: "#" + w),
    _word.map(lambda w: "@" + w),
    st.sampled_from(["lang:en", "author:bob", "followers:>10", "has:link"]),
)
_query = st.recursive(
    _atom,
    lambda inner: st.one_of(
        st.tuples(inner, inner).map(lambda t: f"({t[0]} OR {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]} {t[1]})"),
        inner.map(lambda q: f"NOT {q}"),
        st.tuples(_word, _word, st.integers(0, 3)).map(lambda t: f"{t[0]} NEAR/{t[2]} {t[1]}"),
    ),
    max_leaves=6,
)
_text = st.lists(
    st.one_of(_word, _word.map(lambda w: "#" + w), _word.map(lambda w: "@" + w.upper())),
    max_size=12,
).map(" ".join)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_query, min_size=1, max_size=8), st.lists(_text, min_size=1, max_size=5))
def test_every_prefilter_agrees_with_exact_evaluation(
    texts_of_queries: list[str], texts: list[str]
) -> None:
    compiled = []
    for i, text in enumerate(texts_of_queries):
        try:
            compiled.append((i, compile_query(text)))
        except QuerySyntaxError:  # e.g. a NEAR over a field: refused, not our subject here
            continue
    sets = [QuerySet(compiled, prefilter=p) for p in PREFILTERS]
    for text in texts:
        doc = Document.of(text, lang="en", author="bob", followers=11)
        expected = [k for k, q in compiled if q.matches(doc)]
        for query_set in sets:
            assert query_set.match(Document.of(text, lang="en", author="bob", followers=11)) == (
                expected
            )
