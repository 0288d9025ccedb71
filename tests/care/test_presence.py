"""Presence: who else has a conversation open, who is typing, and that it expires."""

from __future__ import annotations

from datetime import timedelta

from groundswell.care import presence
from groundswell.identity.domain import Role
from groundswell.kernel.clock import FrozenClock
from groundswell.kernel.db import Database
from tests.builders import make_org, make_user
from tests.care.page_data import make_conversation


def test_others_see_viewers_and_typists_but_not_themselves(
    db: Database, clock: FrozenClock
) -> None:
    owner = make_org(db)
    ari, bea = make_user(db, owner, Role.AGENT), make_user(db, owner, Role.AGENT)
    conversation = make_conversation(db, owner, now=clock.now())

    with db.unit_of_work() as session:
        presence.heartbeat(session, ari.actor, conversation, typing=True, now=clock.now())
        presence.heartbeat(session, bea.actor, conversation, typing=False, now=clock.now())

    with db.reader() as session:
        seen_by_bea = presence.others(session, bea.actor, conversation, now=clock.now())
        seen_by_ari = presence.others(session, ari.actor, conversation, now=clock.now())
        seen_by_owner = presence.others(session, owner.actor, conversation, now=clock.now())

    assert [(p.user_id, p.typing) for p in seen_by_bea] == [(ari.actor.user_id, True)]
    assert seen_by_bea[0].sentence.endswith("is replying")
    assert [(p.user_id, p.typing) for p in seen_by_ari] == [(bea.actor.user_id, False)]
    assert seen_by_ari[0].sentence.endswith("is viewing")
    # Typists come first.
    assert [p.typing for p in seen_by_owner] == [True, False]


def test_typing_and_viewing_expire(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    conversation = make_conversation(db, owner, now=clock.now())
    with db.unit_of_work() as session:
        presence.heartbeat(session, ari.actor, conversation, typing=True, now=clock.now())

    clock.advance(timedelta(seconds=presence.TYPING_SECONDS + 1))
    with db.unit_of_work() as session:  # still has the page open, no longer typing
        presence.heartbeat(session, ari.actor, conversation, typing=False, now=clock.now())
    with db.reader() as session:
        later = presence.others(session, owner.actor, conversation, now=clock.now())
    clock.advance(timedelta(seconds=presence.VIEW_SECONDS + 1))
    with db.reader() as session:
        gone = presence.others(session, owner.actor, conversation, now=clock.now())

    assert [p.typing for p in later] == [False]
    assert gone == []


def test_leave_removes_at_once_and_other_orgs_never_see(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    stranger = make_org(db, "Other")
    ari = make_user(db, owner, Role.AGENT)
    conversation = make_conversation(db, owner, now=clock.now())
    with db.unit_of_work() as session:
        presence.heartbeat(session, ari.actor, conversation, typing=False, now=clock.now())
        presence.heartbeat(session, ari.actor, conversation, typing=True, now=clock.now())

    with db.reader() as session:
        assert presence.others(session, stranger.actor, conversation, now=clock.now()) == []
        assert len(presence.others(session, owner.actor, conversation, now=clock.now())) == 1
    with db.unit_of_work() as session:
        presence.leave(session, ari.actor, conversation)
    with db.reader() as session:
        assert presence.others(session, owner.actor, conversation, now=clock.now()) == []


def test_viewers_for_many_conversations(db: Database, clock: FrozenClock) -> None:
    owner = make_org(db)
    ari = make_user(db, owner, Role.AGENT)
    first = make_conversation(db, owner, now=clock.now())
    second = make_conversation(db, owner, now=clock.now(), handle="@other")
    with db.unit_of_work() as session:
        presence.heartbeat(session, ari.actor, second, typing=False, now=clock.now())

    with db.reader() as session:
        found = presence.viewers(session, owner.actor, [first, second], now=clock.now())

    assert list(found) == [second]
    assert presence.viewers(session, owner.actor, [], now=clock.now()) == {}
