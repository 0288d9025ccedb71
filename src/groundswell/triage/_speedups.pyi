"""Type stub of the optional C module ``_speedups.c`` (see that file)."""

from typing import Any

VERSION: int

def setup(
    quiet: frozenset[str],
    clause_end: frozenset[str],
    shown_marks: frozenset[str],
    negators: frozenset[str],
    valence_tokens: tuple[str, ...],
    /,
) -> None: ...
def analyze_tokens(
    toks: list[str], lexicon: dict[str, float], dense: list[float], spelled: list[str], /
) -> tuple[list[str], list[str]]: ...
def language_scores(
    buf: bytes,
    tables: tuple[tuple[int, Any, Any, int], ...],
    ptc: Any,
    log1p_table: Any,
    n_languages: int,
    scores: Any,
    found: Any,
    /,
) -> None: ...
