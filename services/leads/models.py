"""The leads service's tables: leads, their assignments, and its copies of
the stores' settings and roster (kept from the gateway's ``store_saved`` and
``user_saved`` events)."""
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
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
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(64))
    external_id: Mapped[str | None] = mapped_column(String(128))
    channel: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(20), index=True)
    store_code: Mapped[str] = mapped_column(String(32), index=True)
    consultant_id: Mapped[str | None] = mapped_column(String(36), index=True)
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


class Assignment(Base):
    """Every time a lead got an owner: who, when and why."""
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    lead_id: Mapped[str] = mapped_column(ForeignKey("leads.id"), index=True)
    consultant_id: Mapped[str] = mapped_column(String(36))
    reason: Mapped[str] = mapped_column(String(40))
    assigned_at: Mapped[object] = mapped_column(UTCDateTime)


class RosterMember(Base):
    """A user of a store as the gateway last announced them."""
    __tablename__ = "roster"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool]
    revision: Mapped[int]


class StoreSettings(Base):
    """What the leads service needs of a store, as the gateway last announced it."""
    __tablename__ = "stores"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    response_minutes: Mapped[int]
    revision: Mapped[int]


class StoreRotation(Base):
    """Where each store's round robin stands."""
    __tablename__ = "store_rotation"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_user_id: Mapped[str | None] = mapped_column(String(36))
