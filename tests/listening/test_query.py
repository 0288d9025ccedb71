"""Compiling listening queries: the tree built, errors with column and caret, and (with
Hypothesis) that any string either compiles or raises QuerySyntaxError."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from groundswell.kernel.errors import InvalidInput
from groundswell.listening.domain import (
    And,
    Author,
    Document,
    Followers,
    HasLink,
    Lang,
    Near,
    Needle,
    Not,
    Or,
    Phrase,
    QuerySyntaxError,
    Source,
    Tag,
    Term,
    Word,
)
from groundswell.listening.query import MAX_DEPTH, MAX_QUERY_CHARS, compile_query


def test_precedence_not_over_and_over_or() -> None:
    root = compile_query("a OR NOT b c").root
    assert root == Or((Word(Term("a")), And((Not(Word(Term("b"))), Word(Term("c"))))))


def test_near_binds_tighter_than_and() -> None:
    root = compile_query("x a NEAR/2 b").root
    assert root == And((Word(Term("x")), Near(Word(Term("a")), Word(Term("b")), 2)))


def test_nested_and_or_are_flattened() -> None:
    assert compile_query("a (b c) d").root == And(tuple(Word(Term(w)) for w in "abcd"))
    assert compile_query("a OR (b OR c)").root == Or(tuple(Word(Term(w)) for w in "abc"))


def test_terms_phrases_tags_and_fields() -> None:
    assert compile_query("Refund*").root == Word(Term("refund", prefix=True))
    assert compile_query('"Wi-Fi  down*"').root == Phrase(
        (Term("wi"), Term("fi"), Term("down", prefix=True))
    )
    assert compile_query('"one"').root == Word(Term("one"))
    assert compile_query("#Café*").root == Tag("#", "cafe", prefix=True)
    assert compile_query("@Delta").root == Tag("@", "delta")
    assert compile_query("AUTHOR:@Bob").root == Author("bob")
    assert compile_query('source:"RSS News"').root == Source("rss news")
    assert compile_query("lang:pt_BR").root == Lang("pt-br")
    assert compile_query("followers:<=7").root == Followers("<=", 7)
    assert compile_query("has:LINK").root == HasLink()


def test_needles_for_the_prefilter() -> None:
    assert compile_query("refund").needles == frozenset({Needle("refund")})
    assert compile_query("a OR refund*").needles == frozenset({Needle("a"), Needle("refund", True)})
    # AND keeps the most selective side; NOT and fields give nothing to look for
    assert compile_query("a refund NOT xyz").needles == frozenset({Needle("refund")})
    assert compile_query('"the customer service"').needles == frozenset({Needle("customer")})
    assert compile_query("NOT a").needles is None
    assert compile_query("a OR lang:en").needles is None
    assert compile_query("lang:en refund").needles == frozenset({Needle("refund")})


def test_the_error_is_invalid_input_with_exit_code_2() -> None:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("refund OR")
    assert isinstance(info.value, InvalidInput)
    assert info.value.exit_code == 2


def _error(query: str) -> QuerySyntaxError:
    with pytest.raises(QuerySyntaxError) as info:
        compile_query(query)
    return info.value


@pytest.mark.parametrize(
    ("query", "column", "words"),
    [
        ("", 1, "empty query"),
        ("   ", 4, "empty query"),
        ("OR refund", 1, "OR needs a term on each side"),
        ("refund OR", 10, "ends after OR"),
        ("refund AND AND delta", 12, "AND must be followed"),
        ("NOT", 4, "ends after NOT"),
        ("(refund", 1, "'(' is never closed"),
        ("refund)", 7, "')' without a matching '('"),
        ("()", 2, "empty parentheses"),
        ('"refund policy', 1, "quote is never closed"),
        ("refund”", 7, "closing quote without an opening one"),
        ("refund - delta", 8, "'-' must touch"),
        ("re*und", 3, "wildcard * can only end a word"),
        ("*", 1, "wildcard needs letters"),
        ("!!!", 1, "no letters or digits"),
        ('""', 1, "phrase has no letters"),
        ("refund NEAR delta", 8, "NEAR needs a distance"),
        ("NEAR/3 delta", 1, "NEAR/n needs a term on each side"),
        ("refund NEAR/3", 14, "ends after NEAR/n"),
        ("refund NEAR/5000 delta", 8, "at most 1000"),
        ("(a b) NEAR/3 c", 2, "NEAR/n joins words"),
        ("a NEAR/3 lang:en", 10, "NEAR/n joins words"),
        ("a NEAR/3 NOT b", 10, "NEAR/n must be followed"),
        ("#", 1, "hashtag is #"),
        ("#wi-fi", 1, "hashtag is #"),
        ("@", 1, "mention is @"),
        ("author:", 8, "author: needs a value"),
        ("author: bob", 9, "no space allowed after author:"),
        ("athor:bob", 1, "unknown field athor:"),
        ("lang:english", 6, "language code"),
        ("followers:>many", 11, "whole number"),
        ("followers:>99999999999999999999", 11, "whole number"),
        ("has:photo", 5, "has:link"),
    ],
)
def test_errors_name_the_column_and_draw_a_caret(query: str, column: int, words: str) -> None:
    error = _error(query)
    assert error.column == column
    assert words in error.message
    assert f"column {column}" in error.message
    _first, shown, caret = error.message.split("\n")
    assert shown == "  " + query
    assert caret == "  " + " " * (column - 1) + "^"


def test_caret_under_wide_characters_and_on_the_right_line() -> None:
    error = _error("咖啡 )")
    assert error.message.split("\n")[2] == "  " + " " * 5 + "^"
    error = _error("refund\nOR")
    assert "line 2, column 3" in error.message
    assert error.message.split("\n")[1:] == ["  OR", "    ^"]


def test_long_queries_show_a_window_around_the_fault() -> None:
    query = "refund " * 100 + ")"
    error = _error(query)
    shown, caret = error.message.split("\n")[1:]
    assert len(shown) < 150
    assert shown[caret.index("^")] == ")"


def test_limits_on_length_and_depth() -> None:
    assert "longer than" in _error("a " * MAX_QUERY_CHARS).message
    assert "nested" in _error("NOT " * (MAX_DEPTH + 1) + "a").message
    assert "nested" in _error("a NEAR/1 " * (MAX_DEPTH + 1) + "a").message
    assert "nested" in _error("(a " * (MAX_DEPTH + 2) + ")" * (MAX_DEPTH + 2)).message
    compile_query("NOT " * (MAX_DEPTH - 2) + "a")  # just under the limit


def _compiles_or_refuses(text: str) -> None:
    """Any other exception propagates and fails the test."""
    refusal: QuerySyntaxError | None = None
    try:
        query = compile_query(text)
    except QuerySyntaxError as error:
        refusal = error
    if refusal is not None:
        assert refusal.message.startswith("bad query at ")
        assert refusal.message.split("\n")[-1].endswith("^")
        return
    # a compiled query evaluates on any post without raising
    query.matches(Document.of(text, author="a", lang="en", source="s", followers=3))


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_string_compiles_or_raises_query_syntax_error(text: str) -> None:
    _compiles_or_refuses(text)


PIECES = [
    "a",
    "B",
    "refund*",
    "café",
    "咖啡",
    "(",
    ")",
    "OR",
    "AND",
    "NOT",
    "-",
    "NEAR/2",
    "NEAR",
    "NEAR/x",
    '"',
    '"x y"',
    "“",
    "”",
    "#t",
    "#",
    "@m",
    "@",
    "author:",
    "author:x",
    "lang:en",
    "lang:",
    "followers:>5",
    "followers:",
    "has:link",
    "has:",
    "*",
    ":",
    "x:y",
    "\n",
    "\t",
    "\x00",
    "\u200b",
    "\u0301",
]


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(PIECES), max_size=12), st.lists(st.sampled_from(["", " "])))
def test_any_arrangement_of_query_pieces_compiles_or_raises(
    pieces: list[str], gaps: list[str]
) -> None:
    text = "".join(p + (gaps[i] if i < len(gaps) else " ") for i, p in enumerate(pieces))
    _compiles_or_refuses(text)
