"""The notifications service's tables: the in-app inbox."""
from sqlalchemy import MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dealerflow.db import NAMING_CONVENTION, UTCDateTime
from dealerflow.outbox import OutboxMixin, ProcessedMixin


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class OutboxMessage(OutboxMixin, Base):
    __tablename__ = "outbox"


class ProcessedMessage(ProcessedMixin, Base):
    __tablename__ = "processed_messages"


class InboxMessage(Base):
    __tablename__ = "inbox_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
