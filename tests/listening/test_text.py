"""Folding and words."""

from __future__ import annotations

import pytest

from groundswell.listening.text import fold, split_words, words


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Café", "cafe"),
        ("cafe\u0301", "cafe"),
        ("STRASSE Straße", "strasse strasse"),
        ("ＡＢＣ１", "abc1"),
        ("ﬁne", "fine"),
        ("Łódź Øre Æsir", "lodz ore aesir"),
        ("re\u00adfund", "refund"),
        ("a\u200bb", "a b"),
        ("İstanbul", "istanbul"),
        ("plain ascii", "plain ascii"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


def test_words_split_unspaced_scripts_per_character() -> None:
    assert words("I ❤ Café-au-lait, don't you?") == ["i", "cafe", "au", "lait", "don", "t", "you"]
    assert words("我喜欢咖啡 and tea") == ["我", "喜", "欢", "咖", "啡", "and", "tea"]
    assert words("snake_case #tag @who") == ["snake_case", "tag", "who"]
    # the fast path and the general one agree
    assert split_words("abc def") == ["abc", "def"]
