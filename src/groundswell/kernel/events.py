"""In-process event bus with a transactional outbox.

`emit(session, event)` writes the event, and one pending delivery per subscribed handler, in
the caller's transaction: the event exists if and only if the change that caused it
committed. After commit, `dispatch_pending` runs each pending delivery in its own
transaction together with the handler's own writes, then marks it delivered in that same
transaction. A handler that raises leaves its delivery pending (attempts + 1, backoff), so a
crash or restart redelivers it; a delivered one never runs again: exactly once per handler.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from groundswell.kernel.bulk import allocate_ids, insert_rows
from groundswell.kernel.clock import Clock, SystemClock
from groundswell.kernel.db import Database
from groundswell.kernel.tables import OutboxDelivery, OutboxEvent

log = logging.getLogger(__name__)


class Event(BaseModel):
    """A fact a room announces. Subclasses set `name` and carry plain data only."""

    model_config = ConfigDict(frozen=True)
    name: ClassVar[str] = "event"


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], None]


class EventBus:
    """Registry of event types and handlers. Handlers take `(session, event)` and must only
    flush; the dispatcher commits."""

    def __init__(self) -> None:
        self._types: dict[str, type[Event]] = {}
        self._handlers: dict[str, dict[str, Handler]] = {}

    def subscribe(
        self, event_type: type[E], name: str | None = None
    ) -> Callable[[Callable[[Session, E], None]], Callable[[Session, E], None]]:
        def register(fn: Callable[[Session, E], None]) -> Callable[[Session, E], None]:
            handler_name = name or f"{fn.__module__}.{fn.__qualname__}"
            self._types[event_type.name] = event_type
            self._handlers.setdefault(event_type.name, {})[handler_name] = fn
            return fn

        return register

    def handlers_for(self, event_name: str) -> dict[str, Handler]:
        return self._handlers.get(event_name, {})

    def event_type(self, event_name: str) -> type[Event] | None:
        return self._types.get(event_name)


bus = EventBus()


def emit(session: Session, event: Event, *, clock: Clock | None = None, on: EventBus = bus) -> None:
    """Record `event` in the outbox within the caller's transaction."""
    emit_many(session, [event], clock=clock, on=on)


def emit_many(
    session: Session, events: Sequence[Event], *, clock: Clock | None = None, on: EventBus = bus
) -> None:
    """`emit` for a batch: the same outbox rows and pending deliveries, written with two bulk
    inserts per event type (`kernel.bulk`: plain tuples to the driver, the event ids
    allocated first) instead of two flushes per event (the ingest pipeline announces
    thousands of matches per batch)."""
    if not events:
        return
    now = (clock or SystemClock()).now()
    by_name: dict[str, list[Event]] = {}
    for event in events:
        by_name.setdefault(event.name, []).append(event)
    for name, group in by_name.items():
        handlers = list(on.handlers_for(name))
        ids = allocate_ids(session, OutboxEvent, len(group))
        rows = [
            {"id": i, "event_type": name, "payload": e.model_dump(mode="json"), "created_at": now}
            for i, e in zip(ids, group, strict=True)
        ]
        insert_rows(session, OutboxEvent, rows)
        insert_rows(
            session,
            OutboxDelivery,
            [{"event_id": i, "handler": h, "attempts": 0} for i in ids for h in handlers],
        )


class Dispatcher:
    """Runs pending deliveries. Safe to call from several threads (one at a time)."""

    MAX_BACKOFF = timedelta(minutes=30)

    def __init__(self, db: Database, *, on: EventBus = bus, clock: Clock | None = None) -> None:
        self.db = db
        self.bus = on
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()

    def __call__(self, db: Database) -> None:
        self.dispatch_pending()

    def dispatch_pending(self, limit: int = 500) -> int:
        """Deliver what is due; returns how many deliveries succeeded."""
        if not self._lock.acquire(blocking=False):
            return 0  # another thread is already draining the outbox
        try:
            return self._drain(limit)
        finally:
            self._lock.release()

    def _drain(self, limit: int) -> int:
        now = self.clock.now()
        with self.db.reader() as session:
            due = (
                session.execute(
                    select(OutboxDelivery.id)
                    .where(OutboxDelivery.delivered_at.is_(None))
                    .where(
                        or_(
                            OutboxDelivery.next_attempt_at.is_(None),
                            OutboxDelivery.next_attempt_at <= now,
                        )
                    )
                    .order_by(OutboxDelivery.id)
                    .limit(limit)
                )
                .scalars()
                .all()
            )
        done = 0
        for delivery_id in due:
            if self._deliver(delivery_id):
                done += 1
        return done

    def _deliver(self, delivery_id: int) -> bool:
        try:
            with self.db.unit_of_work() as session:
                # Claim the row: another process draining the same outbox skips it (PostgreSQL
                # row lock; on SQLite the single writer already serializes deliveries).
                delivery = session.execute(
                    select(OutboxDelivery)
                    .where(OutboxDelivery.id == delivery_id, OutboxDelivery.delivered_at.is_(None))
                    .with_for_update(skip_locked=True)
                ).scalar_one_or_none()
                if delivery is None:
                    return False
                event_row = session.get(OutboxEvent, delivery.event_id)
                handler = (
                    self.bus.handlers_for(event_row.event_type).get(delivery.handler)
                    if event_row
                    else None
                )
                event_type = self.bus.event_type(event_row.event_type) if event_row else None
                if event_row is None or handler is None or event_type is None:
                    # The handler is not loaded in this process (or was removed): leave the
                    # delivery pending and visible rather than pretend it ran, but back off so
                    # such rows never starve the deliveries behind them.
                    delivery.attempts += 1
                    delivery.last_error = "handler not registered in this process"
                    delivery.next_attempt_at = self.clock.now() + self.MAX_BACKOFF
                    return False
                handler(session, event_type.model_validate(event_row.payload))
                delivery.attempts += 1
                delivery.delivered_at = self.clock.now()
                delivery.last_error = None
                session.flush()
            return True
        except Exception as exc:  # the handler's failure is recorded, never propagated
            log.warning("event handler failed (delivery %s): %s", delivery_id, type(exc).__name__)
            with self.db.unit_of_work() as session:
                delivery = session.get(OutboxDelivery, delivery_id)
                if delivery is not None:
                    delivery.attempts += 1
                    delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    backoff = min(
                        timedelta(seconds=2 ** min(delivery.attempts, 12)), self.MAX_BACKOFF
                    )
                    delivery.next_attempt_at = self.clock.now() + backoff
            return False
