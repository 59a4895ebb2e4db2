"""The gateway's tables: the organisation (stores, users, API keys), the
intake ledger and idempotency keys that make platform submissions
idempotent, and its outbox."""
from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage = service_tables(consumes=False)


class Store(Base):
    __tablename__ = "stores"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    response_minutes: Mapped[int]
    active: Mapped[bool]
    revision: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class UserStore(Base):
    __tablename__ = "user_stores"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    store_code: Mapped[str] = mapped_column(ForeignKey("stores.code"), primary_key=True)


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool]
    revision: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    store_links: Mapped[list[UserStore]] = relationship(cascade="all, delete-orphan",
                                                        lazy="selectin")

    @property
    def stores(self) -> list[str]:
        return sorted(link.store_code for link in self.store_links)


class ApiKey(Base):
    """A lead platform's key. Only a SHA-256 of the key is kept: the key is
    192 random bits, so a slow password hash would add nothing but latency."""
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(64))
    stores: Mapped[list] = mapped_column(JSON)
    rate_limit: Mapped[int] = mapped_column(Integer)  # requests per second; 0: no limit
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)


class IntakeRecord(Base):
    """A lead the gateway accepted: it answers ``GET`` until the leads
    service has stored the lead, and says "seen" when the same lead comes
    again. A lead's id is derived from its identity (see ``intake.identity``),
    so this one row recognises every way the lead can come back. Pruned after
    ``DEDUPE_RETENTION_DAYS``."""
    __tablename__ = "intake_leads"

    lead_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    platform: Mapped[str] = mapped_column(String(64))
    store_code: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[object] = mapped_column(UTCDateTime, index=True)


class IdempotencyKey(Base):
    """A platform's ``Idempotency-Key``: the request it first came with (a
    hash of its body) and the leads that request was answered with. The
    same key with another body is refused. Pruned with the intake ledger."""
    __tablename__ = "idempotency_keys"

    platform: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    lead_ids: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
