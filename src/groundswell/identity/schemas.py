"""Pydantic models shared by the identity API, pages and CLI."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, field_validator

from groundswell.identity.domain import Role, Scope


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _email(value: str) -> str:
    value = value.strip().lower()
    local, _, domain = value.partition("@")
    if not local or "." not in domain or " " in value or len(value) > 320:
        raise ValueError("must be an email address like name@example.org")
    return value


class UserCreate(Strict):
    email: str = Field(min_length=3, max_length=320, examples=["ana@example.org"])
    name: str = Field(default="", max_length=200)
    role: Role = Role.VIEWER
    password: str = Field(min_length=10, max_length=1024)

    _check_email = field_validator("email")(_email)


class UserOut(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenCreate(Strict):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(default_factory=lambda: [Scope.READ], min_length=1)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: str
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown this once; store it now.")


class Me(BaseModel):
    id: str
    email: str
    name: str
    role: Role
    organization_id: str
    organization_name: str
    permissions: list[str]


class AuditEntryOut(BaseModel):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    before: dict[str, object] | None
    after: dict[str, object] | None
    ip: str | None
    hash: str
