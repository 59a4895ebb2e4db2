"""Use cases of the customers service."""
import logging
import uuid

from sqlalchemy import select

from dealerflow.contracts import CUSTOMER_MATCHED
from dealerflow.db import utcnow
from dealerflow.outbox import first_delivery, record
from services.customers.contacts import normalize_email, normalize_phone
from services.customers.models import Customer, CustomerLead, OutboxMessage, ProcessedMessage

log = logging.getLogger(__name__)


def find_customer(session, phone: str | None, email: str | None) -> Customer | None:
    """The customer with this phone, else with this email."""
    for column, value in ((Customer.phone, phone), (Customer.email, email)):
        if value:
            customer = session.scalar(select(Customer).where(column == value))
            if customer is not None:
                return customer
    return None


def match_lead_customer(session, received: dict) -> Customer | None:
    """Find or create the customer of a new lead and link the two. A
    concurrent twin that creates the same customer first makes the unique
    phone/email constraint fail this commit; the retry then finds it."""
    if not first_delivery(session, ProcessedMessage, received["event_id"], "match_lead_customer"):
        return None
    contact = received["customer"]
    # the gateway read the phone in the lead's country; a bare number is Chinese only without that
    phone = received.get("phone_e164") or normalize_phone(contact.get("phone"))
    email = normalize_email(contact.get("email"))
    customer = find_customer(session, phone, email)
    created = customer is None
    if created:
        customer = Customer(id=str(uuid.uuid4()), name=contact.get("name"), phone=phone,
                            email=email, city=contact.get("city"),
                            language=contact.get("language"), lifecycle="potential",
                            created_at=utcnow())
        session.add(customer)
    session.add(CustomerLead(lead_id=received["lead_id"], customer_id=customer.id,
                             store_code=received["store_code"], source=received["source"],
                             linked_at=utcnow()))
    record(session, OutboxMessage, CUSTOMER_MATCHED, lead_id=received["lead_id"],
           customer_id=customer.id, created=created)
    session.commit()
    log.info("lead %s: %s customer %s", received["lead_id"], "new" if created else "known", customer.id)
    return customer
