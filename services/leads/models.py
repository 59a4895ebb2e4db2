"""The leads service's tables: leads, their assignments, their history of
changes and discussions, the routing rules and each store's lead policy,
the scoring model, and its copies of the stores' settings and roster (kept
from the gateway's ``store_saved`` and ``user_saved`` events)."""
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        UniqueConstraint("platform", "store_code", "source", "external_id"),
        # the staff lists: a store's or a consultant's leads, newest first
        Index("ix_leads_store_code_created_at", "store_code", "created_at"),
        Index("ix_leads_consultant_id_created_at", "consultant_id", "created_at"),
        # the SLA timer: assigned leads not contacted yet, by deadline; warnings due (set only while armed)
        Index("ix_leads_status_first_contact_due_at", "status", "first_contact_due_at"),
        Index("ix_leads_first_contact_warn_at", "first_contact_warn_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(8))
    # status, store_code and consultant_id are each looked up through the
    # two-column index they begin (above): a one-column twin would only cost writes
    status: Mapped[str] = mapped_column(String(20))
    store_code: Mapped[str] = mapped_column(String(32))
    consultant_id: Mapped[str | None] = mapped_column(String(36))
    # No longer written: a lead's customer is the customers service's to know (get_lead_customer). Dropped
    # by a later release once no running code reads it (docs/operations.md, waiting for a contract release).
    customer_id: Mapped[str | None] = mapped_column(String(36), index=True)
    customer: Mapped[dict] = mapped_column(JSON)  # as the platform sent it
    customer_name: Mapped[str | None] = mapped_column(String(200))  # for lists and search
    customer_phone: Mapped[str | None] = mapped_column(String(40))  # as the platform sent it
    # the same number in E.164 (read by the gateway in the customer's or the store's country),
    # so that one number written two ways is one number; and its extension
    customer_phone_e164: Mapped[str | None] = mapped_column(String(20), index=True)
    customer_phone_extension: Mapped[str | None] = mapped_column(String(20))
    interest: Mapped[dict | None] = mapped_column(JSON)
    trade_in: Mapped[list | None] = mapped_column(JSON)
    comments: Mapped[str | None] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[dict | None] = mapped_column(JSON)  # ADF: the <provider> that sent the lead
    received_at: Mapped[object] = mapped_column(UTCDateTime)
    # why received_at is the submission time and not the platform's own (an ADF
    # <requestdate> unreadable, before 1990 or in the future)
    received_at_note: Mapped[str | None] = mapped_column(String(255))
    submitted_at: Mapped[object] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    assigned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_contact_due_at: Mapped[object | None] = mapped_column(UTCDateTime)  # the response SLA
    first_contact_at: Mapped[object | None] = mapped_column(UTCDateTime)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    # lowercased, so that a second inquiry by email finds the open lead (docs/leads.md)
    customer_email: Mapped[str | None] = mapped_column(String(254), index=True)
    grade: Mapped[str] = mapped_column(String(1), default="N")
    score: Mapped[int | None]
    score_method: Mapped[str | None] = mapped_column(String(10))  # "rules" or "model"
    score_reasons: Mapped[list | None] = mapped_column(JSON)
    stage: Mapped[str] = mapped_column(String(20), default="initial_contact")
    first_contact_warn_at: Mapped[object | None] = mapped_column(UTCDateTime)  # the SLA warning
    sla_warned_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reroutes: Mapped[int] = mapped_column(Integer, default=0)  # SLA breaches re-routed so far
    pooled_at: Mapped[object | None] = mapped_column(UTCDateTime)  # in the claim pool since
    duplicate_of: Mapped[str | None] = mapped_column(String(36), index=True)  # the open lead it joined
    lost_reason: Mapped[str | None] = mapped_column(String(40))
    lost_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[object | None] = mapped_column(UTCDateTime)  # won, or lost (approved)
    deal_value: Mapped[int | None] = mapped_column(BigInteger)  # minor units
    deal_currency: Mapped[str | None] = mapped_column(String(3))
    vehicle: Mapped[dict | None] = mapped_column(JSON)  # what was sold: brand, model, trim, vin
    updated_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # the funnel's moments (docs/analytics.md): when it first reached each stage after the first
    needs_confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    proposal_at: Mapped[object | None] = mapped_column(UTCDateTime)
    negotiation_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # and the milestones the followups service announces (records, test drives)
    appointment_at: Mapped[object | None] = mapped_column(UTCDateTime)
    visited_at: Mapped[object | None] = mapped_column(UTCDateTime)
    test_drive_at: Mapped[object | None] = mapped_column(UTCDateTime)
    last_activity_at: Mapped[object | None] = mapped_column(UTCDateTime)  # a record or a change; stalled?
    # the first contact's speed: from the lead's arrival, and from its owner's assignment
    response_seconds: Mapped[int | None] = mapped_column(Integer)
    owner_response_seconds: Mapped[int | None] = mapped_column(Integer)


class LeadEvent(Base):
    """Every change to a lead: graded, assigned, re-routed, claimed, pooled,
    stage changed, won, lost (asked, approved, refused), reopened, first
    contact, a new inquiry, an SLA warning or breach; who (None: the
    system), when and why. The history screens and the events other
    services read are made from these."""
    __tablename__ = "lead_events"
    __table_args__ = (Index("ix_lead_events_lead_id_at", "lead_id", "at"),
                      Index("ix_lead_events_change_at", "change", "at"))  # SLA breaches in a range

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    change: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[str | None] = mapped_column(String(36))
    at: Mapped[object] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON)


class LeadComment(Base):
    """The discussion on a lead; it stays with the lead through reassignment."""
    __tablename__ = "lead_comments"
    __table_args__ = (Index("ix_lead_comments_lead_id_created_at", "lead_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"))
    author_id: Mapped[str] = mapped_column(String(36))
    body: Mapped[str] = mapped_column(Text)
    mentions: Mapped[list] = mapped_column(JSON)  # user ids
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class LeadWatcher(Base):
    """Someone mentioned on a lead who may see it although it is not theirs."""
    __tablename__ = "lead_watchers"

    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class RoutingRule(Base):
    """A routing rule of a store (or of the group, store_code NULL); see
    ``routing.py`` for its conditions, target and strategy."""
    __tablename__ = "routing_rules"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str | None] = mapped_column(String(32), index=True)
    priority: Mapped[int]
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool]
    conditions: Mapped[dict] = mapped_column(JSON)
    target: Mapped[dict] = mapped_column(JSON)
    strategy: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int]
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class LeadPolicy(Base):
    """A store's lead policy (``store_code`` "*": the group's default for
    stores without their own): response deadlines by grade and channel,
    re-routes before a lead goes to the manager, whether losing a lead
    needs a manager's approval, the duplicate window, the claim limit."""
    __tablename__ = "lead_policies"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    response_minutes: Mapped[dict] = mapped_column(JSON)  # {"H": 5, "walk_in": 3, "H:website": 5}
    max_reroutes: Mapped[int]
    loss_needs_approval: Mapped[bool]
    duplicate_window_days: Mapped[int]
    daily_claim_limit: Mapped[int]
    revision: Mapped[int]
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class ScoringModel(Base):
    """The predictive part of the score, learned from closed leads; the
    newest row is used."""
    __tablename__ = "scoring_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    trained_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    won: Mapped[int]
    lost: Mapped[int]
    model: Mapped[dict] = mapped_column(JSON)


class Assignment(Base):
    """Every time a lead got an owner: who, when and why."""
    __tablename__ = "assignments"
    # a consultant's leads today: daily capacity and the claim limit
    __table_args__ = (Index("ix_assignments_consultant_id_assigned_at", "consultant_id", "assigned_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    consultant_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[object] = mapped_column(UTCDateTime)
    actor_id: Mapped[str | None] = mapped_column(String(36))  # who assigned it; None: routing
    rule_id: Mapped[str | None] = mapped_column(String(36))   # the routing rule that chose
    note: Mapped[str | None] = mapped_column(Text)            # why, in the manager's words


class RosterMember(Base):
    """A user of a store as the gateway last announced them."""
    __tablename__ = "roster"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool]
    revision: Mapped[int]
    team_id: Mapped[str | None] = mapped_column(String(36))
    languages: Mapped[list] = mapped_column(JSON, default=list)
    shift: Mapped[dict] = mapped_column(JSON, default=dict)   # weekly hours; empty: the store's
    leave: Mapped[list] = mapped_column(JSON, default=list)   # [{"start", "end"}] local dates
    daily_capacity: Mapped[int | None]                        # new leads a day; None: no limit


class StoreSettings(Base):
    """What the leads service needs of a store, as the gateway last announced it."""
    __tablename__ = "stores"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    response_minutes: Mapped[int]
    revision: Mapped[int]
    business_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)


class SourceCost(Base):
    """What a lead source costs a store in a month (entered by its managers),
    for the cost per lead and per sale (docs/analytics.md)."""
    __tablename__ = "source_costs"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # 2026-11
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    updated_by: Mapped[str | None] = mapped_column(String(36))
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class StoreRotation(Base):
    """Where each store's round robin stands."""
    __tablename__ = "store_rotation"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_user_id: Mapped[str | None] = mapped_column(String(36))
