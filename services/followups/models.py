"""The followups service's tables: tasks, and its copy of the stores' calendars."""
from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


class StoreCalendar(Base):
    """A store's time zone and first-response deadline, from ``store_saved``."""
    __tablename__ = "store_calendars"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    timezone: Mapped[str] = mapped_column(String(64))
    response_minutes: Mapped[int]
    revision: Mapped[int]


class Task(Base):
    """Something a consultant must do by a time."""
    __tablename__ = "tasks"
    __table_args__ = (UniqueConstraint("lead_id", "kind"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36))
    consultant_id: Mapped[str] = mapped_column(String(36), index=True)
    store_code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
