"""Use cases of the leads service's intake, copies and reads: plain
functions on a SQLAlchemy session (changes by staff: ``changes.py``,
ownership: ``assignment.py``)."""
import logging

from sqlalchemy import and_, bindparam, delete, inspect, or_, select, update

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import LEAD_RECEIVED
from dealerflow.db import execute, insert_with_batch, utcnow
from dealerflow.logs import correlation_id
from dealerflow.once import forget_replies
from dealerflow.outbox import first_delivery, forget_sent, record, save_copy
from dealerflow.paging import BadCursor, keyset_page
from services.leads import analytics, assignment, changes, duplicates, grading, scoring, stages, training
from services.leads.exceptions import InvalidQuery, LeadNotFound
from services.leads.models import (
    Assignment,
    Lead,
    LeadComment,
    LeadEvent,
    OutboxMessage,
    ProcessedMessage,
    RosterMember,
    StoreSettings,
)
from services.leads.rows import insert_new_lead
from services.leads.scoping import visible_leads

log = logging.getLogger(__name__)


# a lead stored already: the same id, or (when the platform gives one) the same external id
SAME_ID = select(Lead.id).where(Lead.id == bindparam("id")).limit(1)
SAME_ID_OR_EXTERNAL_ID = select(Lead.id).where(or_(
    Lead.id == bindparam("id"),
    and_(Lead.platform == bindparam("platform"), Lead.store_code == bindparam("store_code"),
         Lead.source == bindparam("source"), Lead.external_id == bindparam("external_id")))).limit(1)


def accept_lead(session, submitted: dict) -> Lead | None:
    """Store a lead a platform submitted, grade and score it, and route it;
    or, when its customer has an open lead in the store (``duplicates``),
    keep it as a new inquiry on that lead. ``None`` when this lead (same
    id, or same source and external id) is stored already."""
    fields = submitted["lead"]
    stored = execute(session, SAME_ID_OR_EXTERNAL_ID if fields.get("external_id") else SAME_ID, {
        "id": submitted["id"], "platform": submitted["platform"], "store_code": submitted["store_code"],
        "source": fields["source"], "external_id": fields.get("external_id")}).first()
    if stored is not None:
        log.info("lead %s is here already; ignored", submitted["id"])
        return None
    now = utcnow()
    customer = fields["customer"]
    facts = scoring.facts(fields["channel"], fields["source"], customer, fields.get("interest"),
                          fields.get("comments"))
    grade, grade_reasons = grading.initial_grade(facts)
    scored = scoring.score(facts, training.scoring_model(session))
    lead = Lead(
        id=submitted["id"], platform=submitted["platform"], source=fields["source"],
        external_id=fields.get("external_id"), channel=fields["channel"],
        format=submitted["format"], status="accepted", store_code=submitted["store_code"],
        customer=customer, interest=fields.get("interest"),
        customer_name=customer.get("name"), customer_phone=customer.get("phone"),
        customer_phone_e164=fields.get("phone_e164"), customer_phone_extension=fields.get("phone_extension"),
        customer_email=(customer.get("email") or "").strip().lower() or None,
        trade_in=fields.get("trade_in"), comments=fields.get("comments"), provider=fields.get("provider"),
        raw=submitted.get("raw"), received_at=_aware(fields.get("received_at")) or submitted["submitted_at"],
        received_at_note=fields.get("received_at_note"), submitted_at=submitted["submitted_at"], created_at=now,
        correlation_id=correlation_id.get(), grade=grade, stage="initial_contact", reroutes=0,
        score=scored["score"], score_method=scored["method"], score_reasons=scored["reasons"])
    open_lead = duplicates.open_lead_of(session, lead, now)
    # the lead is written once, with its owner: by ``give`` as routing gives it one; else here, after
    # routing, and before the rows about it that the ORM writes at the commit (a pooled lead's event)
    with session.no_autoflush:
        if open_lead is not None:
            lead.status, lead.duplicate_of = "joined", open_lead.id
            duplicates.record_inquiry(session, open_lead, lead)
        else:
            assignment.route(session, lead, now=now)
        if inspect(lead).transient:  # joined, pooled, or waiting for the store's first consultant
            insert_new_lead(session, lead)
        if open_lead is None:  # its history's first entry, written as the batch commits
            insert_with_batch(session, LeadEvent.__table__, [{
                "lead_id": lead.id, "change": "graded", "actor_id": None, "at": now,
                "reason": ", ".join(grade_reasons) or None, "details": {"from": None, "to": grade}}])
        # one event for the lead and its first owner: one delivery to each consumer, not two
        record(session, OutboxMessage, LEAD_RECEIVED, lead_id=lead.id, store_code=lead.store_code,
               source=lead.source, channel=lead.channel, customer=lead.customer,
               phone_e164=lead.customer_phone_e164, phone_extension=lead.customer_phone_extension,
               interest=lead.interest, comments=lead.comments, grade=grade,
               joined_lead_id=lead.duplicate_of, consultant_id=lead.consultant_id,
               assigned_at=lead.assigned_at, first_contact_due_at=lead.first_contact_due_at)
    session.commit()
    log.info("lead %s stored for %s (%s), %s", lead.id, lead.store_code, lead.source,
             f"joined open lead {lead.duplicate_of}" if lead.duplicate_of else
             f"assigned to {lead.consultant_id}" if lead.consultant_id else lead.status)
    return lead


def _aware(moment):
    """A platform's own timestamp, if it says its zone (the gateway sees to that)."""
    return moment if moment is not None and moment.tzinfo is not None else None


def save_store(session, store: dict) -> None:
    """Keep the copy of a store's settings that assignment uses (its
    first-response minutes); an older revision never overwrites a newer."""
    if not first_delivery(session, ProcessedMessage, store["event_id"], "save_store"):
        return
    save_copy(session, StoreSettings, {"code": store["code"]}, store["revision"],
              timezone=store["timezone"], response_minutes=store["response_minutes"],
              business_hours=store["business_hours"], holidays=store["holidays"])
    session.commit()
    assignment.forget_stores(session)


def save_roster_member(session, user: dict) -> int:
    """Keep the roster copy up to date; then route the leads of the user's
    stores that wait for a consultant (stored before the store had one).
    Returns how many were assigned. Pooled leads stay in the pool: they are
    claimed or assigned by hand."""
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
                                 active=user["active"], revision=user["revision"], team_id=user["team_id"],
                                 languages=user["languages"], shift=user["shift"], leave=user["leave"],
                                 daily_capacity=user["daily_capacity"]))
    session.flush()
    waiting = session.scalars(select(Lead).where(
        Lead.store_code.in_(user["stores"]), Lead.status == "accepted",
        Lead.consultant_id.is_(None)).order_by(Lead.created_at)).all()
    assigned = sum(assignment.route(session, lead) is not None for lead in waiting)
    session.commit()
    return assigned


def record_followup(session, recorded: dict) -> None:
    """A follow-up record: the lead's first stops its response clock; each
    keeps the lead's last activity and the milestones it tells of. A voice
    note's transcript, announced again under the record's id, is not news."""
    if recorded.get("transcript") or not first_delivery(session, ProcessedMessage, recorded["event_id"],
                                                        "record_followup"):
        return
    lead = session.get(Lead, recorded["lead_id"], with_for_update=True)
    if lead is None:
        raise LeadNotFound(recorded["lead_id"])  # retried: not possible unless its commit lags
    at = recorded["recorded_at"]
    if recorded["first"]:
        changes.first_contact(session, lead, recorded["consultant_id"], "followup_record", at=at)
    changes.mark(lead, at, stages.milestones(recorded["channel"], recorded["outcome"]))
    if lead.last_activity_at is None or lead.last_activity_at < at:
        lead.last_activity_at = at
    session.commit()


def record_test_drive(session, changed: dict, status: str) -> None:
    """A test drive booked is an appointment; one checked in, a visit and a test drive."""
    if not first_delivery(session, ProcessedMessage, changed["event_id"], "record_test_drive"):
        return
    lead = session.get(Lead, changed["lead_id"], with_for_update=True)
    if lead is None:
        raise LeadNotFound(changed["lead_id"])
    changes.mark(lead, changed.get("booked_at") or changed.get("at"), stages.milestones("test_drive", status))
    session.commit()


ERASED = "(erased on the customer's request)"


def forget_customer(session, erased: dict) -> None:
    """The customer asked to be forgotten: their part of these leads goes
    (who they are, what they wrote, the raw body, what staff wrote about
    them); what the counts need (store, source, channel, status, stage,
    grade, times, consultant, the deal's value) stays."""
    if not first_delivery(session, ProcessedMessage, erased["event_id"], "forget_customer"):
        return
    for chunk in range(0, len(erased["lead_ids"]), 500):
        leads = erased["lead_ids"][chunk:chunk + 500]
        session.execute(update(Lead).where(Lead.id.in_(leads)).values(
            customer={}, customer_name=None, customer_phone=None, customer_phone_e164=None,
            customer_phone_extension=None, customer_email=None, comments=None, raw=None, trade_in=None,
            lost_note=None, vehicle=None))
        # what staff wrote about them: the discussion, why things changed, what the inquiries said
        session.execute(update(LeadComment).where(LeadComment.lead_id.in_(leads)).values(body=ERASED))
        session.execute(update(LeadEvent).where(LeadEvent.lead_id.in_(leads)).values(reason=None))
        session.execute(update(LeadEvent).where(LeadEvent.lead_id.in_(leads),
                                                LeadEvent.change.in_(("inquiry", "comment", "won")))
                        .values(details={}))
        session.execute(update(Assignment).where(Assignment.lead_id.in_(leads)).values(note=None))
    forget_sent(session, OutboxMessage, erased["lead_ids"])
    forget_replies(session)  # RPC replies may quote them
    session.commit()


def get_lead(session, lead_id: str, actor: Actor) -> Lead:
    """The lead, if the actor may see it; ``LeadNotFound`` otherwise, so that
    another store's lead looks exactly like a lead that does not exist. A
    platform asking for an inquiry that joined an open lead gets that lead."""
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, visible_leads(actor)))
    if lead is None:
        raise LeadNotFound(lead_id)
    if lead.duplicate_of and not actor.is_user:
        return session.get(Lead, lead.duplicate_of) or lead
    return lead


def get_lead_detail(session, lead_id: str, actor: Actor) -> dict:
    """The lead with its assignment history, if the actor may see it."""
    lead = get_lead(session, lead_id, actor)
    return dict(vars(lead), assignments=session.scalars(
        select(Assignment).where(Assignment.lead_id == lead_id)
        .order_by(Assignment.assigned_at, Assignment.id)).all(),
        history=changes.history(session, lead_id),
        discussion=session.scalars(select(LeadComment).where(LeadComment.lead_id == lead_id)
                                 .order_by(LeadComment.created_at, LeadComment.id)).all(),
        inquiries=session.scalars(select(Lead).where(Lead.duplicate_of == lead_id)
                                  .order_by(Lead.created_at)).all())


def list_leads(session, actor: Actor, query: dict, now=None) -> dict:
    """A page of the leads in the actor's scope that match ``query`` (a
    loaded ``LeadQuery``) as of ``now`` (the clock unless given; ``stalled``
    depends on it): ``{"items": [Lead], "next_cursor": ...}``. A
    consultant's list is their own leads unless they ask for a status (the
    pool is ``status=pooled``): a lead they were mentioned on, which they
    may open, does not crowd their day."""
    statement = select(Lead).where(visible_leads(actor), *lead_filters(query, now or utcnow()))
    if actor.role == CONSULTANT and not query.get("status"):
        statement = statement.where(Lead.consultant_id == actor.user_id)
    column = Lead.received_at if query["sort"].endswith("received_at") else Lead.created_at
    try:
        items, next_cursor = keyset_page(session, statement, column, Lead.id,
                                         descending=query["sort"].startswith("-"),
                                         limit=query["limit"], cursor=query.get("cursor"))
    except BadCursor as exc:
        raise InvalidQuery({"cursor": [str(exc)]})
    return {"items": items, "next_cursor": next_cursor}


def lead_filters(query: dict, now) -> list:
    """The WHERE clauses of a ``LeadQuery``'s filters (those it shares with
    the analytics, ``metric`` included, are theirs: a figure and its leads agree)."""
    clauses = analytics.segment_filters(query, now)
    # an inquiry that joined an open lead is listed only when asked for
    clauses.append(Lead.status.in_(query["status"]) if query.get("status") else Lead.status != "joined")
    if query.get("grade"):
        clauses.append(Lead.grade.in_(query["grade"]))
    if query.get("stage"):
        clauses.append(Lead.stage.in_(query["stage"]))
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
