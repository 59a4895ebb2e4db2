"""A customer's profile: who they are, how they are reached, what they want.

Every create and change matches the phones and emails given against every
customer's: a phone or email that is someone else's is refused
(``ContactTaken``, naming whose when the caller may see them), never merged
silently; merging is a person's decision (``merging.py``).
"""
import uuid

from sqlalchemy import bindparam, delete, literal_column, select, union_all

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.customer_contracts import CustomerIn
from dealerflow.db import execute, insert_rows, utcnow
from services.customers import contacts
from services.customers.derived import decide, traits_of
from services.customers.exceptions import (
    ContactTaken,
    CustomerNotFound,
    InvalidCustomer,
    NotAllowed,
    StaleRevision,
)
from services.customers.inputs import load
from services.customers.models import (
    Customer,
    CustomerEmail,
    CustomerLead,
    CustomerPhone,
    CustomerTerm,
    DuplicatePair,
    TimelineEntry,
)
from services.customers.scoping import visible_customers

PROFILE_FIELDS = ("name", "wechat_id", "city", "language", "source", "store_code", "owner_id")


def read_contacts(data: dict) -> tuple[list[contacts.Phone] | None, list[str] | None]:
    """The phones and emails of an input, read; ``InvalidCustomer`` naming
    each that is no real phone or email. None for a list not given."""
    errors, phones, emails = {}, None, None
    if "phones" in data:
        phones = []
        for index, raw in enumerate(data["phones"]):
            phone = contacts.read(raw, data.get("country", "CN"))
            if phone is None:
                errors.setdefault("phones", {})[index] = ["Not a real phone number."]
            elif phone not in phones:
                phones.append(phone)
    if "emails" in data:
        emails = []
        for index, raw in enumerate(data["emails"]):
            email = contacts.normalize_email(raw)
            if email is None:
                errors.setdefault("emails", {})[index] = ["Not an email address."]
            elif email not in emails:
                emails.append(email)
    if errors:
        raise InvalidCustomer("Some phones or emails cannot be read; see errors.", errors=errors)
    return phones, emails


# whose phones (E.164 and extension) and emails these are, read in one statement
CONTACTS_OWNERS = union_all(
    select(literal_column("'phone'"), CustomerPhone.e164, CustomerPhone.extension, CustomerPhone.customer_id)
    .where(CustomerPhone.e164.in_(bindparam("e164s", expanding=True))),
    select(literal_column("'email'"), CustomerEmail.email, literal_column("''"), CustomerEmail.customer_id)
    .where(CustomerEmail.email.in_(bindparam("emails", expanding=True))))


def owners_of(session, phones=(), emails=()) -> dict[tuple[str, object], str]:
    """``{("phone", Phone) or ("email", str): customer id}`` of the contacts
    already someone's: one prebuilt read on the session's connection (contacts
    are only ever written as Core statements, so none waits in the session
    unflushed)."""
    if not phones and not emails:
        return {}
    found = {}
    for kind, value, extension, customer_id in session.connection().execute(CONTACTS_OWNERS, {
            "e164s": list({phone.e164 for phone in phones}), "emails": list(emails)}):
        if kind == "email":
            found[("email", value)] = customer_id
        elif (phone := contacts.Phone(value, extension)) in phones:
            found[("phone", phone)] = customer_id
    return found


def refuse_taken(session, actor: Actor, taken: dict, customer_id: str | None) -> None:
    """``ContactTaken`` if a contact is another customer's."""
    others = {key: owner for key, owner in taken.items() if owner != customer_id}
    if not others:
        return
    visible = set(session.scalars(select(Customer.id).where(
        Customer.id.in_(set(others.values())), visible_customers(actor))))
    errors = {}
    for (kind, value), owner in others.items():
        shown = value.e164 + (f" ext. {value.extension}" if kind == "phone" and value.extension else "") \
            if kind == "phone" else value
        whose = f"customer {owner}" if owner in visible else "a customer outside your scope (ask a manager)"
        errors.setdefault(f"{kind}s", []).append(f"{shown} is already {whose}'s.")
    raise ContactTaken("A phone or email given is another customer's: merge them instead.",
                       errors=dict(errors, customer_ids=sorted(set(others.values()) & visible)))


def set_contacts(session, customer: Customer, phones, emails) -> None:
    """Make the customer's phones and emails these (None: leave as they are)."""
    if phones is not None:
        session.execute(delete(CustomerPhone).where(CustomerPhone.customer_id == customer.id))
    if emails is not None:
        session.execute(delete(CustomerEmail).where(CustomerEmail.customer_id == customer.id))
    add_contacts(session, customer.id, phones or (), emails or ())


def add_contacts(session, customer_id: str, phones=(), emails=()) -> None:
    """Add contacts nobody has yet to a customer (the caller checked)."""
    now = utcnow()
    insert_rows(session, CustomerPhone.__table__, phone_rows(customer_id, phones, now))
    insert_rows(session, CustomerEmail.__table__, email_rows(customer_id, emails, now))


def phone_rows(customer_id: str, phones, now) -> list[dict]:
    return [{"customer_id": customer_id, "e164": phone.e164, "extension": phone.extension,
             "national": phone.national, "reversed": phone.reversed, "added_at": now} for phone in phones]


def email_rows(customer_id: str, emails, now) -> list[dict]:
    return [{"customer_id": customer_id, "email": email, "added_at": now} for email in emails]


def terms_from(tags: list | None, preferences: dict | None) -> set[tuple[str, str]]:
    """Tags and preferences as searchable terms."""
    preferences = preferences or {}
    terms = {("tag", tag) for tag in tags or ()}
    terms |= {("brand", value) for value in preferences.get("brands") or ()}
    terms |= {("model", value) for value in preferences.get("models") or ()}
    terms |= {("fuel_type", value) for value in preferences.get("fuel_types") or ()}
    return {(kind, value.strip().lower()[:100]) for kind, value in terms if value and value.strip()}


def term_rows(customer_id: str, tags: list | None, preferences: dict | None) -> list[dict]:
    """A customer's searchable terms as rows (of a customer not made yet too: an import's, a lead's)."""
    return [{"customer_id": customer_id, "kind": kind, "value": value}
            for kind, value in sorted(terms_from(tags, preferences))]


def index_terms(session, customer_id: str, tags: list | None, preferences: dict | None,
                new: bool = False) -> None:
    """Make the customer's searchable terms its tags and preferences (a new customer has none yet)."""
    if not new:
        session.execute(delete(CustomerTerm).where(CustomerTerm.customer_id == customer_id))
    insert_rows(session, CustomerTerm.__table__, term_rows(customer_id, tags, preferences))


def set_name(customer: Customer, name: str | None) -> None:
    for key, value in name_columns(name).items():
        setattr(customer, key, value)


def name_columns(name: str | None) -> dict:
    """A customer's name and how it is searched: ``name``, ``name_key``, ``initials``."""
    name = name.strip() if name and name.strip() else None
    return {"name": name, "name_key": contacts.name_key(name), "initials": contacts.initials(name)}


def customer_row(name: str | None = None, **values) -> dict:
    """Every column of a new customer, ``values`` over the defaults (an
    import's and a lead's are inserted as rows, staff's as an object)."""
    now = utcnow()
    defaults = dict({key: None for key in PROFILE_FIELDS}, id=str(uuid.uuid4()), lifecycle="potential", tags=[],
                    preferences={}, created_at=now, updated_at=now, revision=1, import_id=None, merged_into=None,
                    erased_at=None)
    return dict(defaults, **name_columns(name), **values)


def new_customer(**values) -> Customer:
    return Customer(**customer_row(**values))


def timeline_row(customer_id: str, kind: str, data: dict | None = None, *, lead_id=None, actor_id=None,
                 at=None, entry_id: str | None = None) -> dict:
    """A timeline entry, as a row."""
    return {"id": entry_id or str(uuid.uuid4()), "customer_id": customer_id, "kind": kind,
            "occurred_at": at or utcnow(), "lead_id": lead_id, "actor_id": actor_id, "data": data or {}}


def note(session, customer_id: str, kind: str, data: dict | None = None, **where) -> None:
    """A timeline entry (``timeline_row``), inserted now."""
    insert_rows(session, TimelineEntry.__table__, [timeline_row(customer_id, kind, data, **where)])


def check_store(actor: Actor, store_code: str | None) -> None:
    if store_code is not None and store_code not in actor.stores:
        raise NotAllowed(f"You may not keep customers in store {store_code}.",
                         errors={"store_code": [f"Not one of your stores: {store_code}."]})


def create_customer(session, actor: Actor, data: dict) -> Customer:
    """A new customer from staff: in one of the actor's stores (their only
    one by default), owned by the consultant who creates it."""
    data = load(CustomerIn, data)
    if not actor.is_user:
        raise NotAllowed("Only staff create customers.")
    store_code = data.get("store_code") or (actor.stores[0] if len(actor.stores) == 1 else None)
    if store_code is None:
        raise InvalidCustomer("Say which store the customer belongs to.",
                              errors={"store_code": ["Required: you work in several stores."]})
    check_store(actor, store_code)
    phones, emails = read_contacts(data)
    if not (data.get("name") or phones or emails):
        raise InvalidCustomer("A customer needs a name, a phone or an email.",
                              errors={"name": ["A name, a phone or an email is required."]})
    refuse_taken(session, actor, owners_of(session, phones or (), emails or ()), None)
    owner = data.get("owner_id") or (actor.user_id if actor.role == CONSULTANT else None)
    customer = new_customer(**{key: data.get(key) for key in PROFILE_FIELDS},
                            tags=data.get("tags", []), preferences=schema_dump_preferences(data))
    customer.store_code, customer.owner_id = store_code, owner
    session.add(customer)
    session.flush()
    set_contacts(session, customer, phones or [], emails or [])
    index_terms(session, customer.id, customer.tags, customer.preferences, new=True)
    note(session, customer.id, "created", {"by": "staff"}, actor_id=actor.user_id)
    session.commit()
    return customer


def schema_dump_preferences(data: dict) -> dict:
    return {key: value for key, value in (data.get("preferences") or {}).items() if value not in (None, [], {})}


def visible_customer(session, actor: Actor, customer_id: str) -> Customer:
    customer = session.scalar(select(Customer).where(Customer.id == customer_id, visible_customers(actor)))
    if customer is None:
        raise CustomerNotFound(f"No customer {customer_id}.")
    return customer


def update_customer(session, actor: Actor, customer_id: str, data: dict) -> Customer:
    """Change what is sent; phones and emails sent are the whole new list."""
    data = load(CustomerIn, data, partial=True)
    customer = visible_customer(session, actor, customer_id)
    if "revision" in data and data["revision"] != customer.revision:
        raise StaleRevision(f"The customer changed (revision {customer.revision}); reload it.",
                            errors={"revision": [f"Now {customer.revision}."]})
    if "store_code" in data:
        check_store(actor, data["store_code"])
    if actor.role == CONSULTANT and data.get("owner_id") not in (None, actor.user_id, customer.owner_id):
        raise NotAllowed("Only a manager gives a customer to another consultant.")
    phones, emails = read_contacts(data)
    refuse_taken(session, actor, owners_of(session, phones or (), emails or ()), customer.id)
    changed = sorted(key for key in data if key not in ("revision", "country"))
    for key in PROFILE_FIELDS:
        if key in data and key != "name":
            setattr(customer, key, data[key])
    if "name" in data:
        set_name(customer, data["name"])
    if "tags" in data:
        customer.tags = list(dict.fromkeys(tag.strip() for tag in data["tags"] if tag.strip()))
    if "preferences" in data:
        customer.preferences = dict(customer.preferences or {}, **data["preferences"])
    set_contacts(session, customer, phones, emails)
    index_terms(session, customer.id, customer.tags, customer.preferences)
    customer.revision += 1
    customer.updated_at = utcnow()
    note(session, customer.id, "edited", {"fields": changed}, actor_id=actor.user_id)
    session.commit()
    return customer


def profile(session, actor: Actor, customer_id: str, language: str = "en") -> dict:
    """Everything staff may see of a customer, with its contacts, traits and leads."""
    customer = visible_customer(session, actor, customer_id)
    return dict(summary(session, [customer.id])[0], **{key: getattr(customer, key) for key in (
        "wechat_id", "language", "source", "preferences", "revision")},
        traits=traits_of(session, customer.id, language),
        leads=session.scalars(select(CustomerLead).where(CustomerLead.customer_id == customer.id)
                              .order_by(CustomerLead.linked_at)).all(),
        duplicates=open_duplicates_of(session, customer.id))


def lead_customer(session, actor: Actor, lead_id: str, language: str = "en") -> dict:
    """The profile of a lead's customer (``CustomerNotFound`` while the lead
    has none yet, or when the actor may not see them). Only this service
    knows which customer a lead is: the leads service keeps no copy."""
    customer_id = session.scalar(select(CustomerLead.customer_id).where(CustomerLead.lead_id == lead_id))
    if customer_id is None:
        raise CustomerNotFound(f"Lead {lead_id} has no customer yet.")
    return profile(session, actor, customer_id, language)


def decide_trait(session, actor: Actor, customer_id: str, trait: str, status: str) -> None:
    """A consultant confirms or removes a trait of a customer they may see."""
    visible_customer(session, actor, customer_id)
    decide(session, actor, customer_id, trait, status)


def open_duplicates_of(session, customer_id: str) -> list[str]:
    pairs = session.execute(select(DuplicatePair.customer_id, DuplicatePair.other_id).where(
        DuplicatePair.status == "open",
        (DuplicatePair.customer_id == customer_id) | (DuplicatePair.other_id == customer_id))).all()
    return sorted({one if one != customer_id else other for one, other in pairs})


# what a list shows of customers, and their phones and emails, by id: two prebuilt reads
LISTED = select(*(getattr(Customer, key) for key in (
    "id", "name", "city", "lifecycle", "tags", "store_code", "owner_id", "created_at", "updated_at"))).where(
    Customer.id.in_(bindparam("ids", expanding=True)))
CONTACTS_OF = union_all(
    select(literal_column("'phone'").label("kind"), CustomerPhone.customer_id, CustomerPhone.id,
           CustomerPhone.e164.label("value"), CustomerPhone.extension)
    .where(CustomerPhone.customer_id.in_(bindparam("ids", expanding=True))),
    select(literal_column("'email'"), CustomerEmail.customer_id, CustomerEmail.id, CustomerEmail.email,
           literal_column("''")).where(CustomerEmail.customer_id.in_(bindparam("ids", expanding=True))))


def summary(session, ids) -> list[dict]:
    """The customers of ``ids`` as lists show them, in that order, with their
    phones and emails (Core rows, no ORM objects: a page of 50 is two reads)."""
    ids = list(ids)
    phones, emails = {}, {}
    for row in sorted(execute(session, CONTACTS_OF, {"ids": ids}), key=lambda row: row.id):
        if row.kind == "phone":
            phones.setdefault(row.customer_id, []).append(contacts.Phone(row.value, row.extension).dump())
        else:
            emails.setdefault(row.customer_id, []).append(row.value)
    found = {row.id: row._asdict() for row in execute(session, LISTED, {"ids": ids})}
    return [dict(found[key], phones=phones.get(key, []), emails=emails.get(key, [])) for key in ids
            if key in found]
