"""Possible duplicates and merges: a person decides, the system keeps everything.

A merge keeps every phone, email, tag, preference, trait, lead and timeline
entry of both customers on the one kept, fills the kept one's blank fields
from the other, records who merged and why (``Merge``, the audit list), and
announces ``customers_merged`` for whoever keeps a reference (no service of
ours does: a lead's customer is known here alone, ``get_lead_customer``;
follow-ups and messages follow their leads). The merged customer stays as a tombstone without personal
data, pointing at the kept one. Managers and group admins merge.
"""
import uuid

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import CUSTOMERS_MERGED
from dealerflow.db import utcnow
from dealerflow.outbox import record
from services.customers.exceptions import InvalidCustomer, NotAllowed
from services.customers.inputs import page
from services.customers.models import (
    Customer,
    CustomerEmail,
    CustomerLead,
    CustomerPhone,
    DuplicatePair,
    ImportRow,
    Merge,
    OutboxMessage,
    TimelineEntry,
    Trait,
)
from services.customers.profiles import index_terms, note, set_name, summary, visible_customer
from services.customers.scoping import visible_customers
from services.customers.traits import confidence

FILLED_FROM_MERGED = ("wechat_id", "city", "language", "source", "store_code", "owner_id")
LIFECYCLE_RANK = {"potential": 0, "lost": 1, "intended": 2, "won": 3}


def list_duplicates(session, actor: Actor, query: dict) -> dict:
    """Open pairs whose two customers the actor may both see, newest first."""
    one, other = aliased(Customer), aliased(Customer)
    statement = (select(DuplicatePair)
                 .join(one, one.id == DuplicatePair.customer_id).join(other, other.id == DuplicatePair.other_id)
                 .where(DuplicatePair.status == "open",
                        one.id.in_(select(Customer.id).where(visible_customers(actor))),
                        other.id.in_(select(Customer.id).where(visible_customers(actor)))))
    pairs, next_cursor = page(session, statement, DuplicatePair.found_at, query)
    people = {row["id"]: row for row in summary(
        session, {pair.customer_id for pair in pairs} | {pair.other_id for pair in pairs})}
    return {"items": [{"id": pair.id, "reason": pair.reason, "status": pair.status, "found_at": pair.found_at,
                       "customer": people[pair.customer_id], "other": people[pair.other_id]} for pair in pairs],
            "next_cursor": next_cursor}


def dismiss_duplicate(session, actor: Actor, pair_id: str) -> None:
    """Not the same person: the pair leaves the list."""
    pair = session.get(DuplicatePair, pair_id)
    if pair is None or pair.status != "open":
        raise InvalidCustomer(f"No open possible duplicate {pair_id}.", errors={"id": ["Not open."]})
    visible_customer(session, actor, pair.customer_id)
    visible_customer(session, actor, pair.other_id)
    pair.status, pair.decided_by, pair.decided_at = "dismissed", actor.user_id, utcnow()
    session.commit()


def merge(session, actor: Actor, keep_id: str, merge_id: str, reason: str) -> Merge:
    if not actor.is_user or actor.role == CONSULTANT:
        raise NotAllowed("Managers and group admins merge customers.")
    if keep_id == merge_id:
        raise InvalidCustomer("A customer cannot be merged into itself.", errors={"merge_id": ["Same as keep_id."]})
    kept, merged = visible_customer(session, actor, keep_id), visible_customer(session, actor, merge_id)
    now = utcnow()
    moved = {name: session.execute(update(model).where(model.customer_id == merged.id)
                                   .values(customer_id=kept.id)).rowcount
             for name, model in (("phones", CustomerPhone), ("emails", CustomerEmail),
                                 ("leads", CustomerLead), ("timeline_entries", TimelineEntry),
                                 ("import_rows", ImportRow))}
    moved["traits"] = move_traits(session, kept.id, merged.id)
    move_duplicates(session, actor, kept.id, merged.id, now)
    for key in FILLED_FROM_MERGED:
        if getattr(kept, key) is None:
            setattr(kept, key, getattr(merged, key))
    if kept.name is None:
        set_name(kept, merged.name)
    kept.tags = list(dict.fromkeys((kept.tags or []) + (merged.tags or [])))
    kept.preferences = merged_preferences(kept.preferences or {}, merged.preferences or {})
    kept.lifecycle = max(kept.lifecycle, merged.lifecycle, key=LIFECYCLE_RANK.get)
    kept.revision += 1
    kept.updated_at = now
    index_terms(session, kept.id, kept.tags, kept.preferences)
    lead_ids = session.scalars(select(CustomerLead.lead_id).where(CustomerLead.customer_id == kept.id)).all()
    tombstone(merged, kept.id, now)
    index_terms(session, merged.id, merged.tags, merged.preferences)
    entry = Merge(id=str(uuid.uuid4()), kept_id=kept.id, merged_id=merged.id, actor_id=actor.user_id,
                  reason=reason, moved=moved, merged_at=now)
    session.add(entry)
    note(session, kept.id, "merged", {"merged_id": merged.id, "reason": reason, "moved": moved},
         actor_id=actor.user_id, at=now)
    record(session, OutboxMessage, CUSTOMERS_MERGED, kept_id=kept.id, merged_id=merged.id,
           lead_ids=sorted(lead_ids))
    session.commit()
    return entry


def tombstone(customer: Customer, kept_id: str, now) -> None:
    """What is left of a merged customer: where it went."""
    set_name(customer, None)
    for key in ("wechat_id", "city", "language", "source", "owner_id"):
        setattr(customer, key, None)
    customer.tags, customer.preferences, customer.merged_into, customer.updated_at = [], {}, kept_id, now


def merged_preferences(kept: dict, other: dict) -> dict:
    """The kept customer's preferences, with the other's lists joined and its blanks filled."""
    result = dict(other, **kept)
    for key, value in other.items():
        if isinstance(value, list):
            result[key] = list(dict.fromkeys((kept.get(key) or []) + value))
    return result


def move_traits(session, kept_id: str, merged_id: str) -> int:
    kept = {trait.trait: trait for trait in session.scalars(select(Trait).where(Trait.customer_id == kept_id))}
    count = 0
    for trait in session.scalars(select(Trait).where(Trait.customer_id == merged_id)).all():
        count += 1
        mine = kept.get(trait.trait)
        if mine is None:
            session.add(Trait(**{column: getattr(trait, column) for column in (
                "trait", "status", "confidence", "weights", "evidence", "updated_at", "decided_by", "decided_at")},
                customer_id=kept_id))
        elif mine.status != "removed":
            mine.evidence = mine.evidence + [item for item in trait.evidence if item not in mine.evidence]
            mine.weights = mine.weights + trait.weights
            mine.confidence = confidence(mine.weights)
            if trait.status == "confirmed":
                mine.status = "confirmed"
        session.delete(trait)
    return count


def move_duplicates(session, actor: Actor, kept_id: str, merged_id: str, now) -> None:
    """The pair of these two is decided; the merged one's other pairs become the kept one's."""
    for pair in session.scalars(select(DuplicatePair).where(
            or_(DuplicatePair.customer_id == merged_id, DuplicatePair.other_id == merged_id))).all():
        ends = {pair.customer_id, pair.other_id}
        if ends == {kept_id, merged_id}:
            pair.status, pair.decided_by, pair.decided_at = "merged", actor.user_id, now
            continue
        other = (ends - {merged_id}).pop()
        twin = session.scalar(select(DuplicatePair.id).where(or_(
            and_(DuplicatePair.customer_id == kept_id, DuplicatePair.other_id == other),
            and_(DuplicatePair.customer_id == other, DuplicatePair.other_id == kept_id))))
        if twin is not None:
            session.delete(pair)
        elif pair.customer_id == merged_id:
            pair.customer_id = kept_id
        else:
            pair.other_id = kept_id


def list_merges(session, actor: Actor, query: dict) -> dict:
    """The audit list of merges into customers the actor may see, newest first."""
    if not actor.is_user or actor.role == CONSULTANT:
        raise NotAllowed("Managers and group admins see the merges.")
    statement = select(Merge).where(Merge.kept_id.in_(select(Customer.id).where(visible_customers(actor))))
    merges, next_cursor = page(session, statement, Merge.merged_at, query)
    return {"items": merges, "next_cursor": next_cursor}
