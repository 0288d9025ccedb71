"""The ``reddit`` connector: a subreddit's new submissions or comments, or a search, read over
OAuth (`fetch`), and replies posted as comments (`publish`). See README.md.

Reading asks for ``before=<cursor>`` (a fullname): Reddit answers with the things just newer
than it, at most ``limit``, so successive fetches leave no gap; the next cursor is the newest
fullname of the page. The first fetch reads the newest page. A thing already deleted or
removed when read comes back in `Batch.deleted` (the core deletes the mention if it had it).

Tokens come from ``https://www.reddit.com/api/v1/access_token``: the ``client_credentials``
grant (application only: reading) or, when the secret ``password`` is set, the ``password``
grant of a "script" app (reading and replying as that account). Every request carries the
User-Agent Reddit requires, ``<platform>:<app id>:<version> (by /u/<username>)``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from groundswell import __version__
from groundswell.connectors.contract import (
    Batch,
    Capabilities,
    Channel,
    ConnectorPost,
    Published,
    RawRecord,
    SourceConfig,
)
from groundswell.connectors.http import (
    RetryPolicy,
    SourceUnavailable,
    request,
    retry_after_seconds,
)
from groundswell.connectors.reddit.parse import FORMAT_THING, fullname, is_gone, parse_thing

ACCESS_TOKEN_ENDPOINT = "https://www.reddit.com/api/v1/access_token"  # noqa: S105 (a URL)
API = "https://oauth.reddit.com"
LISTINGS = ("new", "comments", "search")
PAGE_SIZE = 100  # the most a listing gives
MAX_COMMENT = 10_000  # characters in a comment
_WAIT = re.compile(r"(\d+)\s*(second|minute)", re.IGNORECASE)


class RedditConnector:
    """Reddit. Sleeping, randomness and the monotonic clock (token expiry) are injectable."""

    name = "reddit"
    capabilities = Capabilities(
        pulls=True,
        publishes=True,
        can_reply=True,
        threads=True,
        max_length=MAX_COMMENT,
        requests_per_minute=100,  # per OAuth client id, averaged over 10 minutes
        options=("subreddit", "listing", "query", "username", "user_agent"),
        secrets=("client_id", "client_secret", "password"),
        required=("client_id", "client_secret"),
    )

    def __init__(
        self,
        *,
        policy: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
        monotonic: Callable[[], float] = time.monotonic,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self._policy = policy
        self._sleep = sleep
        self._rand = rand
        self._monotonic = monotonic
        self._page_size = page_size
        self._tokens: dict[tuple[str, str], tuple[str, float]] = {}

    def parse(self, record: RawRecord) -> ConnectorPost:
        return parse_thing(record.payload)

    def fetch(self, config: SourceConfig, cursor: str | None, *, client: httpx.Client) -> Batch:
        """The things after `cursor` (a fullname), oldest first."""
        path, params = _listing(config)
        params.update({"limit": self._page_size, "raw_json": 1})
        if cursor:
            params["before"] = cursor
        response = self._api(config, client, "GET", path, params=params)
        body = _json(response)
        data = body.get("data") if body.get("kind") == "Listing" else None
        children = data.get("children") if isinstance(data, dict) else None
        if not isinstance(children, list):
            raise SourceUnavailable("Reddit answered with something that is not a Listing.")
        things = [c for c in children if isinstance(c, dict) and fullname(c)]
        records: list[RawRecord] = []
        deleted: list[str] = []
        for thing in reversed(things):  # listings are newest first
            if is_gone(thing):
                deleted.append(str(fullname(thing)))
            else:
                payload = json.dumps(thing, ensure_ascii=False, separators=(",", ":"))
                records.append(RawRecord(payload.encode("utf-8"), len(records) + 1, FORMAT_THING))
        return Batch(
            records=tuple(records),
            cursor=fullname(things[0]) if things else cursor,
            deleted=tuple(deleted),
            wait_seconds=_rate_limit_wait(response),
        )

    def publish(
        self,
        config: SourceConfig,
        text: str,
        *,
        in_reply_to: str | None = None,
        channel: Channel = "public",
        recipient: str | None = None,
        client: httpx.Client,
    ) -> Published:
        """Reply to the submission or comment `in_reply_to` (a fullname, ``t3_…`` or ``t1_…``)
        with a comment, as the account of the secret ``password``."""
        if channel != "public":
            # Never fall back to a public reply: the customer wrote privately.
            raise SourceUnavailable(
                "This connector cannot send Reddit private messages: the private reply was not"
                " sent, and not posted publicly either. Answer the customer on Reddit"
                " itself."
            )
        if not in_reply_to or not re.fullmatch(r"t[13]_[0-9a-z]+", in_reply_to):
            raise SourceUnavailable(
                "Reddit replies need the fullname of the submission or comment answered"
                " (t3_… or t1_…); new submissions are not published from here."
            )
        if len(text) > MAX_COMMENT:
            raise SourceUnavailable(
                f"The text has {len(text)} characters; a Reddit comment takes at most {MAX_COMMENT}."
            )
        if not text.strip():
            raise SourceUnavailable("The text is empty.")
        if not config.secrets.get("password"):
            raise SourceUnavailable(
                "Replying on Reddit needs a script app's account: set the option username and"
                " the secret password."
            )
        form = {"api_type": "json", "thing_id": in_reply_to, "text": text}
        response = self._api(config, client, "POST", "/api/comment", data=form)
        answer = _json(response).get("json")
        if not isinstance(answer, dict):
            raise SourceUnavailable("Reddit answered the comment with something unexpected.")
        errors = answer.get("errors") or []
        if errors:
            first = errors[0] if isinstance(errors[0], list) else [str(errors[0])]
            message = " ".join(str(part) for part in first[:2])
            wait = _WAIT.search(message)
            seconds = None
            if wait:
                seconds = float(wait.group(1)) * (60 if wait.group(2).lower() == "minute" else 1)
            raise SourceUnavailable(f"Reddit refused the comment: {message}", retry_after=seconds)
        things = (answer.get("data") or {}).get("things") or []
        comment = things[0].get("data") if things and isinstance(things[0], dict) else None
        if not isinstance(comment, dict) or not isinstance(comment.get("name"), str):
            raise SourceUnavailable("Reddit answered the comment without its name.")
        permalink = comment.get("permalink")
        return Published(
            external_id=comment["name"],
            url=f"https://www.reddit.com{permalink}" if isinstance(permalink, str) else None,
        )

    # -- helpers ---------------------------------------------------------------------------

    def _api(
        self, config: SourceConfig, client: httpx.Client, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """One OAuth call; a 401 (expired or revoked token) gets one fresh token and one more
        try."""
        for attempt in (1, 2):
            token = self._token(config, client, fresh=attempt == 2)
            headers = {"Authorization": f"bearer {token}", "User-Agent": user_agent(config)}
            response = request(
                client,
                method,
                API + path,
                headers=headers,
                policy=self._policy,
                sleep=self._sleep,
                rand=self._rand,
                **kwargs,
            )
            if response.status_code != 401:
                break
        if response.status_code >= 400:
            hint = {403: " (the app lacks access to this)", 404: " (check the subreddit)"}
            raise SourceUnavailable(
                f"Reddit refused {path} with HTTP {response.status_code}"
                f"{hint.get(response.status_code, '')}",
                status=response.status_code,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        return response

    def _token(self, config: SourceConfig, client: httpx.Client, *, fresh: bool) -> str:
        client_id = config.secrets.get("client_id") or ""
        secret = config.secrets.get("client_secret") or ""
        if not client_id:
            raise SourceUnavailable("Reddit needs the secrets client_id and client_secret.")
        username = config.options.get("username") or ""
        password = config.secrets.get("password") or ""
        key = (client_id, username if password else "")
        cached = self._tokens.get(key)
        if cached and not fresh and cached[1] > self._monotonic():
            return cached[0]
        if password:
            form = {"grant_type": "password", "username": username, "password": password}
        else:
            form = {"grant_type": "client_credentials"}
        response = request(
            client,
            "POST",
            ACCESS_TOKEN_ENDPOINT,
            data=form,
            auth=(client_id, secret),
            headers={"User-Agent": user_agent(config)},
            policy=self._policy,
            sleep=self._sleep,
            rand=self._rand,
        )
        body = _json(response) if response.status_code < 500 else {}
        token = body.get("access_token")
        if response.status_code >= 400 or not isinstance(token, str):
            reason = body.get("error") or f"HTTP {response.status_code}"
            raise SourceUnavailable(
                f"Reddit refused the sign-in ({reason}); check client_id, client_secret"
                + (", username and password" if password else ""),
                status=response.status_code,
            )
        expires = body.get("expires_in")
        lifetime = float(expires) if isinstance(expires, int | float) else 3600.0
        # Renew a minute early so a token never expires between the check and the call.
        self._tokens[key] = (token, self._monotonic() + max(0.0, lifetime - 60))
        return token


def user_agent(config: SourceConfig) -> str:
    """The option ``user_agent``, or one in the form Reddit asks for."""
    explicit = (config.options.get("user_agent") or "").strip()
    if explicit:
        return explicit
    app = config.secrets.get("client_id") or "unknown"
    username = config.options.get("username") or "unknown"
    return f"python:groundswell.{app}:{__version__} (by /u/{username})"


def _listing(config: SourceConfig) -> tuple[str, dict[str, Any]]:
    subreddit = (config.options.get("subreddit") or "").strip().removeprefix("r/").strip("/")
    query = (config.options.get("query") or "").strip()
    listing = config.options.get("listing") or ("search" if query else "new")
    if listing not in LISTINGS:
        raise SourceUnavailable(f"The option listing must be one of {', '.join(LISTINGS)}.")
    if listing == "search":
        if not query:
            raise SourceUnavailable("A Reddit search needs the option query.")
        params: dict[str, Any] = {"q": query, "sort": "new", "type": "link"}
        if subreddit:
            params["restrict_sr"] = "on"
            return f"/r/{quote(subreddit)}/search", params
        return "/search", params
    if not subreddit:
        raise SourceUnavailable("A subreddit listing needs the option subreddit.")
    return f"/r/{quote(subreddit)}/{listing}", {}


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Reddit's ``X-Ratelimit-Remaining`` (requests left in the window) and
    ``X-Ratelimit-Reset`` (seconds to the window's end): when none is left, wait for the reset."""
    remaining = response.headers.get("X-Ratelimit-Remaining")
    reset = response.headers.get("X-Ratelimit-Reset")
    if remaining is None or reset is None:
        return None
    try:
        if float(remaining) >= 1:
            return None
        return max(0.0, float(reset))
    except ValueError:
        return None


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise SourceUnavailable("Reddit answered with something that is not JSON.") from None
    if not isinstance(data, dict):
        raise SourceUnavailable("Reddit answered with something that is not an object.")
    return data
