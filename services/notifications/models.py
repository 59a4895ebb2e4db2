"""The notifications service's tables: the in-app inbox."""
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


TITLE_LENGTH = 200


class InboxMessage(Base):
    __tablename__ = "inbox_messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)
