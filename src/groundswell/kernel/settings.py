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
    approval_expiry_hours: int = Field(
        default=72,
        ge=1,
        description=(
            "Hours an approval request waits for a decision before it expires "
            "(the job governance.expire_approvals marks it and tells the requester)."
        ),
    )
    listening_queue_batches: int = Field(
        default=2,
        ge=1,
        description=(
            "Batches fetched from sources that may wait in memory to be stored; when the queue "
            "is full, source threads block (backpressure) instead of reading more. Each waiting "
            "batch adds its storing time to the delay before a post is searchable."
        ),
    )
    listening_poll_seconds: float = Field(
        default=60.0,
        gt=0,
        description="Seconds before asking a polled source again after it had nothing new.",
    )
    listening_sources_in_serve: bool = Field(
        default=True,
        description=(
            "Run the active listening sources inside `groundswell serve` (background threads); "
            "turn off when a separate `groundswell worker` runs them."
        ),
    )
    listening_cluster_window_days: int = Field(
        default=7,
        ge=1,
        description="Days within which near-duplicate posts join one cluster (copy-paste campaigns).",
    )
    care_min_priority: int = Field(
        default=60,
        ge=0,
        le=101,
        description=(
            "Care: a matched mention becomes a conversation when it is a complaint or a "
            "question, or its priority is at least this (routing rules may override; 101: never "
            "by priority alone)."
        ),
    )
    care_author_window_minutes: int = Field(
        default=1440,
        ge=0,
        description=(
            "Care: a mention outside any known thread joins its author's open conversation on "
            "the same source when that one heard from them within these minutes (0: never)."
        ),
    )
    care_max_age_hours: int = Field(
        default=72,
        ge=0,
        description=(
            "Care: a mention older than this when it arrives (an import of old posts) opens no "
            "new conversation; it still joins a conversation it answers (0: no limit)."
        ),
    )
    care_undo_seconds: int = Field(
        default=10,
        ge=0,
        le=300,
        description="Care: seconds a queued reply waits before sending, during which it can be undone.",
    )
    care_max_send_attempts: int = Field(
        default=5,
        ge=1,
        description="Care: attempts to send a reply (with exponential backoff) before it is failed.",
    )
    crisis_sensitivity: float = Field(
        default=1.0,
        gt=0,
        le=10_000,
        description=(
            "Crisis: live spike detection sensitivity; multiplies the tolerated false-alarm "
            "rate (2 = more alerts, 0.5 = fewer), as `crisis backtest --sensitivity`."
        ),
    )
    crisis_bucket_minutes: int = Field(
        default=5,
        ge=1,
        le=60,
        description="Crisis: length of a live detection bucket in minutes (must divide 60).",
    )
    crisis_history_hours: int = Field(
        default=192,
        ge=25,
        le=24 * 35,
        description=(
            "Crisis: hours of stored mentions the live detector replays for its baseline "
            "(8 days gives it a weekly profile)."
        ),
    )
    crisis_update_minutes: dict[str, int] = Field(
        default_factory=dict,
        description=(
            'Crisis: minutes between incident status updates per severity, as JSON (e.g. {"sev1": '
            "15}); unset severities keep sev1 30, sev2 60, sev3 240, sev4 1440."
        ),
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
