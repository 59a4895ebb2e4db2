"""Personal data on request (PIPL, GDPR): everything held about one
customer, exported; and the customer erased.

Erasing keeps what the anonymous counts need (the customer's id, its
lifecycle, which leads it came with, from which store and source) and
deletes or blanks everything that says who the person is: name, phones,
emails, WeChat id, city, tags, preferences, traits and their evidence, the
timeline, the rows of imports that read them, merge reasons. It announces
``customer_erased`` with the customer's leads, and every service that holds
something about those leads scrubs it (the leads service the customer's
part of the lead and its raw body, the notifications service its messages'
texts). Managers and group admins do both.
"""
from sqlalchemy import delete, or_, select, update

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import CUSTOMER_ERASED
from dealerflow.db import utcnow
from dealerflow.once import forget_replies
from dealerflow.outbox import record
from services.customers.exceptions import NotAllowed
from services.customers.models import (
    CustomerEmail,
    CustomerLead,
    CustomerPhone,
    CustomerTerm,
    DuplicatePair,
    ImportRow,
    Merge,
    OutboxMessage,
    TimelineEntry,
    Trait,
)
from services.customers.profiles import profile, set_name, visible_customer


def may_handle_personal_data(actor: Actor) -> None:
    if not actor.is_user or actor.role == CONSULTANT:
        raise NotAllowed("Managers and group admins export and erase a customer's personal data.")


def export_customer(session, actor: Actor, customer_id: str) -> dict:
    """Everything this service holds about the customer, as plain JSON-able data."""
    may_handle_personal_data(actor)
    held = profile(session, actor, customer_id)
    held["traits_removed"] = [{"trait": trait.trait, "evidence": trait.evidence} for trait in session.scalars(
        select(Trait).where(Trait.customer_id == customer_id, Trait.status == "removed"))]
    held["timeline"] = session.scalars(select(TimelineEntry).where(TimelineEntry.customer_id == customer_id)
                                       .order_by(TimelineEntry.occurred_at, TimelineEntry.id)).all()
    held["merges"] = session.scalars(select(Merge).where(Merge.kept_id == customer_id)
                                     .order_by(Merge.merged_at)).all()
    held["import_rows"] = [{"import_id": row.import_id, "row": row.row, "fields": row.fields}
                           for row in session.scalars(select(ImportRow).where(ImportRow.customer_id == customer_id))]
    return held


def erase_customer(session, actor: Actor, customer_id: str) -> list[str]:
    """Erase the customer; the ids of its leads (every service scrubs them)."""
    may_handle_personal_data(actor)
    customer = visible_customer(session, actor, customer_id)
    for model in (CustomerPhone, CustomerEmail, CustomerTerm, Trait, TimelineEntry):
        session.execute(delete(model).where(model.customer_id == customer_id))
    session.execute(delete(DuplicatePair).where(or_(DuplicatePair.customer_id == customer_id,
                                                    DuplicatePair.other_id == customer_id)))
    session.execute(update(ImportRow).where(ImportRow.customer_id == customer_id).values(fields=None))
    session.execute(update(Merge).where(or_(Merge.kept_id == customer_id, Merge.merged_id == customer_id))
                    .values(reason="(erased)"))
    set_name(customer, None)
    for key in ("wechat_id", "city", "language", "owner_id"):
        setattr(customer, key, None)
    customer.tags, customer.preferences = [], {}
    customer.erased_at = customer.updated_at = utcnow()
    lead_ids = sorted(session.scalars(select(CustomerLead.lead_id).where(CustomerLead.customer_id == customer_id)))
    forget_replies(session)  # RPC replies may quote them (a profile, a search)
    record(session, OutboxMessage, CUSTOMER_ERASED, customer_id=customer_id, lead_ids=lead_ids)
    session.commit()
    return lead_ids
