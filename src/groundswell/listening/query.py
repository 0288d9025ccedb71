"""The listening query language: a Lark grammar compiled into the tree of
`groundswell.listening.domain`. The syntax is documented in ``docs/queries.md``.

`compile_query` is the only entry point. Whatever the input, it returns a `Query` or raises
`QuerySyntaxError` (never another exception): Lark's errors are translated, and the tree is
checked for depth before it is walked so that no input can exhaust the stack.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from groundswell.listening.domain import (
    And,
    Author,
    Comparison,
    Followers,
    HasLink,
    Lang,
    Near,
    Node,
    Not,
    Or,
    Phrase,
    Query,
    QuerySyntaxError,
    Source,
    Tag,
    Term,
    Word,
    is_positional,
    needles,
)
from groundswell.listening.text import fold, words

MAX_QUERY_CHARS: Final = 20_000
MAX_DEPTH: Final = 100
MAX_NEAR: Final = 1_000
FIELDS: Final = ("author", "lang", "source", "followers", "has")

# Operators are upper case and end where a word would: `ORANGE` and `or` are words.
_END = r"""(?=[\s()"“”]|$)"""
GRAMMAR: Final = rf"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: not_expr (_AND? not_expr)*
?not_expr: NOT not_expr | near_expr
?near_expr: atom (NEAR atom)*
?atom: _LPAR or_expr _RPAR | field | PHRASE | TERM
field: FIELD (TERM | PHRASE)

_OR.3: /OR{_END}/
_AND.3: /AND{_END}/
NOT.3: /NOT{_END}|-(?=\S)/
NEAR.3: /NEAR\/[0-9]+{_END}/
FIELD.3: /(?i:{"|".join(FIELDS)}):/
PHRASE.2: /"[^"]*"|“[^”]*”/
TERM.1: /[^\s()"“”\-][^\s()"“”]*/
_LPAR: "("
_RPAR: ")"
%ignore /\s+/
"""

_PARSER: Final = Lark(GRAMMAR, parser="lalr", lexer="basic", propagate_positions=True)

_NAMES: Final = {
    "_OR": "OR",
    "_AND": "AND",
    "NOT": "NOT",
    "NEAR": "NEAR/n",
    "_LPAR": "'('",
    "_RPAR": "')'",
    "FIELD": "a field",
    "PHRASE": "a phrase",
    "TERM": "a word",
    "$END": "the end of the query",
}
_FIELD_LIKE = re.compile(r"([A-Za-z][A-Za-z_]*):")
_NEAR_LIKE = re.compile(r"NEAR(/.*)?")
_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*")
_FOLLOWERS = re.compile(r"(>=|<=|>|<|=)?([0-9]{1,18})")
_TAG_BODY = re.compile(r"\w+")


def compile_query(text: str) -> Query:
    """Compile a listening query once; evaluate it on many posts with `Query.matches`.
    Raises `QuerySyntaxError` (with column and caret) for any text that is not a query."""
    if len(text) > MAX_QUERY_CHARS:
        raise syntax_error(text, MAX_QUERY_CHARS, f"query longer than {MAX_QUERY_CHARS} characters")
    if not text.strip():
        raise syntax_error(text, len(text), "empty query: write at least one word")
    try:
        # a one-term query parses to the bare token (the `?` rules inline single children)
        tree: Tree[Token] | Token = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise _translate(text, exc) from None
    except LarkError as exc:  # pragma: no cover - Lark raises UnexpectedInput for bad input
        raise syntax_error(text, 0, f"cannot parse the query ({exc})") from None
    _check_depth(text, tree)
    root = _Builder(text).build(tree)
    return Query(text=text, root=root, needles=needles(root))


# --- errors --------------------------------------------------------------------------------


def syntax_error(text: str, pos: int, reason: str) -> QuerySyntaxError:
    """`reason` at character offset `pos` of `text`, with the line and a caret under it."""
    pos = max(0, min(pos, len(text)))
    line_start = text.rfind("\n", 0, pos) + 1
    line_end = text.find("\n", pos)
    line_end = len(text) if line_end < 0 else line_end
    line_no = text.count("\n", 0, pos) + 1
    column = pos - line_start + 1
    where = f"column {column}" if "\n" not in text else f"line {line_no}, column {column}"
    # A long line is cut to a window around the fault so the caret stays on screen.
    left = max(line_start, pos - _CONTEXT)
    right = min(line_end, max(pos, left) + _CONTEXT)
    head = "…" if left > line_start else ""
    tail = "…" if right < line_end else ""
    shown = head + "".join(_display(c) for c in text[left:right]) + tail
    pad = " " * len(head) + "".join(" " * _width(c) for c in text[left:pos])
    message = f"bad query at {where}: {reason}\n  {shown}\n  {pad}^"
    return QuerySyntaxError(message, column=column, line=line_no)


_CONTEXT: Final = 60


def _display(char: str) -> str:
    # Control and invisible characters would misplace the caret: show a visible stand-in.
    if char == "\t":
        return " "
    category = unicodedata.category(char)
    return "?" if category in ("Cc", "Cs", "Co", "Cn") else char


def _width(char: str) -> int:
    """Columns `char` takes on a terminal, so the caret lands under the fault."""
    if char == "\t":
        return 1
    category = unicodedata.category(char)
    if category in ("Cc", "Cs", "Co", "Cn"):
        return 1
    if category in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _translate(text: str, exc: UnexpectedInput) -> QuerySyntaxError:
    if isinstance(exc, UnexpectedCharacters):
        pos = exc.pos_in_stream or 0
        char = text[pos] if pos < len(text) else ""
        if char in ('"', "“"):
            return syntax_error(text, pos, "this quote is never closed")
        if char == "”":
            return syntax_error(text, pos, "closing quote without an opening one")
        if char == "-":
            return syntax_error(text, pos, "'-' must touch what it excludes, as in -word")
        return syntax_error(text, pos, f"unexpected character {char!r}")
    if isinstance(exc, UnexpectedToken):
        return _unexpected_token(text, exc)
    return syntax_error(text, len(text), "the query ends too early")  # pragma: no cover


def _tokens_before(text: str, pos: int) -> list[Token]:
    found: list[Token] = []
    try:
        for token in _PARSER.lex(text):
            if token.start_pos is None or token.start_pos >= pos:
                break
            found.append(token)
    except LarkError:
        pass
    return found


def _unexpected_token(text: str, exc: UnexpectedToken) -> QuerySyntaxError:
    token = exc.token
    at_end = token.type == "$END"
    pos = len(text.rstrip()) if at_end else (token.start_pos or 0)
    before = _tokens_before(text, len(text) if at_end else pos)
    prev = before[-1] if before else None
    open_parens: list[int] = []
    for t in before:
        if t.type == "_LPAR":
            open_parens.append(t.start_pos or 0)
        elif t.type == "_RPAR" and open_parens:
            open_parens.pop()
    if token.type == "_RPAR" and not open_parens:
        return syntax_error(text, pos, "')' without a matching '('")
    if token.type == "_RPAR" and prev is not None and prev.type == "_LPAR":
        return syntax_error(text, pos, "empty parentheses")
    if prev is not None and prev.type == "FIELD":
        name = prev.value[:-1].lower()
        return syntax_error(
            text, pos, f"{name}: needs a value right after it, as in {_example(name)}"
        )
    if at_end and open_parens and prev is not None and prev.type not in _OPERATORS:
        return syntax_error(text, open_parens[-1], "this '(' is never closed")
    if prev is not None and prev.type in _OPERATORS:
        what = _NAMES[prev.type]
        if at_end:
            return syntax_error(text, pos, f"the query ends after {what}: it needs a term after it")
        return syntax_error(text, pos, f"{what} must be followed by a word, phrase, field or '('")
    if token.type in ("_OR", "_AND", "NEAR"):
        return syntax_error(text, pos, f"{_NAMES[token.type]} needs a term on each side")
    return syntax_error(text, pos, f"unexpected {_NAMES.get(token.type, repr(token.value))}")


_OPERATORS: Final = frozenset({"_OR", "_AND", "NOT", "NEAR", "_LPAR"})


def _example(field: str) -> str:
    return {
        "author": "author:acme",
        "lang": "lang:en",
        "source": "source:mastodon",
        "followers": "followers:>1000",
        "has": "has:link",
    }.get(field, field + "value")


def _check_depth(text: str, tree: Tree[Token] | Token) -> None:
    """Refuse trees deeper than MAX_DEPTH before any recursive walk (iteratively)."""
    if not isinstance(tree, Tree):
        return
    stack: list[tuple[Tree[Token], int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            pos = node.meta.start_pos if not node.meta.empty else 0
            raise syntax_error(text, pos, f"query nested more than {MAX_DEPTH} levels deep")
        # a NEAR chain nests one level per NEAR once built
        step = len(node.children) // 2 if node.data == "near_expr" else 1
        stack.extend((child, depth + step) for child in node.children if isinstance(child, Tree))
        if node.data == "near_expr" and depth + step > MAX_DEPTH:
            stack.append((node, depth + step))


# --- building the tree ---------------------------------------------------------------------


class _Builder:
    def __init__(self, text: str) -> None:
        self.text = text

    def fail(self, pos: int | None, reason: str) -> QuerySyntaxError:
        return syntax_error(self.text, pos or 0, reason)

    def build(self, item: Tree[Token] | Token) -> Node:
        if isinstance(item, Token):
            if item.type == "PHRASE":
                return self.phrase(item)
            return self.term(item)
        kind = item.data
        children = item.children
        if kind == "or_expr":
            return Or(_flatten(Or, [self.build(c) for c in children]))
        if kind == "and_expr":
            return And(_flatten(And, [self.build(c) for c in children]))
        if kind == "not_expr":
            return Not(self.build(children[1]))
        if kind == "near_expr":
            return self.near(children)
        if kind == "field":
            field, value = children
            assert isinstance(field, Token)
            assert isinstance(value, Token)
            return self.field(field, value)
        raise self.fail(0, f"cannot read the query ({kind})")  # pragma: no cover

    def near(self, children: list[Tree[Token] | Token]) -> Node:
        left = self.operand(children[0])
        for i in range(1, len(children), 2):
            op = children[i]
            assert isinstance(op, Token)
            digits = op.value.split("/", 1)[1]
            if len(digits) > 4 or int(digits) > MAX_NEAR:
                raise self.fail(op.start_pos, f"NEAR distance is at most {MAX_NEAR} words")
            left = Near(left, self.operand(children[i + 1]), int(digits))
        return left

    def operand(self, item: Tree[Token] | Token) -> Node:
        node = self.build(item)
        if not is_positional(node):
            pos = item.start_pos if isinstance(item, Token) else item.meta.start_pos
            raise self.fail(
                pos,
                "NEAR/n joins words, phrases, hashtags, mentions, wildcards "
                "and OR-groups of them (no AND, NOT or fields)",
            )
        return node

    def term(self, token: Token) -> Node:
        value, pos = token.value, token.start_pos or 0
        if _NEAR_LIKE.fullmatch(value):
            raise self.fail(pos, "NEAR needs a distance in words, as in NEAR/3 (near is a word)")
        field_like = _FIELD_LIKE.match(value)
        if field_like:
            raise self.fail(
                pos,
                f"unknown field {field_like.group(1)}: (fields: "
                + ", ".join(f"{f}:" for f in FIELDS)
                + '); to search the text, put it in quotes: "'
                + value
                + '"',
            )
        if value[0] in "#@":
            return self.tag(value, pos)
        body, prefix = self.wildcard(value, pos)
        found = words(body)
        if not found:
            if prefix:
                raise self.fail(pos, "a wildcard needs letters or digits before the *")
            raise self.fail(pos, f"{value!r} has no letters or digits to search")
        terms = (*(Term(w) for w in found[:-1]), Term(found[-1], prefix))
        return Word(terms[0]) if len(terms) == 1 else Phrase(terms)

    def wildcard(self, value: str, pos: int) -> tuple[str, bool]:
        """Split a trailing ``*`` off `value`; a ``*`` anywhere else is an error."""
        star = value.find("*")
        if star < 0:
            return value, False
        if star != len(value) - 1:
            raise self.fail(pos + star, "a wildcard * can only end a word, as in refund*")
        return value[:-1], True

    def tag(self, value: str, pos: int) -> Node:
        sigil = value[0]
        body, prefix = self.wildcard(value[1:], pos + 1)
        folded = fold(body)
        what = "hashtag" if sigil == "#" else "mention"
        if not _TAG_BODY.fullmatch(folded):
            raise self.fail(
                pos, f"a {what} is {sigil} followed by letters, digits or _ only, as in {sigil}acme"
            )
        return Tag("#" if sigil == "#" else "@", folded, prefix)

    def phrase(self, token: Token) -> Node:
        pos = token.start_pos or 0
        inner = token.value[1:-1]
        terms: list[Term] = []
        offset = 0
        for raw in inner.split():
            offset = inner.index(raw, offset)
            body, prefix = self.wildcard(raw, pos + 1 + offset)
            offset += len(raw)
            found = words(body)
            if not found:
                if prefix:
                    raise self.fail(pos + offset, "a wildcard needs letters or digits before *")
                continue
            terms.extend(Term(w) for w in found[:-1])
            terms.append(Term(found[-1], prefix))
        if not terms:
            raise self.fail(pos, "this phrase has no letters or digits to search")
        return Word(terms[0]) if len(terms) == 1 else Phrase(tuple(terms))

    def field(self, field: Token, value_token: Token) -> Node:
        name = field.value[:-1].lower()
        pos = value_token.start_pos or 0
        if pos != field.end_pos:
            raise self.fail(pos, f"no space allowed after {name}:, as in {_example(name)}")
        value = value_token.value
        if value_token.type == "PHRASE":
            value, pos = value[1:-1].strip(), pos + 1
        if name in ("author", "source"):
            body, prefix = self.wildcard(value, pos)
            folded = fold(body.strip())
            if name == "author":
                folded = folded.removeprefix("@")
            if not folded:
                raise self.fail(pos, f"{name}: needs a value, as in {_example(name)}")
            return Author(folded, prefix) if name == "author" else Source(folded, prefix)
        if name == "lang":
            code = value.lower().replace("_", "-")
            if not _LANG.fullmatch(code):
                raise self.fail(pos, "lang: expects a language code, as in lang:en or lang:pt-BR")
            return Lang(code)
        if name == "followers":
            match = _FOLLOWERS.fullmatch(value)
            if not match:
                raise self.fail(
                    pos, "followers: expects a comparison and a whole number, as in followers:>1000"
                )
            op: Comparison = _COMPARISONS[match.group(1) or "="]
            return Followers(op, int(match.group(2)))
        if value.lower() != "link":
            raise self.fail(pos, "has: supports has:link")
        return HasLink()


_COMPARISONS: Final[dict[str, Comparison]] = {
    ">": ">",
    ">=": ">=",
    "<": "<",
    "<=": "<=",
    "=": "=",
}


def _flatten(kind: type[And] | type[Or], nodes: list[Node]) -> tuple[Node, ...]:
    flat: list[Node] = []
    for node in nodes:
        if isinstance(node, kind):
            flat.extend(node.children)
        else:
            flat.append(node)
    return tuple(flat)
