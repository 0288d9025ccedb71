"""What the mention page shows besides triage: the thread (the `in_reply_to` chain within
stored mentions, and the replies), the author's other mentions, the saved queries it matched,
the size of its near-duplicate cluster, and the flags people raised on it (from the audit log,
where `listening.actions.flag_mention` records them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from groundswell.identity.service import Actor
from groundswell.kernel.clock import as_utc
from groundswell.kernel.errors import NotFound
from groundswell.kernel.tables import AuditEntry
from groundswell.listening import dedupe
from groundswell.listening.tables import ListeningQuery, Mention, MentionMatch

FLAG_ACTION = "listening.mention.flag"
MAX_ID = 2**63 - 1
THREAD_DEPTH = 20


@dataclass
class Flag:
    at: datetime
    by: str
    note: str


@dataclass
class MentionDetail:
    mention: Mention
    ancestors: list[Mention]  # oldest first, up to the mention's parent
    replies: list[Mention]
    missing_parent: str | None  # the in_reply_to we do not hold
    author_mentions: list[Mention]
    matched: list[ListeningQuery]
    cluster_size: int
    flags: list[Flag]


def get_mention(session: Session, actor: Actor, mention_id: int) -> Mention:
    if not 0 < mention_id <= MAX_ID:
        raise NotFound(f"No mention {mention_id}.")
    mention = session.get(Mention, mention_id)
    if mention is None or mention.organization_id != actor.organization_id:
        raise NotFound(f"No mention {mention_id}.")
    return mention


def _by_external_id(session: Session, mention: Mention, external_id: str) -> Mention | None:
    return session.scalar(
        select(Mention).where(
            Mention.organization_id == mention.organization_id,
            Mention.source == mention.source,
            Mention.external_id == external_id,
        )
    )


def flags_of(session: Session, actor: Actor, mention_id: int) -> list[Flag]:
    rows = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.organization_id == actor.organization_id,
            AuditEntry.action == FLAG_ACTION,
            AuditEntry.object_type == "mention",
            AuditEntry.object_id == str(mention_id),
        )
        .order_by(AuditEntry.seq)
    )
    return [Flag(as_utc(r.at), r.actor_label, str((r.after or {}).get("note", ""))) for r in rows]


def mention_detail(session: Session, actor: Actor, mention_id: int) -> MentionDetail:
    """Everything the mention page shows but triage. Raises `NotFound`."""
    mention = get_mention(session, actor, mention_id)
    ancestors: list[Mention] = []
    missing: str | None = None
    seen = {mention.id}
    parent_id = mention.in_reply_to
    while parent_id and len(ancestors) < THREAD_DEPTH:
        parent = _by_external_id(session, mention, parent_id)
        if parent is None:
            missing = parent_id
            break
        if parent.id in seen:
            break
        seen.add(parent.id)
        ancestors.append(parent)
        parent_id = parent.in_reply_to
    ancestors.reverse()
    replies = list(
        session.scalars(
            select(Mention)
            .where(
                Mention.organization_id == mention.organization_id,
                Mention.source == mention.source,
                Mention.in_reply_to == mention.external_id,
                Mention.channel == mention.channel,
            )
            .order_by(Mention.created_at, Mention.id)
            .limit(50)
        )
    )
    author_mentions: list[Mention] = []
    if mention.author_handle:
        author_mentions = list(
            session.scalars(
                select(Mention)
                .where(
                    Mention.organization_id == mention.organization_id,
                    Mention.source == mention.source,
                    Mention.author_handle == mention.author_handle,
                    Mention.id != mention.id,
                    Mention.channel == mention.channel,
                )
                .order_by(Mention.created_at.desc(), Mention.id.desc())
                .limit(10)
            )
        )
    matched = list(
        session.scalars(
            select(ListeningQuery)
            .join(MentionMatch, MentionMatch.query_id == ListeningQuery.id)
            .where(MentionMatch.mention_id == mention.id)
            .order_by(ListeningQuery.name)
        )
    )
    size = (
        dedupe.cluster_size(session, mention.organization_id, mention.cluster_id)
        if mention.cluster_id is not None
        else 1
    )
    return MentionDetail(
        mention=mention,
        ancestors=ancestors,
        replies=replies,
        missing_parent=missing,
        author_mentions=author_mentions,
        matched=matched,
        cluster_size=size,
        flags=flags_of(session, actor, mention.id),
    )
