"""One error hierarchy. Each error carries a stable `code`, an HTTP status and a message meant
for the person who caused it. The API renders them as RFC 9457 problem+json, the web as a
friendly page, the CLI as one line on stderr and a non-zero exit."""

from __future__ import annotations

from typing import Any, ClassVar


class GroundswellError(Exception):
    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request failed"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(GroundswellError):
    code = "invalid_input"
    status = 422
    title = "Invalid input"
    exit_code = 2


class NotAuthenticated(GroundswellError):
    code = "not_authenticated"
    status = 401
    title = "Not authenticated"


class Forbidden(GroundswellError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class NotFound(GroundswellError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(GroundswellError):
    code = "conflict"
    status = 409
    title = "Conflict"


class Locked(GroundswellError):
    code = "locked"
    status = 423
    title = "Locked"


class PayloadTooLarge(GroundswellError):
    code = "payload_too_large"
    status = 413
    title = "Payload too large"


class NotReady(GroundswellError):
    code = "not_ready"
    status = 503
    title = "Not ready"


def problem(
    status: int, title: str, detail: str, code: str, instance: str = "", **extra: Any
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": f"https://groundswell.dev/problems/{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return body
