"""Customers: the people we talk to, one per identity until someone merges them by hand
(the same person on several networks); a merge moves identities and conversations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from groundswell.care.admin import audit_change
from groundswell.care.tables import CareConversation, CareCustomer, CareCustomerIdentity
from groundswell.identity.domain import Permission
from groundswell.identity.service import Actor
from groundswell.kernel.errors import Conflict, InvalidInput, NotFound


def identities(session: Session, customer_id: str) -> list[CareCustomerIdentity]:
    return list(
        session.scalars(
            select(CareCustomerIdentity)
            .where(CareCustomerIdentity.customer_id == customer_id)
            .order_by(CareCustomerIdentity.source, CareCustomerIdentity.handle_key)
        )
    )


def merge_customers(
    session: Session, actor: Actor, source_id: str, target_id: str, *, now: datetime
) -> CareCustomer:
    """Merge customer `source_id` into `target_id` (the same person on several networks):
    identities and conversations move to the target; the source points at it."""
    actor.require(Permission.CONTENT_WRITE)
    if source_id == target_id:
        raise InvalidInput("Pick two different customers to merge.")
    found = {
        c.id: c
        for c in session.scalars(
            select(CareCustomer).where(
                CareCustomer.organization_id == actor.organization_id,
                CareCustomer.id.in_([source_id, target_id]),
            )
        )
    }
    if source_id not in found or target_id not in found:
        raise NotFound("Both customers must exist in your organization.")
    source, target = found[source_id], found[target_id]
    if source.merged_into_id:
        raise Conflict("That customer was merged already.")
    session.execute(
        update(CareCustomerIdentity)
        .where(CareCustomerIdentity.customer_id == source.id)
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(CareConversation)
        .where(CareConversation.customer_id == source.id)
        .values(customer_id=target.id)
        .execution_options(synchronize_session=False)
    )
    source.merged_into_id = target.id
    if not target.name:
        target.name = source.name
    if source.notes:
        target.notes = (target.notes + "\n" + source.notes).strip()
    session.flush()
    audit_change(
        session, actor, "care.customer.merge", "care_customer", target.id, now,
        before={"merged": source.id}, after={"into": target.id},
    )  # fmt: skip
    return target


def history(
    session: Session, actor: Actor, customer_id: str, *, limit: int = 100
) -> list[CareConversation]:
    """The customer's conversations on every source (merged identities included), newest
    first: the profile's history."""
    actor.require(Permission.ORG_READ)
    customer = session.get(CareCustomer, customer_id)
    if customer is None or customer.organization_id != actor.organization_id:
        raise NotFound(f"No customer {customer_id!r}.")
    return list(
        session.scalars(
            select(CareConversation)
            .where(
                CareConversation.organization_id == actor.organization_id,
                CareConversation.customer_id == customer.id,
            )
            .order_by(CareConversation.updated_at.desc(), CareConversation.id.desc())
            .limit(limit)
        )
    )
