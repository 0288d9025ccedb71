"""Listening tables: stored mentions, saved queries, their matches, and the quarantine.

Mentions use an integer key (not a UUID like most tables): they are the high-volume table, and
SQLite's FTS5 index (``mention_fts``, external content) addresses rows by integer rowid. The
full-text index itself is written by hand in the migrations (SQLite: ``mention_fts`` +
triggers; PostgreSQL: a GIN index over ``to_tsvector('simple', mention_search_fold(text))``);
`SEARCH_INDEX_TABLES` names the tables it adds on SQLite (`kernel.migrate.include_object` skips
them when comparing schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from groundswell.kernel.db import Base, UTCDateTime, new_id

BigId = BigInteger().with_variant(Integer(), "sqlite")

SEARCH_INDEX_TABLES = frozenset(
    {
        "mention_fts",
        "mention_fts_data",
        "mention_fts_idx",
        "mention_fts_docsize",
        "mention_fts_config",
        "mention_fts_deferred",  # the ids whose entries a storing batch writes itself
    }
)


class Mention(Base):
    """A post heard on a network, normalized. Unique per organization on (source,
    external_id). `raw_payload` is the record as read, zlib-compressed; it is cleared after
    the retention period (`purge_raw_payloads`)."""

    __tablename__ = "mention"
    __table_args__ = (UniqueConstraint("organization_id", "source", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # No index of its own: the unique (organization_id, source, external_id) index leads with it.
    organization_id: Mapped[str] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    author_handle: Mapped[str | None] = mapped_column(String(200))
    author_name: Mapped[str | None] = mapped_column(String(200))
    author_followers: Mapped[int | None] = mapped_column(BigInteger)
    author_verified: Mapped[bool | None] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    in_reply_to: Mapped[str | None] = mapped_column(String(200))
    links: Mapped[list[str]] = mapped_column(JSON, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sentiment: Mapped[str | None] = mapped_column(String(16))
    labels: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int | None] = mapped_column(Integer)
    raw_payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    # "public", or "direct" for a private message to the brand account: listening's lists,
    # search and charts show public mentions only; care takes direct ones (`connectors.contract`).
    channel: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    # Near-duplicate cluster (copy-paste campaigns, `listening.dedupe`): an opaque number
    # shared by near-duplicate posts; a post without any is a cluster of one; None for posts
    # too short to compare.
    cluster_id: Mapped[int | None] = mapped_column(BigInteger, index=True)


class ListeningQuery(Base):
    """A saved listening query; `query` is its text in the query language (docs/queries.md)."""

    __tablename__ = "listening_query"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    topic: Mapped[str] = mapped_column(String(200), default="")
    query: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MentionMatch(Base):
    """A saved query matched a mention (when it was ingested)."""

    __tablename__ = "mention_match"

    mention_id: Mapped[int] = mapped_column(
        ForeignKey("mention.id", ondelete="CASCADE"), primary_key=True
    )
    query_id: Mapped[str] = mapped_column(
        ForeignKey("listening_query.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    matched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QuarantinedRecord(Base):
    """A record that was not a post: why (`reason` code + `message`), where it was, and its
    payload (zlib-compressed, exact bytes). `fingerprint` (SHA-256 of the payload) keeps a
    re-import from quarantining the same record twice."""

    __tablename__ = "quarantine"
    __table_args__ = (UniqueConstraint("organization_id", "source", "fingerprint"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(50))
    connector: Mapped[str] = mapped_column(String(50))
    format: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(50))
    message: Mapped[str] = mapped_column(Text)
    location: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    fingerprint: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ListeningSource(Base):
    """A configured connector instance (`listening.sources`). `name` is the source stored on
    its mentions. `secrets` holds the credentials as one vault ciphertext (JSON inside), never
    plain. `cursor` is the connector's opaque position, written in the same transaction as the
    mentions it led to. Health: `last_fetch_at`, `last_error`, `error_count` (failures in a
    row), `wait_until` (rate limit: not asked again before), `lag_seconds` (how old the newest
    post of the last batch was when stored)."""

    __tablename__ = "listening_source"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(50))
    connector: Mapped[str] = mapped_column(String(50))
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    secrets: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="active")
    cursor: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    wait_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lag_seconds: Mapped[float | None] = mapped_column(Float)
    stored_count: Mapped[int] = mapped_column(BigInteger, default=0)


class ClusterBand(Base):
    """An LSH band key of a MinHash signature seen in the organization, and the
    near-duplicate cluster it leads to (`listening.dedupe`). Rows older than the clustering
    window are purged."""

    __tablename__ = "mention_cluster_band"
    # One B-tree keyed by (organization, band key) on SQLite: written for most posts, so no
    # second index (the hourly purge scans it).
    __table_args__ = ({"sqlite_with_rowid": False},)

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), primary_key=True
    )
    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    cluster_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
