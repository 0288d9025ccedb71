"""Decoding one record's payload as a JSON object, with the limits every connector keeps:
valid UTF-8, valid JSON, an object (not a list or a scalar), nested no deeper than a bound.
Each failure is a `BadRecord` with the reason code the quarantine files it under."""

from __future__ import annotations

import json
from typing import Any

from groundswell.connectors.contract import BadRecord


def kind(value: Any) -> str:
    """The JSON name of a decoded value's type, for messages."""
    if value is None:
        return "null"
    return {bool: "boolean", int: "number", float: "number", str: "string", list: "array"}.get(
        type(value), "object"
    )


def depth(value: Any, *, stop_after: int) -> int:
    """How deeply `value` nests arrays and objects (a scalar is 0, ``{}`` is 1), counting
    no further than just past `stop_after`. Iterative, so a hostile document cannot exhaust
    the stack."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[Any] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > stop_after:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def decode_object(payload: bytes, *, max_depth: int) -> dict[str, Any]:
    """`payload` as one JSON object, or `BadRecord` with the reason."""
    try:
        raw = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRecord("invalid_utf8", f"not valid UTF-8 (byte {exc.start + 1})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadRecord(
            "invalid_json", f"not valid JSON ({exc.msg} at column {exc.colno})"
        ) from None
    except RecursionError:
        raise BadRecord("too_deep", f"nested more than {max_depth} levels") from None
    if not isinstance(data, dict):
        raise BadRecord("wrong_type", f"expected a JSON object, got {kind(data)}")
    # A document cannot nest deeper than it has opening brackets: most posts have a handful,
    # so the walk over the decoded value is needed only for the rare larger ones.
    openers = raw.count("{") + raw.count("[")
    if openers > max_depth and depth(data, stop_after=max_depth) > max_depth:
        raise BadRecord("too_deep", f"nested more than {max_depth} levels")
    return data
