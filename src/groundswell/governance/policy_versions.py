"""Saving, listing and comparing the organization's policy versions.

Contracts:
- Reading versions needs `org:read` (everyone may know the rules they work under); saving a
  version is `decide(EDIT_POLICY)` under the organization's coordination model (owners and
  admins; hub managers outside command and control only with an approval, which this module
  does not start: they are told to ask an owner or admin).
- A saved version is never changed: saving makes a new `major.minor` version. A major version
  asks everyone to attest to the guidelines again (members are notified in-app); a minor one
  does not. The stored document's `version` field is rewritten to `major.minor.0`.
- Functions flush, never commit; every save writes an audit row (with the list of changes)
  and emits `PolicyVersionSaved` in the same transaction.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any, ClassVar, Literal

from pydantic import BaseModel
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from groundswell.governance.domain import Action, Decision
from groundswell.governance.policies import current_version
from groundswell.governance.policy import Policy, dump_policy, parse_policy, starter_policy
from groundswell.governance.policy_tables import PolicyVersion
from groundswell.governance.service import ApprovalRequired, authorize
from groundswell.identity.domain import Permission
from groundswell.identity.notifications import notify
from groundswell.identity.service import Actor
from groundswell.identity.tables import User
from groundswell.kernel import audit
from groundswell.kernel.errors import Forbidden, InvalidInput, NotFound
from groundswell.kernel.events import Event, emit
from groundswell.kernel.pagination import Page, paginate

MAX_DOCUMENT_CHARS = 512 * 1024
MAX_NOTE_CHARS = 2000
STARTER = "starter"


class PolicyVersionSaved(Event):
    """A new policy version is current. `major` is True when it is a new major version (people
    must attest to the guidelines again)."""

    name: ClassVar[str] = "governance.policy_version_saved"
    organization_id: str
    version: str
    major: bool


class VersionInfo(BaseModel):
    """One version as the history shows it: who saved it, when and why."""

    id: str
    version: str
    major: int
    minor: int
    author: str
    author_id: str | None
    note: str
    created_at: datetime
    current: bool = False
    previous: str = STARTER  # the version it followed (`starter` for the first)


class FieldChange(BaseModel):
    """One field of a rule or network that differs. For list fields, `added` and `removed`
    say which items changed; `before`/`after` hold the whole values."""

    field: str
    before: Any = None
    after: Any = None
    added: list[Any] = []
    removed: list[Any] = []


class Change(BaseModel):
    """A rule or network added, removed or changed (with the fields that changed)."""

    kind: Literal["rule", "network", "name"]
    op: Literal["added", "removed", "changed"]
    id: str
    fields: list[FieldChange] = []

    @property
    def line(self) -> str:
        sign = {"added": "+", "removed": "-", "changed": "~"}[self.op]
        names = ", ".join(f.field for f in self.fields)
        return f"{sign} {self.kind} {self.id}" + (f": {names}" if names else "")


class PolicyDiff(BaseModel):
    old_version: str
    new_version: str
    changes: list[Change]


@dataclass(frozen=True)
class _At:
    """A clock stopped at the moment the caller passed."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment


# ---------------------------------------------------------------- reading


def _info(row: PolicyVersion, current_id: str | None) -> VersionInfo:
    return VersionInfo(
        id=row.id,
        version=row.version,
        major=row.major,
        minor=row.minor,
        author=row.author_label,
        author_id=row.author_id,
        note=row.note,
        created_at=row.created_at,
        current=row.id == current_id,
    )


def list_versions(
    session: Session, actor: Actor, *, limit: int = 50, cursor: str | None = None
) -> Page[VersionInfo]:
    """Saved versions, newest first (an organization that saved none has an empty history:
    the starter policy applies)."""
    actor.require(Permission.ORG_READ)
    current_id = current_version(session, actor.organization_id).id
    rows, next_cursor = paginate(
        session,
        select(PolicyVersion).where(PolicyVersion.organization_id == actor.organization_id),
        key=PolicyVersion.created_at,
        id_=PolicyVersion.id,
        limit=limit,
        cursor=cursor,
    )
    items = [_info(row, current_id) for row in rows]
    for newer, older in pairwise(items):
        newer.previous = older.version
    if items:
        items[-1].previous = _previous(session, actor.organization_id, rows[-1])
    return Page[VersionInfo](items=items, next_cursor=next_cursor)


def _previous(session: Session, organization_id: str, row: PolicyVersion) -> str:
    older = session.execute(
        select(PolicyVersion.major, PolicyVersion.minor)
        .where(
            PolicyVersion.organization_id == organization_id,
            or_(
                PolicyVersion.major < row.major,
                and_(PolicyVersion.major == row.major, PolicyVersion.minor < row.minor),
            ),
        )
        .order_by(PolicyVersion.major.desc(), PolicyVersion.minor.desc())
        .limit(1)
    ).first()
    return STARTER if older is None else f"{older.major}.{older.minor}"


def previous_version(session: Session, actor: Actor, row: PolicyVersion) -> str:
    """The version `row` followed (`starter` for the first saved one)."""
    actor.require(Permission.ORG_READ)
    return _previous(session, actor.organization_id, row)


def access_version(session: Session, actor: Actor, ref: str) -> PolicyVersion:
    """One saved version of the actor's organization, by id or by `major.minor`."""
    actor.require(Permission.ORG_READ)
    stmt = select(PolicyVersion).where(PolicyVersion.organization_id == actor.organization_id)
    major, dot, minor = ref.partition(".")
    if dot and major.isdigit() and minor.isdigit():
        stmt = stmt.where(PolicyVersion.major == int(major), PolicyVersion.minor == int(minor))
    else:
        stmt = stmt.where(PolicyVersion.id == ref)
    row = session.scalar(stmt)
    if row is None:
        raise NotFound(f"No policy version {ref!r} in your organization.")
    return row


def policy_of(session: Session, actor: Actor, ref: str) -> tuple[str, Policy]:
    """(version label, policy) for a saved version, or for `starter` (the shipped policy)."""
    if ref == STARTER:
        actor.require(Permission.ORG_READ)
        return STARTER, starter_policy()
    row = access_version(session, actor, ref)
    return row.version, parse_policy(row.document, f"policy version {row.version}")


def diff_versions(session: Session, actor: Actor, old_ref: str, new_ref: str) -> PolicyDiff:
    """What changed from one version (or `starter`) to another."""
    old_label, old = policy_of(session, actor, old_ref)
    new_label, new = policy_of(session, actor, new_ref)
    return PolicyDiff(old_version=old_label, new_version=new_label, changes=diff(old, new))


# ---------------------------------------------------------------- diff (pure)


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    changes = []
    for key in sorted(before.keys() | after.keys()):
        a, b = before.get(key), after.get(key)
        if a == b:
            continue
        change = FieldChange(field=key, before=a, after=b)
        if isinstance(a, list) and isinstance(b, list):
            change.added = [item for item in b if item not in a]
            change.removed = [item for item in a if item not in b]
        elif isinstance(a, dict) and isinstance(b, dict):
            change.added = sorted(str(k) for k in b.keys() - a.keys())
            change.removed = sorted(str(k) for k in a.keys() - b.keys())
        changes.append(change)
    return changes


def diff(old: Policy, new: Policy) -> list[Change]:
    """Rule and network changes from `old` to `new` (the version number itself is ignored):
    rules in id order, then networks; a changed one names the fields that changed."""
    changes: list[Change] = []
    if old.name != new.name:
        changes.append(
            Change(
                kind="name",
                op="changed",
                id="name",
                fields=[FieldChange(field="name", before=old.name, after=new.name)],
            )
        )
    sections: list[tuple[Literal["rule", "network"], dict[str, BaseModel], dict[str, BaseModel]]]
    sections = [
        ("rule", {r.id: r for r in old.rules}, {r.id: r for r in new.rules}),
        ("network", dict(old.networks), dict(new.networks)),
    ]
    for kind, before, after in sections:
        for key in sorted(before.keys() | after.keys()):
            a, b = before.get(key), after.get(key)
            if a is None:
                changes.append(Change(kind=kind, op="added", id=key))
            elif b is None:
                changes.append(Change(kind=kind, op="removed", id=key))
            elif a != b:
                fields = _field_changes(a.model_dump(mode="json"), b.model_dump(mode="json"))
                changes.append(Change(kind=kind, op="changed", id=key, fields=fields))
    return changes


# ---------------------------------------------------------------- editing


def json_text(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)


def parse_document(text: str, source: str = "policy") -> Policy:
    """The policy typed in the editor or imported: JSON when it starts with `{`, else TOML.
    Raises `InvalidInput` naming the first problem (and where it is)."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidInput(f"{source}: the document is over {MAX_DOCUMENT_CHARS} characters.")
    stripped = text.strip()
    if not stripped:
        raise InvalidInput(f"{source}: the document is empty.")
    if stripped.startswith("{"):
        try:
            json.loads(stripped)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"{source}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from exc
        return parse_policy(stripped, source)
    try:
        document = tomllib.loads(stripped)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"{source}: not valid TOML: {exc}") from exc
    return parse_policy(json.dumps(document), source)


def edit_decision(session: Session, actor: Actor) -> Decision:
    """May this person save a new policy version now (under the coordination model)?"""
    return authorize(session, actor, Action.EDIT_POLICY).decision


def clean_note(note: str) -> str:
    note = note.strip()
    if not note:
        raise InvalidInput("Say what changed and why in the note: the history shows it.")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(f"The note is over {MAX_NOTE_CHARS} characters.")
    return note


def changes_from_current(session: Session, organization_id: str, policy: Policy) -> list[Change]:
    """What `policy` changes from the organization's current version; `InvalidInput` when
    nothing (once a version is stored: the first save may keep the starter policy as is)."""
    current = current_version(session, organization_id)
    if current.id is None:
        return diff(starter_policy(), policy)
    document = session.scalar(select(PolicyVersion.document).where(PolicyVersion.id == current.id))
    changes = diff(parse_policy(document or "", f"policy version {current.version}"), policy)
    if not changes:
        raise InvalidInput(f"Nothing changed from version {current.version}; nothing to save.")
    return changes


def save_version(
    session: Session,
    actor: Actor,
    policy: Policy,
    *,
    major: bool,
    note: str,
    now: datetime,
) -> PolicyVersion:
    """Store `policy` as the organization's new current version (`major.0` or `x.minor+1`).

    Refused (Forbidden) unless `decide(EDIT_POLICY)` allows it; `ApprovalRequired` when it
    allows it only with approvals (use `policy_drafts.propose`); `InvalidInput` when nothing
    changed from the current version or the note is missing. Notifies every active member
    when the major version changes."""
    actor.require(Permission.CONTENT_WRITE)
    decision = edit_decision(session, actor)
    if not decision.allowed:
        raise Forbidden(decision.reason)
    if decision.approvals_needed:
        raise ApprovalRequired(f"{decision.reason} Propose the change for approval instead.")
    return store_version(
        session,
        actor.audit,
        actor.organization_id,
        policy,
        major=major,
        note=note,
        author_id=actor.user_id,
        author_label=actor.email,
        now=now,
    )


def store_version(
    session: Session,
    by: audit.AuditActor,
    organization_id: str,
    policy: Policy,
    *,
    major: bool,
    note: str,
    author_id: str | None,
    author_label: str,
    now: datetime,
) -> PolicyVersion:
    """Store a new current version, already authorized (by `save_version`, or by approvals of
    a proposal): audit row by `by`, `PolicyVersionSaved`, notifications on a major version."""
    note = clean_note(note)
    org = organization_id
    current = current_version(session, org)
    changes = changes_from_current(session, org, policy)
    new_major, new_minor = (current.major + 1, 0) if major else (current.major, current.minor + 1)
    stored = policy.model_copy(update={"version": f"{new_major}.{new_minor}.0"})
    row = PolicyVersion(
        organization_id=org,
        major=new_major,
        minor=new_minor,
        document=dump_policy(stored),
        author_id=author_id,
        author_label=author_label,
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    clock = _At(now)
    audit.record(
        session,
        by,
        "governance.policy.saved",
        "policy_version",
        row.id,
        before={"version": current.version if current.id else f"{STARTER} {current.version}"},
        after={
            "version": row.version,
            "major": major,
            "author": author_label,
            "note": note,
            "changes": [c.line for c in changes],
        },
        organization_id=org,
        clock=clock,
    )
    emit(
        session,
        PolicyVersionSaved(organization_id=org, version=row.version, major=major),
        clock=clock,
    )
    if major:
        members = session.scalars(
            select(User.id).where(User.organization_id == org, User.is_active.is_(True))
        ).all()
        notify(
            session,
            organization_id=org,
            user_ids=members,
            kind="governance.training",
            title=f"Policy {row.version}: please read the guidelines and retake the quiz",
            body=f"{author_label} saved a new major version of the social media policy: {note}",
            link="/governance/training",
            now=now,
        )
    return row
