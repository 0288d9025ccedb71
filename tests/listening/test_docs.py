"""docs/queries.md stays true: every example query in it compiles, and its error example is
the error the code gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from groundswell.listening.domain import QuerySyntaxError
from groundswell.listening.query import compile_query

DOC = Path(__file__).resolve().parents[2] / "docs" / "queries.md"


def _syntax_examples() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    table = text[text.index("## Syntax") : text.index("Precedence, tightest first")]
    examples: list[str] = []
    for row in table.splitlines()[2:]:
        cells = row.split(" | ")
        if len(cells) == 3:
            examples.extend(re.findall(r"`([^`]+)`", cells[2]))
    return examples


def test_the_doc_has_examples_for_every_row() -> None:
    assert len(_syntax_examples()) >= 16


@pytest.mark.parametrize("example", _syntax_examples())
def test_every_syntax_example_compiles(example: str) -> None:
    compile_query(example)


def test_the_opening_example_and_the_error_example() -> None:
    text = DOC.read_text(encoding="utf-8")
    opening = text.split("```\n", 2)[1].split("```", 1)[0].strip()
    compile_query(opening)
    shown = text[text.index("## Errors") :].split("```\n", 2)[1].split("```", 1)[0]
    with pytest.raises(QuerySyntaxError) as info:
        compile_query("refund AND")
    assert info.value.message + "\n" == shown
