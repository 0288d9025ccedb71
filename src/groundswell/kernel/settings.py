"""The one `Settings` object. Every value can be set by an environment variable with the
`GROUNDSWELL_` prefix (e.g. `GROUNDSWELL_DATABASE_URL`)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Descriptions are the documentation (docs/settings.md is generated)."""

    model_config = SettingsConfigDict(env_prefix="GROUNDSWELL_", extra="ignore")

    data_dir: Path = Field(
        default=Path("./data"),
        description="Folder for the embedded database, uploads and exports; created by `init`.",
    )
    database_url: str = Field(
        default="",
        description=(
            "SQLAlchemy URL. Empty means SQLite at <data_dir>/groundswell.db. "
            "PostgreSQL: postgresql+psycopg://user@host:5432/dbname."
        ),
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public URL of the web app, used in links the CLI prints and emails.",
    )
    secure_cookies: bool = Field(
        default=False,
        description="Mark cookies Secure even when the request itself is not https (behind a TLS proxy).",
    )
    session_hours: int = Field(default=12, ge=1, description="Lifetime of a web session, in hours.")
    login_max_failures: int = Field(
        default=5, ge=1, description="Wrong passwords in a row before the account locks."
    )
    login_lock_minutes: int = Field(
        default=5,
        ge=1,
        description="First lock length; doubles with each further failure, capped at 24 hours.",
    )
    reset_token_minutes: int = Field(
        default=60, ge=5, description="How long a password-reset link stays valid."
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted, in bytes."
    )
    smtp_host: str = Field(default="", description="SMTP server for emails; empty disables email.")
    smtp_port: int = Field(default=25, description="SMTP port.")
    smtp_user: str = Field(default="", description="SMTP user name, if the server needs one.")
    smtp_password: SecretStr = Field(default=SecretStr(""), description="SMTP password.")
    smtp_from: str = Field(default="groundswell@localhost", description="Sender address of emails.")
    smtp_starttls: bool = Field(default=False, description="Use STARTTLS with the SMTP server.")
    triage_priority_weights: dict[str, float] = Field(
        default_factory=dict,
        description=(
            'Overrides of the triage priority weights, as JSON (e.g. {"reach": 2.0}); '
            "empty keeps the documented defaults."
        ),
    )
    listening_raw_retention_days: int = Field(
        default=90,
        ge=1,
        description="Days to keep each mention's raw payload (compressed) for reprocessing.",
    )
    log_level: str = Field(default="INFO", description="Logging level of the server.")

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'groundswell.db').resolve()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
