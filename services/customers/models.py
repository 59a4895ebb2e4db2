"""The customers service's tables: people, and which leads they came with."""
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)   # E.164
    email: Mapped[str | None] = mapped_column(String(254), unique=True)  # lower case
    city: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(16))
    lifecycle: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class CustomerLead(Base):
    """A lead the customer came with (their timeline starts here)."""
    __tablename__ = "customer_leads"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    store_code: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(64))
    linked_at: Mapped[object] = mapped_column(UTCDateTime)
