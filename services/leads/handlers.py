"""Use cases of the leads service: plain functions on a SQLAlchemy session."""
import logging

from sqlalchemy import and_, delete, inspect, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from dealerflow.actor import Actor
from dealerflow.contracts import LEAD_ASSIGNED, LEAD_RECEIVED
from dealerflow.db import utcnow
from dealerflow.logs import correlation_id
from dealerflow.outbox import first_delivery, forget_sent, insert_or_ignore, record, save_copy
from dealerflow.paging import BadCursor, keyset_page
from services.leads.exceptions import InvalidQuery, LeadNotFound
from services.leads.models import (
    Assignment,
    Lead,
    OutboxMessage,
    ProcessedMessage,
    RosterMember,
    StoreRotation,
    StoreSettings,
)
from services.leads.routing import next_in_rotation
from services.leads.scoping import visible_leads
from services.leads.sla import first_contact_due

log = logging.getLogger(__name__)


def accept_lead(session, submitted: dict) -> Lead | None:
    """Store a lead a platform submitted and assign it; ``None`` when this
    lead (same id, or same source and external id) is stored already."""
    fields = submitted["lead"]
    same = Lead.id == submitted["id"]
    if fields.get("external_id"):
        same = or_(same, and_(Lead.platform == submitted["platform"],
                              Lead.store_code == submitted["store_code"],
                              Lead.source == fields["source"],
                              Lead.external_id == fields["external_id"]))
    if session.scalar(select(Lead.id).where(same).limit(1)) is not None:
        log.info("lead %s is here already; ignored", submitted["id"])
        return None
    now = utcnow()
    lead = Lead(
        id=submitted["id"], platform=submitted["platform"], source=fields["source"],
        external_id=fields.get("external_id"), channel=fields["channel"],
        format=submitted["format"], status="accepted", store_code=submitted["store_code"],
        customer=fields["customer"], interest=fields.get("interest"),
        customer_name=fields["customer"].get("name"), customer_phone=fields["customer"].get("phone"),
        customer_phone_e164=fields.get("phone_e164"), customer_phone_extension=fields.get("phone_extension"),
        trade_in=fields.get("trade_in"), comments=fields.get("comments"), provider=fields.get("provider"),
        raw=submitted.get("raw"), received_at=_aware(fields.get("received_at")) or submitted["submitted_at"],
        received_at_note=fields.get("received_at_note"), submitted_at=submitted["submitted_at"], created_at=now,
        correlation_id=correlation_id.get())
    session.add(lead)
    record(session, OutboxMessage, LEAD_RECEIVED, lead_id=lead.id, store_code=lead.store_code,
           source=lead.source, channel=lead.channel, customer=lead.customer,
           phone_e164=lead.customer_phone_e164, phone_extension=lead.customer_phone_extension,
           interest=lead.interest, comments=lead.comments)
    assign_round_robin(session, lead)
    session.commit()
    log.info("lead %s stored for %s (%s), %s", lead.id, lead.store_code, lead.source,
             f"assigned to {lead.consultant_id}" if lead.consultant_id else "waiting for a consultant")
    return lead


def _aware(moment):
    """A platform's own timestamp, if it says its zone (the gateway sees to that)."""
    return moment if moment is not None and moment.tzinfo is not None else None


def assign_round_robin(session, lead: Lead) -> bool:
    """Give the lead to the store's next active consultant, if it has one.
    A new lead (not written yet) is given as it is inserted: nobody else can
    see it. A waiting lead is given by a conditional UPDATE, so that two
    transactions that both saw it waiting (two roster events at once) give
    it once; the later one finds it taken (on PostgreSQL it waits for the
    first's row lock, then re-reads)."""
    candidates = session.scalars(select(RosterMember.user_id).where(
        RosterMember.store_code == lead.store_code, RosterMember.role == "consultant",
        RosterMember.active.is_(True))).all()
    rotation = session.get(StoreRotation, lead.store_code, with_for_update=True)
    if rotation is None:  # the store's first lead; a concurrent twin may create it too
        insert_or_ignore(session, StoreRotation, store_code=lead.store_code)
        rotation = session.get(StoreRotation, lead.store_code, with_for_update=True)
    consultant_id = next_in_rotation(candidates, rotation.last_user_id)
    if consultant_id is None:
        log.warning("store %s has no active consultant; lead %s waits", lead.store_code, lead.id)
        return False
    assigned_at = utcnow()
    store = session.get(StoreSettings, lead.store_code)
    values = {"consultant_id": consultant_id, "status": "assigned", "assigned_at": assigned_at,
              "first_contact_due_at": first_contact_due(assigned_at, store and store.response_minutes)}
    if inspect(lead).pending:
        for name, value in values.items():
            setattr(lead, name, value)
    elif not take_waiting_lead(session, lead, values):
        log.info("lead %s was assigned meanwhile; left as it is", lead.id)
        return False
    rotation.last_user_id = consultant_id
    session.add(Assignment(lead_id=lead.id, consultant_id=consultant_id, reason="round_robin",
                           assigned_at=lead.assigned_at))
    record(session, OutboxMessage, LEAD_ASSIGNED, lead_id=lead.id, store_code=lead.store_code,
           consultant_id=consultant_id, assigned_at=lead.assigned_at,
           first_contact_due_at=lead.first_contact_due_at,
           customer_name=lead.customer.get("name"), phone=lead.customer.get("phone"),
           source=lead.source, interest=lead.interest)
    return True


def take_waiting_lead(session, lead: Lead, values: dict) -> bool:
    """Assign a stored lead only if it still has no consultant."""
    taken = session.execute(
        update(Lead).where(Lead.id == lead.id, Lead.consultant_id.is_(None)).values(**values)
        .execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        return False
    for name, value in values.items():
        set_committed_value(lead, name, value)  # as written: no second UPDATE
    return True


def save_store(session, store: dict) -> None:
    """Keep the copy of a store's settings that assignment uses (its
    first-response minutes); an older revision never overwrites a newer."""
    if not first_delivery(session, ProcessedMessage, store["event_id"], "save_store"):
        return
    save_copy(session, StoreSettings, {"code": store["code"]}, store["revision"],
              timezone=store["timezone"], response_minutes=store["response_minutes"])
    session.commit()


def save_roster_member(session, user: dict) -> int:
    """Keep the roster copy up to date; then hand waiting leads of the user's
    stores to consultants. Returns how many waiting leads were assigned."""
    if not first_delivery(session, ProcessedMessage, user["event_id"], "save_roster_member"):
        return 0
    known = session.scalar(select(RosterMember.revision).where(
        RosterMember.user_id == user["user_id"]).limit(1))
    if known is not None and known >= user["revision"]:
        session.commit()
        return 0
    session.execute(delete(RosterMember).where(RosterMember.user_id == user["user_id"]))
    for store_code in user["stores"]:
        session.add(RosterMember(user_id=user["user_id"], store_code=store_code,
                                 display_name=user["display_name"], role=user["role"],
                                 active=user["active"], revision=user["revision"]))
    session.flush()
    waiting = session.scalars(select(Lead).where(
        Lead.store_code.in_(user["stores"]), Lead.status == "accepted",
        Lead.consultant_id.is_(None)).order_by(Lead.created_at)).all()
    assigned = sum(assign_round_robin(session, lead) for lead in waiting)
    session.commit()
    return assigned


def link_customer(session, matched: dict) -> None:
    if not first_delivery(session, ProcessedMessage, matched["event_id"], "link_customer"):
        return
    linked = session.execute(update(Lead).where(Lead.id == matched["lead_id"])
                             .values(customer_id=matched["customer_id"]))
    if linked.rowcount != 1:
        raise LeadNotFound(matched["lead_id"])  # retried later: the lead's commit may lag
    session.commit()


def repoint_customer(session, merged: dict) -> None:
    """The merged customer's leads are the kept customer's now."""
    if not first_delivery(session, ProcessedMessage, merged["event_id"], "repoint_customer"):
        return
    session.execute(update(Lead).where(Lead.customer_id == merged["merged_id"])
                    .values(customer_id=merged["kept_id"]))
    session.commit()


def forget_customer(session, erased: dict) -> None:
    """The customer asked to be forgotten: their part of these leads goes
    (who they are, what they wrote, the raw body); what the counts need
    (store, source, channel, status, times, consultant) stays."""
    if not first_delivery(session, ProcessedMessage, erased["event_id"], "forget_customer"):
        return
    for chunk in range(0, len(erased["lead_ids"]), 500):
        session.execute(update(Lead).where(Lead.id.in_(erased["lead_ids"][chunk:chunk + 500])).values(
            customer={}, customer_name=None, customer_phone=None, customer_phone_e164=None,
            customer_phone_extension=None, comments=None, raw=None, trade_in=None))
    forget_sent(session, OutboxMessage, erased["lead_ids"])
    session.commit()


def get_lead(session, lead_id: str, actor: Actor) -> Lead:
    """The lead, if the actor may see it; ``LeadNotFound`` otherwise, so that
    another store's lead looks exactly like a lead that does not exist."""
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, visible_leads(actor)))
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


def get_lead_detail(session, lead_id: str, actor: Actor) -> dict:
    """The lead with its assignment history, if the actor may see it."""
    lead = get_lead(session, lead_id, actor)
    return dict(vars(lead), assignments=session.scalars(
        select(Assignment).where(Assignment.lead_id == lead_id)
        .order_by(Assignment.assigned_at, Assignment.id)).all())


def list_leads(session, actor: Actor, query: dict) -> dict:
    """A page of the leads in the actor's scope that match ``query`` (a
    loaded ``LeadQuery``): ``{"items": [Lead], "next_cursor": ...}``."""
    statement = select(Lead).where(visible_leads(actor), *lead_filters(query))
    column = Lead.received_at if query["sort"].endswith("received_at") else Lead.created_at
    try:
        items, next_cursor = keyset_page(session, statement, column, Lead.id,
                                         descending=query["sort"].startswith("-"),
                                         limit=query["limit"], cursor=query.get("cursor"))
    except BadCursor as exc:
        raise InvalidQuery({"cursor": [str(exc)]})
    return {"items": items, "next_cursor": next_cursor}


def lead_filters(query: dict) -> list:
    """The WHERE clauses of a ``LeadQuery``'s filters."""
    equal = {"store_code": Lead.store_code, "consultant_id": Lead.consultant_id,
             "source": Lead.source, "channel": Lead.channel}
    clauses = [column == query[name] for name, column in equal.items() if query.get(name)]
    if query.get("status"):
        clauses.append(Lead.status.in_(query["status"]))
    if query.get("created_from"):
        clauses.append(Lead.created_at >= query["created_from"])
    if query.get("created_to"):
        clauses.append(Lead.created_at < query["created_to"])
    if query.get("q"):
        pattern = "%" + query["q"].replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(*(column.ilike(pattern, escape="\\") for column in
                             (Lead.customer_name, Lead.customer_phone, Lead.customer_phone_e164,
                              Lead.external_id))))
    return clauses
