"""What a known customer did on a platform or the dealer's website (a model
viewed, the configurator, the finance calculator, a brochure): on the
timeline, and into the derived profile. The customer is found by phone or
email among the customers of the caller's stores; nobody is created, and the
caller is not told whether the person is a customer."""
from sqlalchemy import exists, or_, select

from dealerflow.actor import Actor
from dealerflow.customer_contracts import BehaviourIn
from services.customers import contacts
from services.customers.derived import learn, lexicon
from services.customers.inputs import load
from services.customers.models import Customer, CustomerLead
from services.customers.profiles import note, owners_of


def record_behaviour(session, actor: Actor, data: dict) -> None:
    data = load(BehaviourIn, data)
    phone, email = contacts.read(data.get("phone")), contacts.normalize_email(data.get("email"))
    owners = owners_of(session, [phone] if phone else [], [email] if email else [])
    customer_id = owners.get(("phone", phone)) or owners.get(("email", email))
    if customer_id is None or not session.scalar(select(Customer.id).where(
            Customer.id == customer_id, Customer.erased_at.is_(None), or_(
                Customer.store_code.in_(actor.stores), exists(select(CustomerLead.lead_id).where(
                    CustomerLead.customer_id == Customer.id, CustomerLead.store_code.in_(actor.stores)))))):
        return
    details = {key: value for key, value in data["details"].items()
               if isinstance(value, (str, int, float, bool)) and len(str(value)) <= 200}
    note(session, customer_id, "behaviour", {"kind": data["kind"], "details": details,
                                             "by": actor.platform or actor.user_id},
         at=data["occurred_at"])
    learn(session, customer_id, lexicon().from_behaviour(data["kind"], details, at=data["occurred_at"]))
    session.commit()
