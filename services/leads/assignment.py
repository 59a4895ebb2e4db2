"""Who has a lead: routing on intake, the claim pool (公海), the response
SLA's warnings and re-routes, claims, and assignment by a manager.

- Routing happens on the lead's own message, never in a batch: the first
  matching rule (``routing.py``) names a target (a store, a team of it, or
  the pool) and a strategy; no rule: the lead's store, round robin. Only
  eligible consultants (active, on shift, not on leave, under their daily
  capacity) can get it; with nobody eligible it goes to the store's pool
  and its managers are told. A store with no consultant at all (a new
  one) keeps its leads waiting (``accepted``) and routes them when its
  first consultant is saved.
- Every owner a lead gets is an ``Assignment`` (who, why, by whom, which
  rule) and a ``lead_assigned`` event; a pooled lead, an SLA warning and a
  breach are ``lead_changed`` events naming who must hear of them.
- The SLA clock (``sla.py``) counts the store's business minutes. A timer
  in every replica warns and re-routes: a breached lead goes to the next
  eligible consultant who has not had it, at most ``max_reroutes`` times,
  then to the store's manager (whose clock then stops; the manager decides).
  Each breach is handled once however many replicas run: the timer takes
  leads with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL, and SQLite's
  transactions begin IMMEDIATE (one writer at a time), and the changes are
  conditional on the state the timer read.
"""
import functools
import logging
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Histogram
from sqlalchemy import bindparam, func, insert, inspect, select, update
from sqlalchemy.orm.attributes import set_committed_value

from dealerflow.actor import Actor
from dealerflow.contracts import LEAD_ASSIGNED, OPEN_STATUSES
from dealerflow.db import execute, utcnow
from dealerflow.hours import Calendar, NeverOpen, calendar_for
from dealerflow.metrics import WAIT_BUCKETS, count_on_commit
from dealerflow.outbox import insert_or_ignore, record
from services.leads import duplicates, routing, sla
from services.leads.changes import announce, is_manager, lead_to_change, managers_of
from services.leads.exceptions import InvalidChange, LeadConflict, LeadNotFound, NotAllowed
from services.leads.models import Assignment, Lead, OutboxMessage, RosterMember, StoreRotation, StoreSettings
from services.leads.policies import compiled_rules, policy_of
from services.leads.rows import insert_new_lead

log = logging.getLogger(__name__)

SLA_BATCH = 50  # leads one timer tick takes at most

# dealerflow.metrics lists them all; each counts when its transaction commits
ASSIGNMENT_LATENCY = Histogram("dealerflow_assignment_latency_seconds",
                               "From the gateway's accepting a lead to its first owner", buckets=WAIT_BUCKETS)
SLA_WARNINGS = Counter("dealerflow_sla_warnings", "Owners warned that a first-contact deadline nears", ["store"])
SLA_BREACHES = Counter("dealerflow_sla_breaches", "First-contact deadlines passed without a contact", ["store"])


STORE = select(StoreSettings.__table__).where(StoreSettings.code == bindparam("code"))


def store_of(session, store_code: str):
    """The store's settings as the gateway last announced them (a row;
    None for a store not announced yet), read once per session (a lead's
    routing asks twice: its calendar, and its deadline in ``give``). A
    session lives for one worker, a delivery or a timer's tick, so the
    next one reads a changed store again."""
    known = session.info.setdefault("stores", {})
    if store_code not in known:
        known[store_code] = execute(session, STORE, {"code": store_code}).first()
    return known[store_code]


def forget_stores(session) -> None:
    """The store copies changed: read them again."""
    session.info.pop("stores", None)


def calendar_of(store) -> Calendar:
    """The store's business hours (open around the clock if it set none)."""
    if store is None:
        return calendar_for("Asia/Shanghai", {})
    return calendar_for(store.timezone, store.business_hours or {}, store.holidays or ())


def opening(calendar: Calendar, now):
    """When the lead's clock starts: now, or the store's next opening. Who
    is on shift then may take the lead: a lead that comes at night goes to
    the morning's consultants, not to the pool."""
    try:
        return calendar.add_minutes(now, 0)
    except NeverOpen:
        return now


def facts_of(lead: Lead) -> dict:
    interest, customer = lead.interest or {}, lead.customer or {}
    return {"channel": lead.channel, "source": lead.source, "brand": interest.get("brand"),
            "model": interest.get("model"), "condition": interest.get("condition"),
            "city": customer.get("city"), "language": customer.get("language"), "grade": lead.grade,
            "store_code": lead.store_code}


def local_midnight(now, timezone: str):
    """The start of the store's day (UTC): capacities and claim limits count from it."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(now.tzinfo)


@functools.cache
def roster_statement(team: bool, open_leads: bool):
    """The store's consultants (of one team) with how many leads each got
    since ``since`` (and has open), in one statement, built once for each
    kind of question."""
    assigned_today = select(func.count()).where(Assignment.consultant_id == RosterMember.user_id,
                                                Assignment.assigned_at >= bindparam("since"))
    columns = [RosterMember.user_id, RosterMember.team_id, RosterMember.store_code, RosterMember.active,
               RosterMember.role, RosterMember.shift, RosterMember.leave, RosterMember.daily_capacity,
               assigned_today.scalar_subquery().label("assigned_today")]
    if open_leads:
        columns.append(select(func.count()).where(Lead.consultant_id == RosterMember.user_id,
                                                  Lead.status.in_(("assigned", "contacted")))
                       .scalar_subquery().label("open_leads"))
    query = select(*columns).where(RosterMember.store_code == bindparam("store_code"),
                                   RosterMember.role == "consultant")
    return query.where(RosterMember.team_id == bindparam("team_id")) if team else query


def candidates(session, store, store_code: str, team_id: str | None, now,
               exclude=(), open_leads: bool = True) -> list[routing.Candidate]:
    """The store's consultants (of one team, if given) with today's load
    (and their open leads, when the strategy weighs them)."""
    since = local_midnight(now, store.timezone if store else "Asia/Shanghai")
    members = execute(session, roster_statement(bool(team_id), open_leads),
                      {"store_code": store_code, "team_id": team_id, "since": since})
    return [routing.Candidate(user_id=m.user_id, team_id=m.team_id, store_code=m.store_code, active=m.active,
                              role=m.role, shift=m.shift or {}, leave=m.leave or [],
                              daily_capacity=m.daily_capacity, assigned_today=m.assigned_today,
                              open_leads=m.open_leads if open_leads else 0)
            for m in members if m.user_id not in exclude]


def sticky_owner(session, lead: Lead) -> str | None:
    """The consultant of the customer's latest other lead in the store."""
    known = duplicates.customer_of(lead)
    if not known:
        return None
    return session.scalar(select(Lead.consultant_id).where(
        duplicates.same_customer(tuple(known)), Lead.store_code == lead.store_code, Lead.id != lead.id,
        Lead.consultant_id.is_not(None)).order_by(Lead.created_at.desc()).limit(1), known)


# the store's round robin: who had its last lead, locked until the commit; and the next
ROTATION = (select(StoreRotation.last_user_id).where(StoreRotation.store_code == bindparam("code"))
            .with_for_update())
TURN_ROTATION = (update(StoreRotation).where(StoreRotation.store_code == bindparam("code"))
                 .values(last_user_id=bindparam("user_id")))
INSERT_ASSIGNMENT = insert(Assignment)


def route(session, lead: Lead, reason: str = "routing", exclude=(), now=None,
          note: str | None = None) -> str | None:
    """Give the lead to the consultant its rules choose, or pool it; the
    consultant's id (None: pooled)."""
    now = now or utcnow()
    store = store_of(session, lead.store_code)
    local = now.astimezone(ZoneInfo(store.timezone if store else "Asia/Shanghai"))
    rule = compiled_rules(session).pick(facts_of(lead), local)
    target = rule["target"] if rule else {"kind": "store"}
    strategy = rule["strategy"] if rule else "round_robin"
    rule_id = rule["id"] if rule else None
    if target.get("store_code") and target["store_code"] != lead.store_code:
        lead.store_code = target["store_code"]  # a group rule sends the lead to another store
        store = store_of(session, lead.store_code)
    if target["kind"] == "pool":
        pool(session, lead, f"rule {rule['name']}", now)
        return None
    calendar = calendar_of(store)
    people = candidates(session, store, lead.store_code, target.get("team_id"), now, exclude,
                        open_leads=strategy == "least_loaded")
    if not people and target["kind"] == "store" and not exclude:
        log.warning("store %s has no consultant yet; lead %s waits for the first", lead.store_code, lead.id)
        return None  # status accepted: routed when the store's first consultant is saved
    eligible, ineligible = routing.sort_out(people, opening(calendar, now), calendar)
    rotation = execute(session, ROTATION, {"code": lead.store_code}).first()
    if rotation is None:  # the store's first lead; a concurrent twin may create it too
        insert_or_ignore(session, StoreRotation, store_code=lead.store_code)
        rotation = execute(session, ROTATION, {"code": lead.store_code}).first()
    chosen = routing.choose(strategy, eligible, rotation.last_user_id,
                            sticky_owner(session, lead) if strategy == "sticky" else None)
    if chosen is None:
        pool(session, lead, "no eligible consultant", now, {"ineligible": ineligible})
        return None
    if not give(session, lead, chosen.user_id, reason, None, now, rule_id=rule_id, note=note):
        return lead.consultant_id
    if chosen.user_id != rotation.last_user_id:
        execute(session, TURN_ROTATION, {"code": lead.store_code, "user_id": chosen.user_id})
    return chosen.user_id


def give(session, lead: Lead, consultant_id: str, reason: str, actor_id: str | None, now,
         rule_id: str | None = None, note: str | None = None) -> bool:
    """Make ``consultant_id`` the lead's owner. A lead not contacted yet
    starts a new response clock. A new lead (not written yet) is given as
    it is inserted, and its ``lead_received`` announces this first owner;
    a stored one by an UPDATE conditional on the owner and status read, so
    two transactions that both saw it waiting give it once (False for the
    later one), and a ``lead_assigned`` announces it."""
    previous, store = lead.consultant_id, store_of(session, lead.store_code)
    first = lead.assigned_at is None  # its first owner: waiting since the gateway accepted it
    values = {"consultant_id": consultant_id, "assigned_at": now, "pooled_at": None,
              "status": "contacted" if lead.first_contact_at else "assigned",
              "first_contact_due_at": None, "first_contact_warn_at": None, "sla_warned_at": None,
              "updated_at": now}
    if lead.first_contact_at is None and reason != "escalation":
        minutes = sla.response_minutes(lead.grade, lead.channel, store and store.response_minutes,
                                       policy_of(session, lead.store_code).response_minutes)
        calendar = calendar_of(store)
        values["first_contact_due_at"] = sla.first_contact_due(now, minutes, calendar)
        values["first_contact_warn_at"] = sla.warning_at(now, values["first_contact_due_at"],
                                                              calendar=calendar)
    new = inspect(lead).transient
    if new:  # a new lead: written once, with its owner, before its assignment
        for name, value in values.items():
            setattr(lead, name, value)
        insert_new_lead(session, lead)
    else:
        session.flush()  # what this transaction changed of the lead (pooled, a re-route count) first
        taken = session.execute(
            update(Lead).where(Lead.id == lead.id, Lead.status == lead.status,
                               Lead.consultant_id.is_(None) if previous is None
                               else Lead.consultant_id == previous)
            .values(store_code=lead.store_code, **values).execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            session.expire(lead)
            return False
        for name, value in values.items():
            set_committed_value(lead, name, value)  # as written: no second UPDATE
    if first:
        waited = max(0.0, (now - lead.submitted_at).total_seconds())
        count_on_commit(session, lambda: ASSIGNMENT_LATENCY.observe(waited))
    session.connection().execute(INSERT_ASSIGNMENT, {
        "lead_id": lead.id, "consultant_id": consultant_id, "reason": reason, "assigned_at": now,
        "actor_id": actor_id, "rule_id": rule_id, "note": (note or "").strip()[:500] or None})
    if not new:
        record(session, OutboxMessage, LEAD_ASSIGNED, lead_id=lead.id, store_code=lead.store_code,
               consultant_id=consultant_id, assigned_at=now, first_contact_due_at=lead.first_contact_due_at,
               customer_name=lead.customer_name, phone=lead.customer_phone, source=lead.source,
               interest=lead.interest, reason=reason, previous_consultant_id=previous, grade=lead.grade,
               actor_id=actor_id)
    return True


def pool(session, lead: Lead, why: str, now, details: dict | None = None) -> None:
    """Put the lead in its store's claim pool and tell the store's managers."""
    previous = lead.consultant_id
    lead.status, lead.consultant_id, lead.pooled_at = "pooled", None, now
    lead.first_contact_due_at = lead.first_contact_warn_at = None
    announce(session, lead, "pooled", None, why, dict(details or {}, previous_consultant_id=previous),
             tell=managers_of(session, lead.store_code), at=now)
    log.warning("lead %s of %s goes to the claim pool: %s", lead.id, lead.store_code, why)


# -- the SLA timer ---------------------------------------------------------------

def due(condition, order):
    """The timer's leads to handle, a batch at a time, skipping those another replica holds."""
    return (select(Lead).where(condition).order_by(order).limit(SLA_BATCH)
            .with_for_update(skip_locked=True))


# by the warning's own index: a status condition beside it lets SQLite read every assigned lead
WARNINGS_DUE = due(Lead.first_contact_warn_at <= bindparam("now"), Lead.first_contact_warn_at)
# (status, deadline) is one index
BREACHES_DUE = due((Lead.status == "assigned") & (Lead.first_contact_due_at <= bindparam("now")),
                   Lead.first_contact_due_at)


def check_deadlines(session, now=None) -> dict:
    """Warn the owners of leads whose deadline nears and re-route breached
    leads; what was done. One transaction per kind of work."""
    now = now or utcnow()
    warned = 0
    # a lead no longer waiting for its first contact just has its warning disarmed here
    for lead in session.scalars(WARNINGS_DUE, {"now": now}).all():
        if (lead.status == "assigned" and lead.sla_warned_at is None and lead.first_contact_due_at
                and lead.first_contact_due_at > now):
            lead.sla_warned_at = now
            announce(session, lead, "sla_warning", None, None,
                     {"due_at": lead.first_contact_due_at.isoformat()}, tell=[lead.consultant_id], at=now)
            count_on_commit(session, SLA_WARNINGS.labels(lead.store_code).inc)
            warned += 1
        lead.first_contact_warn_at = None  # handled: not picked again
    session.commit()
    breached = session.scalars(BREACHES_DUE, {"now": now}).all()
    for lead in breached:
        breach(session, lead, now)
    session.commit()
    return {"warned": warned, "rerouted": len(breached)}


def breach(session, lead: Lead, now) -> None:
    """The deadline passed with no contact: tell the owner and the managers,
    and give the lead to the next eligible consultant, or the manager."""
    policy, managers = policy_of(session, lead.store_code), managers_of(session, lead.store_code)
    late = lead.consultant_id
    count_on_commit(session, SLA_BREACHES.labels(lead.store_code).inc)
    announce(session, lead, "sla_breached", None, None,
             {"consultant_id": late, "due_at": lead.first_contact_due_at.isoformat(),
              "reroutes": lead.reroutes}, tell=[late, *managers], at=now)
    lead.reroutes += 1
    if lead.reroutes <= policy.max_reroutes:
        had = set(session.scalars(select(Assignment.consultant_id).where(Assignment.lead_id == lead.id)))
        route(session, lead, "reroute", exclude=had, now=now)
    elif managers:  # out of re-routes: the manager has it, and decides (no clock)
        give(session, lead, managers[0], "escalation", None, now)
    else:
        pool(session, lead, "no manager to escalate to", now)


# -- claims and assignment by hand ----------------------------------------------

def claim(session, actor: Actor, lead_id: str) -> Lead:
    """A consultant of the lead's store takes a pooled lead, within the
    store's daily claim limit."""
    if not actor.is_user:
        raise NotAllowed("Only staff claim leads.")
    lead = session.scalar(select(Lead).where(Lead.id == lead_id, Lead.store_code.in_(actor.stores))
                          .with_for_update())
    if lead is None:
        raise LeadNotFound(lead_id)
    if lead.status != "pooled":
        raise LeadConflict(f"The lead is not in the pool any more (it is {lead.status}).")
    store, now = store_of(session, lead.store_code), utcnow()
    limit = policy_of(session, lead.store_code).daily_claim_limit
    claimed = session.scalar(select(func.count()).select_from(Assignment).where(
        Assignment.consultant_id == actor.user_id, Assignment.reason == "claim",
        Assignment.assigned_at >= local_midnight(now, store.timezone if store else "Asia/Shanghai")))
    if claimed >= limit:
        raise InvalidChange(f"You have claimed {claimed} leads today, the store's limit.",
                            {"lead_id": [f"daily claim limit {limit} reached"]})
    if not give(session, lead, actor.user_id, "claim", actor.user_id, now):
        session.rollback()
        raise LeadConflict("Someone claimed the lead first.")
    session.commit()
    return lead


def assign(session, actor: Actor, lead_id: str, consultant_id: str | None, reason: str | None) -> Lead:
    """A manager gives a lead to a colleague of its store (or, with no
    consultant named, back to routing)."""
    lead = lead_to_change(session, actor, lead_id, manage=True)
    hand_over(session, actor, lead, consultant_id, reason)
    session.commit()
    return lead


def hand_over(session, actor: Actor, lead: Lead, consultant_id: str | None, reason: str | None) -> None:
    if lead.status not in OPEN_STATUSES or lead.status == "loss_pending":
        raise InvalidChange(f"A lead that is {lead.status} is not reassigned.", {"lead_id": [lead.status]})
    now = utcnow()
    if consultant_id is None:
        route(session, lead, "manual", exclude={lead.consultant_id} - {None}, now=now, note=reason)
        return
    member = session.scalar(select(RosterMember).where(
        RosterMember.user_id == consultant_id, RosterMember.store_code == lead.store_code))
    if member is None or not member.active:
        raise InvalidChange(f"{consultant_id} is not an active colleague of store {lead.store_code}.",
                            {"consultant_id": ["not active staff of the lead's store"]})
    if consultant_id == lead.consultant_id:
        raise InvalidChange("The lead is theirs already.", {"consultant_id": ["already the owner"]})
    if not give(session, lead, consultant_id, "manual", actor.user_id, now, note=reason):
        raise LeadConflict("The lead changed meanwhile; read it again.")


def assign_many(session, actor: Actor, lead_ids: list[str] | None, from_consultant: str | None,
                consultant_id: str | None, reason: str | None) -> dict:
    """Reassign many leads at once: those named, or every open lead of a
    consultant (someone leaves), to one colleague or back to routing."""
    if not is_manager(actor):
        raise NotAllowed("Only a manager reassigns leads.")
    if bool(lead_ids) == bool(from_consultant):
        raise InvalidChange("Name the leads, or the consultant whose open leads are handed over.",
                            {"lead_ids": ["give lead_ids or from_consultant_id"]})
    if from_consultant:
        lead_ids = list(session.scalars(select(Lead.id).where(
            Lead.consultant_id == from_consultant, Lead.store_code.in_(actor.stores),
            Lead.status.in_(("assigned", "contacted"))).order_by(Lead.created_at)))
    moved, refused = [], {}
    for lead_id in lead_ids[:1000]:
        try:
            with session.begin_nested():
                lead = lead_to_change(session, actor, lead_id, manage=True)
                hand_over(session, actor, lead, consultant_id, reason)
            moved.append(lead_id)
        except (InvalidChange, LeadConflict, NotAllowed) as exc:
            refused[lead_id] = exc.description
        except LeadNotFound:
            refused[lead_id] = "no such lead in your stores"
    session.commit()
    return {"moved": moved, "refused": refused}
