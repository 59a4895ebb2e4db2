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

from sqlalchemy import and_, or_, select

from dealerflow.contracts import CUSTOMER_MATCHED, assignment_of
from dealerflow.db import utcnow
from dealerflow.outbox import first_delivery, record
from services.customers import contacts
from services.customers.derived import learn_from_text
from services.customers.exceptions import CustomerNotFound
from services.customers.models import Customer, CustomerLead, DuplicatePair, OutboxMessage, ProcessedMessage
from services.customers.profiles import add_contacts, index_terms, new_customer, note, owners_of

log = logging.getLogger(__name__)


def lead_phone(received: dict) -> contacts.Phone | None:
    """The lead's phone as the gateway read it in the lead's country, if
    it is a real number; else the phone as written, read as Chinese."""
    if received.get("phone_e164"):
        phone = contacts.read(received["phone_e164"])
        return contacts.Phone(phone.e164, received.get("phone_extension") or "") if phone else None
    return contacts.read(received["customer"].get("phone"))


def match_lead_customer(session, received: dict) -> Customer | None:
    """Find or create the customer of a new lead and link the two.

    The phone decides; else the email. When the phone is one customer's
    and the email another's, the lead goes to the phone's customer and the
    two are listed as possible duplicates (``DuplicatePair``) for a person
    to decide. A contact nobody has yet is added to the customer. A
    concurrent twin that creates the same customer first makes the unique
    phone/email constraint fail this commit; the retry then finds it."""
    if not first_delivery(session, ProcessedMessage, received["event_id"], "match_lead_customer"):
        return None
    contact = received["customer"]
    phone, email = lead_phone(received), contacts.normalize_email(contact.get("email"))
    phones, emails = [phone] if phone else [], [email] if email else []
    owners = owners_of(session, phones, emails)
    by_phone, by_email = owners.get(("phone", phone)), owners.get(("email", email))
    customer_id = by_phone or by_email
    created = customer_id is None
    if created:
        customer = new_customer(name=contact.get("name"), city=contact.get("city"),
                                language=contact.get("language"), source=received["source"],
                                store_code=received["store_code"])
        learn_preferences(customer, received.get("interest"))  # in its INSERT, not an UPDATE after
        customer.owner_id = received["consultant_id"]
        session.add(customer)
        session.flush()
        customer_id = customer.id
    else:
        customer = session.get(Customer, customer_id)
        customer.updated_at = utcnow()
    add_contacts(session, customer_id, [p for p in phones if ("phone", p) not in owners],
                 [e for e in emails if ("email", e) not in owners])
    if by_phone and by_email and by_phone != by_email:
        list_duplicate(session, by_phone, by_email,
                       f"lead {received['lead_id']}: the phone is one's, the email the other's")
    if learn_preferences(customer, received.get("interest")) or created:
        index_terms(session, customer, new=created)
    link = CustomerLead(lead_id=received["lead_id"], customer_id=customer_id, store_code=received["store_code"],
                        source=received["source"], linked_at=utcnow(),
                        lead_status="joined" if received["joined_lead_id"] else None)
    session.add(link)
    note(session, customer_id, "lead", {"source": received["source"], "channel": received["channel"],
                                        "store_code": received["store_code"],
                                        "interest": received.get("interest")},
         lead_id=received["lead_id"], at=received["occurred_at"], entry_id=received["event_id"])
    assigned = assignment_of(received)
    if assigned:  # routed as it was stored: no lead_assigned follows
        own(session, link, customer, assigned, entry_id=None)
    learn_from_text(session, customer_id, received.get("comments"), source="lead_comment",
                    at=received["occurred_at"], ref=received["lead_id"])
    record(session, OutboxMessage, CUSTOMER_MATCHED, lead_id=received["lead_id"],
           customer_id=customer_id, created=created)
    session.commit()
    log.info("lead %s: %s customer %s", received["lead_id"], "new" if created else "known", customer_id)
    return customer


def list_duplicate(session, customer_id: str, other_id: str, reason: str) -> None:
    """List two customers as possibly one person, once."""
    pair = or_(and_(DuplicatePair.customer_id == customer_id, DuplicatePair.other_id == other_id),
               and_(DuplicatePair.customer_id == other_id, DuplicatePair.other_id == customer_id))
    if session.scalar(select(DuplicatePair.id).where(pair)) is None:
        session.add(DuplicatePair(id=str(uuid.uuid4()), customer_id=customer_id, other_id=other_id,
                                  reason=reason, status="open", found_at=utcnow()))


def learn_preferences(customer: Customer, interest: dict | None) -> bool:
    """The brand and model a lead asks for join the customer's preferences; whether they changed."""
    preferences = dict(customer.preferences or {})
    for key, plural in (("brand", "brands"), ("model", "models")):
        value = ((interest or {}).get(key) or "").strip()[:100]
        if value and value not in preferences.get(plural, []):
            preferences[plural] = (preferences.get(plural) or []) + [value]
    changed = preferences != (customer.preferences or {})
    if changed:
        customer.preferences = preferences
    return changed


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
    note(session, link.customer_id, "assigned", {"consultant_id": assigned["consultant_id"],
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
