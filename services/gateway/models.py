"""The gateway's tables: the organisation (stores, teams, users, API keys)
and its audit log, staff sign-in (sessions, refresh tokens, failed
sign-ins), the intake ledger and idempotency keys that make platform
submissions idempotent, and its outbox."""
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
    # ISO 3166 region whose numbering plan reads a phone written without a country code
    country: Mapped[str] = mapped_column(String(2), default="CN")
    response_minutes: Mapped[int]
    # {"mon": ["09:00-18:00"], ...}: local opening hours per weekday; a missing day is closed
    business_hours: Mapped[dict] = mapped_column(JSON)
    holidays: Mapped[list] = mapped_column(JSON)  # ["2026-10-01", ...]: local dates closed
    active: Mapped[bool]
    revision: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    store_code: Mapped[str] = mapped_column(ForeignKey("stores.code"))
    leader_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", use_alter=True))
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
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id"))
    languages: Mapped[list] = mapped_column(JSON)    # ["zh", "en"]: the first is the UI's
    shift: Mapped[dict] = mapped_column(JSON)        # weekly hours, as a store's business hours
    leave: Mapped[list] = mapped_column(JSON)        # [{"start": "2026-12-01", "end": "2026-12-05"}]
    daily_capacity: Mapped[int]                      # new leads a day at most
    active: Mapped[bool]
    revision: Mapped[int]
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    store_links: Mapped[list[UserStore]] = relationship(cascade="all, delete-orphan",
                                                        lazy="selectin")
    team: Mapped[Team | None] = relationship(foreign_keys=[team_id], lazy="selectin")

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


class AuditEntry(Base):
    """Who changed what in the organisation. Written with the change, in
    its transaction; nothing edits or deletes it."""
    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    who: Mapped[str] = mapped_column(String(100))    # a user id, or "cli:<login>"
    action: Mapped[str] = mapped_column(String(40))  # "user.update", "api_key.revoke", ...
    target: Mapped[str] = mapped_column(String(100), index=True)  # "user:<id>", "store:<code>", ...
    details: Mapped[dict] = mapped_column(JSON)


class AuthSession(Base):
    """One sign-in: its access tokens carry its id (``sid``) and its refresh
    tokens are one family. Revoking it ends both at once."""
    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    """A refresh token of a session, kept as a SHA-256 (it is 256 random
    bits). Each is used once; a second use revokes its session."""
    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    expires_at: Mapped[object] = mapped_column(UTCDateTime)
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)


class FailedSignIns(Base):
    """Failed sign-ins in a row for a username (known or not), and until
    when it is locked."""
    __tablename__ = "failed_sign_ins"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int]
    locked_until: Mapped[object | None] = mapped_column(UTCDateTime)
    last_failed_at: Mapped[object] = mapped_column(UTCDateTime, index=True)  # for pruning


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
