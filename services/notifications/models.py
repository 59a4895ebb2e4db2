"""The notifications service's tables.

- the copies of the gateway's stores and users it needs (from ``store_saved``
  and ``user_saved``, revision-guarded): who a user is, their stores, email
  and role, and each store's time zone;
- what people and admins set: ``Preference`` per user, ``PushSubscription``
  per browser, ``StoreChannel`` (robots, SMTP, webhooks; secrets encrypted)
  and ``StoreSetting`` per store, ``ServiceKey`` for the VAPID key pair;
- what is told: ``InboxMessage`` (the in-app channel, written at once) and
  ``Delivery`` (one message on its way through one other channel to one
  recipient, sent by the delivery timer); both carry a unique ``dedupe_key``;
- what the timers need: ``TestDriveAlert`` (bookings, to tell the consultant
  an hour before), ``DigestFact`` and ``DigestSent`` (the managers' daily digest).
"""
from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dealerflow.db import UTCDateTime
from dealerflow.outbox import service_tables

Base, OutboxMessage, ProcessedMessage = service_tables()


TITLE_LENGTH = 200
DEDUPE_LENGTH = 200  # "<event id>:<user id>:<route>"


# -- copies of the gateway's records ----------------------------------------------

class StoreCopy(Base):
    """A store as the gateway last announced it: its name and time zone
    (quiet hours and the digest's 08:30 are the store's local time)."""
    __tablename__ = "stores"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool]
    revision: Mapped[int]


class UserCopy(Base):
    """A user as the gateway last announced them: who is told what, where
    their email goes, which language they read when they chose none."""
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    stores: Mapped[list] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(320))
    language: Mapped[str] = mapped_column(String(8))  # the default of their messages' language
    active: Mapped[bool]
    revision: Mapped[int]


# -- what people and admins set ------------------------------------------------------

class Preference(Base):
    """A user's saved choices; a user without a row has the defaults
    (``preferences.DEFAULT_CHANNELS``), a kind missing from ``channels`` too."""
    __tablename__ = "preferences"

    user_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    language: Mapped[str | None] = mapped_column(String(8))
    channels: Mapped[dict] = mapped_column(JSON, default=dict)
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    mention: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class PushSubscription(Base):
    """One browser's Web Push subscription; ``id`` is the SHA-256 of its
    endpoint, so the same browser subscribing again is the same row."""
    __tablename__ = "push_subscriptions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36), index=True)
    endpoint: Mapped[str] = mapped_column(String(1000))
    p256dh: Mapped[str] = mapped_column(String(200))
    auth: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[object] = mapped_column(UTCDateTime)


class StoreChannel(Base):
    """A destination an admin configured for a store, and its health: the
    circuit breaker (``circuit``, ``failures`` in a row, ``open_until``) and
    a receiver's own rate-limit pause (``paused_until``)."""
    __tablename__ = "store_channels"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(80))
    url: Mapped[str | None] = mapped_column(String(1000))
    secret: Mapped[str | None] = mapped_column(Text)  # Fernet token (``crypto.seal``)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    kinds: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool]
    circuit: Mapped[str] = mapped_column(String(10), default="closed")  # closed, open, half_open
    failures: Mapped[int] = mapped_column(Integer, default=0)
    open_until: Mapped[object | None] = mapped_column(UTCDateTime)
    paused_until: Mapped[object | None] = mapped_column(UTCDateTime)
    last_answer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class StoreSetting(Base):
    """A store's notification policy (admins): may urgent kinds break
    through its people's quiet hours. A store without a row may not."""
    __tablename__ = "store_settings"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    urgent_breaks_quiet: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[object] = mapped_column(UTCDateTime)


class ServiceKey(Base):
    """Keys the service makes once and every replica shares (the VAPID
    key pair); ``value`` is sealed with the secrets key."""
    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[object] = mapped_column(UTCDateTime)


# -- what is told ----------------------------------------------------------------------

class InboxMessage(Base):
    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_messages_user_id_created_at", "user_id", "created_at"),
                      Index("ix_inbox_messages_user_id_read_at", "user_id", "read_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(DEDUPE_LENGTH), unique=True)  # None: before 0003
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    read_at: Mapped[object | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One message through one channel to one recipient.

    ``status``: pending (waiting for ``next_attempt_at``: quiet hours, a
    back-off, a rate limit, an open circuit), sending (claimed by a replica,
    ``lease_owner``, until ``next_attempt_at``), sent, dead. Only pending
    and sending rows have a ``next_attempt_at``, so the timer's one index
    holds only the work that is left."""
    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_channel_id_sent_at", "channel_id", "sent_at"),
                      Index("ix_deliveries_status_store_code", "status", "store_code"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(DEDUPE_LENGTH), unique=True)
    user_id: Mapped[str | None] = mapped_column(String(36))
    store_code: Mapped[str | None] = mapped_column(String(32))
    lead_id: Mapped[str | None] = mapped_column(String(36), index=True)
    channel: Mapped[str] = mapped_column(String(16))  # webpush, email, wecom, dingtalk, feishu, webhook
    channel_id: Mapped[str | None] = mapped_column(String(36))  # the store channel; webpush: none
    subscription_id: Mapped[str | None] = mapped_column(String(64))  # webpush
    address: Mapped[str | None] = mapped_column(String(320))  # email: the recipient's address
    mention: Mapped[str | None] = mapped_column(String(64))   # robots: who to @
    calendar: Mapped[str | None] = mapped_column(Text)        # email: an invitation to attach (.ics)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(TITLE_LENGTH))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)
    lease_owner: Mapped[str | None] = mapped_column(String(80))
    last_answer: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[object] = mapped_column(UTCDateTime)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)


# -- what the timers need --------------------------------------------------------------

class TestDriveAlert(Base):
    """A booked test drive, kept to tell its consultant an hour before:
    ``remind_at`` is cleared once told, and by a cancellation, a check-in or
    a no-show (a row made by such an event first stays cleared)."""
    __test__ = False  # not a pytest class
    __tablename__ = "test_drive_alerts"

    booking_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(36), index=True)
    store_code: Mapped[str] = mapped_column(String(32), index=True)
    consultant_id: Mapped[str | None] = mapped_column(String(36))
    vehicle: Mapped[str | None] = mapped_column(String(300))
    customer_name: Mapped[str | None] = mapped_column(String(200))
    starts_at: Mapped[object] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))  # booked, shown, no_show, cancelled
    remind_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)


class DigestFact(Base):
    """One thing the daily digest counts (a new lead, an SLA breach, an
    overdue follow-up), on the store's local ``day``; keyed by its event."""
    __tablename__ = "digest_facts"
    __table_args__ = (Index("ix_digest_facts_store_code_day", "store_code", "day"),)

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    store_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))  # YYYY-MM-DD, the store's date
    what: Mapped[str] = mapped_column(String(16))  # new_lead, sla_breach, overdue


class DigestSent(Base):
    """The digest of a store's day went out (whichever replica inserted this first)."""
    __tablename__ = "digests_sent"

    store_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    sent_at: Mapped[object] = mapped_column(UTCDateTime)
