"""What the customers service does with other services' events: a lead's
customer is found or created, every lead, assignment and change of stage
or outcome lands on the customer's timeline, and the customer's lifecycle
follows its leads. Each handler is idempotent (``first_delivery``).

A scheduled task is not a timeline entry (what was done is: follow-up
records, as the follow-ups service announces them); consuming
``followup_scheduled`` too cost every lead a whole delivery, about 3 ms of
CPU (bench/README.md).
"""
import logging
import uuid

from sqlalchemy import and_, bindparam, func, or_, select, update

from dealerflow.contracts import assignment_of
from dealerflow.db import insert_rows, insert_with_batch, utcnow
from dealerflow.outbox import first_delivery
from services.customers import contacts
from services.customers.derived import learn_from_text
from services.customers.exceptions import CustomerNotFound
from services.customers.models import (
    Customer,
    CustomerLead,
    DuplicatePair,
    ProcessedMessage,
    TimelineEntry,
)
from services.customers.profiles import add_contacts, customer_row, index_terms, note, owners_of, timeline_row

log = logging.getLogger(__name__)


def lead_phone(received: dict) -> contacts.Phone | None:
    """The lead's phone as the gateway read it in the lead's country, if
    it is a real number; else the phone as written, read as Chinese."""
    if received.get("phone_e164"):
        phone = contacts.read(received["phone_e164"])
        return contacts.Phone(phone.e164, received.get("phone_extension") or "") if phone else None
    return contacts.read(received["customer"].get("phone"))


# a known customer's tags and preferences, which a lead's interest may add to
TAGS_AND_PREFERENCES = select(Customer.tags, Customer.preferences).where(Customer.id == bindparam("customer_id"))
# a known customer came with a lead: seen now, and owned by its consultant unless someone owns them already
CAME_AGAIN = update(Customer).where(Customer.id == bindparam("customer_id")).values(
    updated_at=bindparam("now", type_=Customer.updated_at.type),
    owner_id=func.coalesce(Customer.owner_id, bindparam("consultant_id", type_=Customer.owner_id.type)))
# ... wanting more than before (a brand or a model)
CAME_AGAIN_WANTING_MORE = CAME_AGAIN.values(preferences=bindparam("preferences", type_=Customer.preferences.type))


def match_lead_customer(session, received: dict) -> str | None:
    """Find or create the customer of a new lead and link the two; the
    customer's id (None for a message seen before).

    The phone decides; else the email. When the phone is one customer's
    and the email another's, the lead goes to the phone's customer and the
    two are listed as possible duplicates (``DuplicatePair``) for a person
    to decide. A contact nobody has yet is added to the customer. A
    concurrent twin that creates the same customer first makes the unique
    phone/email constraint fail this commit; the retry then finds it.

    Every row is written as a Core statement on the session's connection
    (``inserts``): a new customer's with its preferences and owner, its
    traits inserted without a read."""
    if not first_delivery(session, ProcessedMessage, received["event_id"], "match_lead_customer"):
        return None
    contact = received["customer"]
    phone, email = lead_phone(received), contacts.normalize_email(contact.get("email"))
    phones, emails = [phone] if phone else [], [email] if email else []
    owners = owners_of(session, phones, emails)
    by_phone, by_email = owners.get(("phone", phone)), owners.get(("email", email))
    customer_id = by_phone or by_email
    created = customer_id is None
    assigned = assignment_of(received)  # routed as it was stored: no lead_assigned follows
    consultant_id = assigned["consultant_id"] if assigned else None
    if created:
        customer = customer_row(name=contact.get("name"), city=contact.get("city"),
                                language=contact.get("language"), source=received["source"],
                                store_code=received["store_code"], owner_id=consultant_id,
                                preferences=wanted({}, received.get("interest")) or {})
        customer_id = customer["id"]
        insert_rows(session, Customer.__table__, [customer])
        index_terms(session, customer_id, customer["tags"], customer["preferences"], new=True)
    else:
        came_again(session, customer_id, consultant_id, received.get("interest"))
    add_contacts(session, customer_id, [p for p in phones if ("phone", p) not in owners],
                 [e for e in emails if ("email", e) not in owners])
    if by_phone and by_email and by_phone != by_email:
        list_duplicate(session, by_phone, by_email,
                       f"lead {received['lead_id']}: the phone is one's, the email the other's")
    insert_rows(session, CustomerLead.__table__, [{
        "lead_id": received["lead_id"], "customer_id": customer_id, "store_code": received["store_code"],
        "source": received["source"], "consultant_id": consultant_id, "linked_at": utcnow(),
        "lead_status": "joined" if received["joined_lead_id"] else None}])
    entries = [timeline_row(customer_id, "lead", {"source": received["source"], "channel": received["channel"],
                                                  "store_code": received["store_code"],
                                                  "interest": received.get("interest")},
                            lead_id=received["lead_id"], at=received["occurred_at"], entry_id=received["event_id"])]
    if assigned:
        entries.append(assigned_entry(customer_id, assigned, entry_id=None))
    insert_with_batch(session, TimelineEntry.__table__, entries)  # written as the batch commits
    learn_from_text(session, customer_id, received.get("comments"), source="lead_comment",
                    at=received["occurred_at"], ref=received["lead_id"], new=created)
    session.commit()
    log.info("lead %s: %s customer %s", received["lead_id"], "new" if created else "known", customer_id)
    return customer_id


def came_again(session, customer_id: str, consultant_id: str | None, interest: dict | None) -> None:
    """A known customer's new lead: seen now, owned by the lead's
    consultant unless owned already, and wanting what the lead asks for too."""
    connection = session.connection()
    seen = {"customer_id": customer_id, "now": utcnow(), "consultant_id": consultant_id}
    if wanted({}, interest):  # the lead asks for a brand or a model
        tags, preferences = connection.execute(TAGS_AND_PREFERENCES, {"customer_id": customer_id}).one()
        more = wanted(preferences or {}, interest)
        if more:
            connection.execute(CAME_AGAIN_WANTING_MORE, dict(seen, preferences=more))
            index_terms(session, customer_id, tags, more)
            return
    connection.execute(CAME_AGAIN, seen)


def list_duplicate(session, customer_id: str, other_id: str, reason: str) -> None:
    """List two customers as possibly one person, once."""
    pair = or_(and_(DuplicatePair.customer_id == customer_id, DuplicatePair.other_id == other_id),
               and_(DuplicatePair.customer_id == other_id, DuplicatePair.other_id == customer_id))
    if session.scalar(select(DuplicatePair.id).where(pair)) is None:
        session.add(DuplicatePair(id=str(uuid.uuid4()), customer_id=customer_id, other_id=other_id,
                                  reason=reason, status="open", found_at=utcnow()))


def wanted(preferences: dict, interest: dict | None) -> dict | None:
    """The preferences with the brand and model a lead asks for; None when they add nothing."""
    more = dict(preferences)
    for key, plural in (("brand", "brands"), ("model", "models")):
        value = ((interest or {}).get(key) or "").strip()[:100]
        if value and value not in more.get(plural, []):
            more[plural] = (more.get(plural) or []) + [value]
    return more if more != preferences else None


def customer_of_lead(session, lead_id: str) -> CustomerLead:
    """The lead's link; ``CustomerNotFound`` (retried later) while its
    ``lead_received`` is not handled yet."""
    link = session.get(CustomerLead, lead_id)
    if link is None:
        raise CustomerNotFound(f"No customer for lead {lead_id} yet.")
    return link


def lead_assigned(session, assigned: dict) -> None:
    """The lead's consultant: they see the customer; the first is its owner."""
    if not first_delivery(session, ProcessedMessage, assigned["event_id"], "lead_assigned"):
        return
    link = customer_of_lead(session, assigned["lead_id"])
    own(session, link, session.get(Customer, link.customer_id), assigned, entry_id=assigned["event_id"])
    session.commit()


def own(session, link: CustomerLead, customer: Customer, assigned: dict, entry_id: str | None) -> None:
    link.consultant_id = assigned["consultant_id"]
    if customer.owner_id is None:
        customer.owner_id = assigned["consultant_id"]
    insert_rows(session, TimelineEntry.__table__, [assigned_entry(link.customer_id, assigned, entry_id)])


def assigned_entry(customer_id: str, assigned: dict, entry_id: str | None) -> dict:
    """The timeline entry of a lead's consultant."""
    return timeline_row(customer_id, "assigned", {"consultant_id": assigned["consultant_id"],
                                                  "store_code": assigned["store_code"]},
                        lead_id=assigned["lead_id"], at=assigned["assigned_at"], entry_id=entry_id)


# changes of a lead that the customer's timeline shows (the rest are the staff's business)
TIMELINE_CHANGES = ("stage_changed", "won", "lost", "reopened", "first_contact", "inquiry")
WORKED = ("contacted", "loss_pending")


def lifecycle_of(statuses: list) -> str:
    """won: any lead won; intended: any open lead worked (contacted, or a
    loss not yet approved); lost: every lead lost; potential otherwise.
    An inquiry that joined another lead does not count."""
    statuses = [status for status in statuses if status != "joined"]
    if "won" in statuses:
        return "won"
    if any(status in WORKED for status in statuses):
        return "intended"
    if statuses and all(status == "lost" for status in statuses):
        return "lost"
    return "potential"


def lead_changed(session, changed: dict) -> None:
    """Keep the lead's status, the customer's lifecycle and its timeline in step."""
    if not first_delivery(session, ProcessedMessage, changed["event_id"], "lead_changed"):
        return
    link = customer_of_lead(session, changed["lead_id"])
    link.lead_status = changed["status"]
    session.flush()
    customer = session.get(Customer, link.customer_id)
    statuses = session.scalars(select(CustomerLead.lead_status).where(
        CustomerLead.customer_id == customer.id)).all()
    lifecycle = lifecycle_of(statuses)
    if lifecycle != customer.lifecycle:
        customer.lifecycle, customer.updated_at = lifecycle, utcnow()
    if changed["change"] in TIMELINE_CHANGES and customer.erased_at is None:  # an erased one gains no story
        note(session, customer.id, f"lead_{changed['change']}",
             {"reason": changed["reason"], "stage": changed["stage"], "status": changed["status"],
              **{key: value for key, value in changed["details"].items()
                 if key in ("from", "to", "lost_reason", "deal_value", "currency", "vehicle", "source",
                            "inquiry_id", "how")}},
             lead_id=changed["lead_id"], actor_id=changed["actor_id"], at=changed["occurred_at"],
             entry_id=changed["event_id"])
    session.commit()


def followup_recorded(session, recorded: dict) -> None:
    """A follow-up done lands on the customer's timeline, and what the
    consultant noted feeds the customer's traits."""
    if not first_delivery(session, ProcessedMessage, recorded["event_id"], "followup_recorded"):
        return
    link = customer_of_lead(session, recorded["lead_id"])
    customer = session.get(Customer, link.customer_id)
    if customer.erased_at is None:
        if not recorded.get("transcript"):  # a voice note's transcript adds words, not another follow-up
            note(session, customer.id, "followup", {key: recorded[key] for key in ("channel", "direction", "outcome")},
                 lead_id=recorded["lead_id"], actor_id=recorded["consultant_id"], at=recorded["recorded_at"],
                 entry_id=recorded["event_id"])
        learn_from_text(session, customer.id, recorded["notes"], source="consultant_note",
                        at=recorded["recorded_at"], ref=recorded["lead_id"])
    session.commit()
