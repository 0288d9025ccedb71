"""Posts as they come in (the ``files`` format), for listening queries. Pydantic only."""

from __future__ import annotations

import json

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)


class AuthorIn(BaseModel):
    """An author given as an object (the ``files`` format)."""

    model_config = ConfigDict(extra="ignore")

    handle: StrictStr | None = None
    name: StrictStr | None = None
    followers: StrictInt | None = Field(default=None, ge=0)
    verified: StrictBool | None = None


class PostIn(BaseModel):
    """The fields of a post that listening queries read (the ``files`` format; other fields
    are ignored). ``id`` may be a string or an integer."""

    model_config = ConfigDict(extra="ignore")

    id: StrictStr | StrictInt
    text: StrictStr
    author: StrictStr | AuthorIn | None = None
    lang: StrictStr | None = None
    source: StrictStr | None = None
    followers: StrictInt | None = Field(default=None, ge=0)
    links: list[StrictStr] | None = None


class BadPost(ValueError):
    """A line of a posts file that is not a post; the message says why, for a person."""


def post_from_json(raw: bytes | str) -> PostIn:
    """Read one JSON line of the ``files`` format. Raises `BadPost` for invalid UTF-8 or JSON,
    a value that is not an object, or fields of the wrong type."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BadPost(f"not valid UTF-8 (byte {exc.start + 1})") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise BadPost(f"not valid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise BadPost("not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise BadPost(f"expected a JSON object, got {type(data).__name__}")
    try:
        post = PostIn.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'post'}: {e['msg']}"
            for e in exc.errors(include_url=False)[:5]
        )
        raise BadPost(problems) from None
    if isinstance(post.id, str):
        try:
            post.id.encode("utf-8")
        except UnicodeEncodeError:  # an unpaired surrogate escape such as "\ud800"
            raise BadPost("id: not valid Unicode (unpaired surrogate)") from None
    return post
