"""How text is compared: folding and words. Pure (standard library only).

Text is compared *folded*: case-folded, accents and other combining marks removed, compatibility
forms unified (NFKD: full-width letters, ligatures), a few letters with no decomposition mapped
by hand (``ø``→``o``, ``ł``→``l``...). Folding is applied identically to posts and to queries,
so ``cafe`` matches ``Café`` and ``CAFÉ``.

A *word* is a run of letters, digits and ``_``; every other character separates words.
Scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) are split
into one word per character, and a query word in those scripts is matched as the phrase of its
characters, so ``咖啡`` matches ``我喜欢咖啡``.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Scripts written without spaces between words: one word per character.
_UNSPACED_BMP = (
    "\u0e00-\u0e7f"  # Thai
    "\u0e80-\u0eff"  # Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u3040-\u309f"  # Hiragana
    "\u30a0-\u30ff"  # Katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
_UNSPACED = _UNSPACED_BMP + "\U00020000-\U0003134f"  # CJK extensions B-G
WORD_RE = re.compile(rf"[^\W{_UNSPACED}]+|[{_UNSPACED}]")
# Speed: most texts hold no unspaced script, and `\w+` splits those identically and faster.
# (Character classes above U+FFFF make `re` scan range lists, so the test is split in two.)
_PLAIN_WORD_RE = re.compile(r"\w+")
_UNSPACED_RE = re.compile(rf"[{_UNSPACED_BMP}]|[\U00020000-\U0003134f]")
HASHTAG_RE = re.compile(r"(?<![\w#@])#(\w+)")
MENTION_RE = re.compile(r"(?<![\w#@])@(\w+)")
LINK_RE = re.compile(r"\bhttps?://\S|\bwww\.\w", re.IGNORECASE)

# Letters that NFKD leaves whole but that readers treat as accented forms of a base letter.
_BASE_LETTERS = {
    "ø": "o",
    "đ": "d",
    "ð": "d",
    "ł": "l",
    "ħ": "h",
    "ŧ": "t",
    "ı": "i",
    "æ": "ae",
    "œ": "oe",
    "þ": "th",
    "\u200b": " ",  # zero-width space separates words (Thai, Khmer); other Cf are dropped
}
_BASE_TABLE = str.maketrans(_BASE_LETTERS)
_BASE_RE = re.compile("[" + "".join(_BASE_LETTERS) + "]")
_ASTRAL_RE = re.compile("[\U00010000-\U0010ffff]")
_DROPPED = frozenset({"Mn", "Mc", "Me", "Cf"})


@functools.cache
def _marks() -> re.Pattern[str]:
    """Combining marks and invisible format characters of the Basic Multilingual Plane
    (categories M* and Cf), which folding drops. Built once from this Python's Unicode tables.
    Kept to the BMP so that `re` tests each character against a bitmap (astral code points in
    a class make it scan a range list, 20 times slower); `_drop_astral` handles the rest."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x10000):
        if code != 0x200B and unicodedata.category(chr(code)) in _DROPPED:
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    body = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    return re.compile(f"[{body}]+")


def _drop_astral(match: re.Match[str]) -> str:
    char = match.group()
    return "" if unicodedata.category(char) in _DROPPED else char


def fold(text: str) -> str:
    """Case-, accent- and width-insensitive form of `text` (see the module docstring)."""
    if text.isascii():
        return text.lower()
    text = _marks().sub("", unicodedata.normalize("NFKD", text.casefold()))
    if _ASTRAL_RE.search(text):
        text = _ASTRAL_RE.sub(_drop_astral, text)
    if _BASE_RE.search(text):
        text = text.translate(_BASE_TABLE)
    return text


def split_words(folded: str) -> list[str]:
    """The words of an already folded text, in order."""
    if _UNSPACED_RE.search(folded):
        return WORD_RE.findall(folded)
    return _PLAIN_WORD_RE.findall(folded)


def words(text: str) -> list[str]:
    """The folded words of `text`, in order."""
    return split_words(fold(text))
