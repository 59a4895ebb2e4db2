"""The followups service's tables: tasks (what must be done by when, with
their reminder and escalation), follow-up records (what was done), each
store's cadence policy, and its copies of the stores' calendars, the
roster's managers and each lead's grade and stage (from the gateway's and
the leads service's events); test-drive vehicles and their bookings."""
from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


class StoreCalendar(Base):
    """A store's time zone, hours and holidays, from ``store_saved``."""
    __tablename__ = "store_calendars"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    response_minutes: Mapped[int]
    revision: Mapped[int]
    business_hours: Mapped[dict] = mapped_column(JSON, default=dict)
    holidays: Mapped[list] = mapped_column(JSON, default=list)


class StoreManager(Base):
    """An active manager of a store, from ``user_saved``: who hears of overdue tasks."""
    __tablename__ = "store_managers"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)
    revision: Mapped[int]


class LeadState(Base):
    """What the cadence needs of a lead, from the leads service's events."""
    __tablename__ = "lead_states"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32))
    consultant_id: Mapped[str | None] = mapped_column(String(36))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[str] = mapped_column(String(1))
    stage: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    recorded: Mapped[int] = mapped_column(default=0)  # follow-up records so far
    interest: Mapped[dict | None] = mapped_column(JSON)  # brand, model, trim, budget: for the scripts


class CadencePolicy(Base):
    """A store's follow-up cadence (``cadence.py``'s plan) and its reminder
    and escalation times; store "*" is the group's default."""
    __tablename__ = "cadence_policies"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan: Mapped[dict] = mapped_column(JSON)
    remind_minutes: Mapped[int]      # before a task is due
    escalate_minutes: Mapped[int]    # after a task is due and still open: the manager is told
    revision: Mapped[int]
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class Task(Base):
    """Something a consultant must do by a time. ``remind_at`` and
    ``escalate_at`` are the moments the timer acts on; ``reminded_at`` and
    ``escalated_at`` say it did (once)."""
    __tablename__ = "tasks"
    __table_args__ = (
        Index("ix_tasks_lead_id_status", "lead_id", "status"),
        # the timer's two questions: which reminders are due, which open tasks are overdue
        Index("ix_tasks_remind_at", "remind_at"),
        Index("ix_tasks_escalate_at", "escalate_at"),
        # the on-time rate of a range, read from the index alone on PostgreSQL
        Index("ix_tasks_store_code_due_at", "store_code", "due_at",
              postgresql_include=["consultant_id", "status", "completed_at"]),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    consultant_id: Mapped[str] = mapped_column(String(36), index=True)
    store_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))   # open, done, cancelled
    source: Mapped[str] = mapped_column(String(20), default="sla")  # sla, cadence, manual, after_sales
    due_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)
    remind_at: Mapped[object | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[object | None] = mapped_column(UTCDateTime)
    escalate_at: Mapped[object | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[object | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[str | None] = mapped_column(String(36))  # None: the system


class FollowupRecord(Base):
    """A follow-up done: a call, a WeChat, a visit; what came of it."""
    __tablename__ = "followup_records"
    __table_args__ = (Index("ix_followup_records_lead_id_created_at", "lead_id", "created_at"),
                      Index("ix_followup_records_store_code_script_id", "store_code", "script_id"),
                      # follow-ups done in a range (PostgreSQL: from the index alone)
                      Index("ix_followup_records_store_code_created_at", "store_code", "created_at",
                            postgresql_include=["consultant_id"]))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    consultant_id: Mapped[str] = mapped_column(String(36), index=True)
    store_code: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(20))
    direction: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str | None] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    script_id: Mapped[str | None] = mapped_column(String(64))
    stage_at: Mapped[str | None] = mapped_column(String(20))  # the lead's stage then: did it move on after?
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class ScriptOverride(Base):
    """A store's own version of a script template (``template``: validated
    as ``scripts.validate_template`` does), a script only it has, or a
    group template it hides (``hidden``)."""
    __tablename__ = "script_overrides"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    script_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    template: Mapped[dict | None] = mapped_column(JSON)
    hidden: Mapped[bool] = mapped_column(default=False)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class Vehicle(Base):
    """A test-drive vehicle of a store (``test_drives.py``): known by its VIN
    or its stock number (at least one), bookable while ``available``."""
    __tablename__ = "vehicles"
    __table_args__ = (UniqueConstraint("store_code", "stock_number"), UniqueConstraint("vin"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32), index=True)
    vin: Mapped[str | None] = mapped_column(String(17))
    stock_number: Mapped[str | None] = mapped_column(String(32))
    brand: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(60))
    trim: Mapped[str | None] = mapped_column(String(100))
    fuel_type: Mapped[str] = mapped_column(String(8))   # ICE, HEV, PHEV, EV
    status: Mapped[str] = mapped_column(String(20))     # available, in_service, retired
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class TestDrive(Base):
    """A vehicle booked for a lead's test drive, [starts_at, ends_at).

    No two bookings that are not cancelled may overlap for one vehicle, nor
    for one specialist: the database refuses it (migration 0005: exclusion
    constraints on PostgreSQL, triggers on SQLite), whatever the races.
    ``licence_number`` and ``customer_email`` are the customer's personal
    data: erased with the customer (``handlers.forget_customer``)."""
    __tablename__ = "test_drives"
    __test__ = False  # not a pytest class
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_test_drives_vehicle_id_starts_at", "vehicle_id", "starts_at"),
        Index("ix_test_drives_status_starts_at", "status", "starts_at"),  # the no-show timer
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36), index=True)
    store_code: Mapped[str] = mapped_column(String(32))
    vehicle_id: Mapped[str] = mapped_column(ForeignKey("vehicles.id"))
    consultant_id: Mapped[str | None] = mapped_column(String(36))  # the lead's, when booked
    specialist_id: Mapped[str | None] = mapped_column(String(36))  # who rides along, if not the consultant
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    ends_at: Mapped[object] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))  # booked, shown, no_show, cancelled
    task_id: Mapped[str | None] = mapped_column(String(36))  # the consultant's test_drive task
    language: Mapped[str] = mapped_column(String(2))  # the invitation's: zh or en
    location: Mapped[str | None] = mapped_column(String(200))  # the store's name, for the invitation
    organizer_name: Mapped[str | None] = mapped_column(String(200))
    organizer_email: Mapped[str | None] = mapped_column(String(254))
    customer_email: Mapped[str | None] = mapped_column(String(254))   # personal data
    licence_number: Mapped[str | None] = mapped_column(String(32))    # personal data
    note: Mapped[str | None] = mapped_column(Text)
    sequence: Mapped[int] = mapped_column(default=0)  # the invitation's revision (RFC 5545 SEQUENCE)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(36))
    checked_in_at: Mapped[object | None] = mapped_column(UTCDateTime)
    checked_in_by: Mapped[str | None] = mapped_column(String(36))
    no_show_at: Mapped[object | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(36))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))


class Attachment(Base):
    """A photo or a voice recording of a follow-up record; the bytes are in
    the blob store under ``key`` (``blobs.py``)."""
    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(36), index=True)
    lead_id: Mapped[str] = mapped_column(String(36), index=True)
    key: Mapped[str] = mapped_column(String(512))
    media_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    filename: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    # a voice recording's transcript (``transcription.py``): none (a photo, or no engine configured),
    # pending, working (claimed by ``transcript_owner`` until ``transcript_lease_until``), done, failed;
    # a pending one waits until ``transcript_lease_until`` when set (a retry after a transient failure)
    transcript_status: Mapped[str] = mapped_column(String(10), default="none", server_default="none", index=True)
    transcript: Mapped[str | None] = mapped_column(Text)
    transcribed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    transcript_error: Mapped[str | None] = mapped_column(String(500))
    transcript_owner: Mapped[str | None] = mapped_column(String(64))
    transcript_lease_until: Mapped[object | None] = mapped_column(UTCDateTime)
    transcript_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
