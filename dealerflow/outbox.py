"""Transactional outbox and inbox: a fact written and the event announcing it
cannot diverge, and an event delivered twice changes nothing the second time.

A handler records its events in its own database transaction
(``record``; in a batch of deliveries the rows are written as the batch
commits, one statement for all: ``db.insert_with_batch``); after the
commit they are published with publisher confirms (awaited per batch:
``dealerflow.publishing``) and marked sent. Every consumer's queue is
declared by ``dealerflow migrate`` before any service runs, so an event
is never published before its subscribers' queues exist; an event no
service subscribes to (yet) is, correctly, delivered to no one. A crash
between commit and publish leaves the row unsent; the relay timer
publishes it later. So delivery is at least once and every consumer
dedupes on the event id (``first_delivery``).
"""
import logging
import time
import uuid
from datetime import timedelta

from kombu import Exchange
from sqlalchemy import JSON, MetaData, String, Text, delete, select, update
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dealerflow import config
from dealerflow.contracts import SCHEMAS, schema
from dealerflow.db import (
    NAMING_CONVENTION,
    UTCDateTime,
    claim_with_batch,
    insert_ignoring,
    insert_with_batch,
    utcnow,
)
from dealerflow.logs import correlation_id
from dealerflow.publishing import ConfirmedPublisher

log = logging.getLogger(__name__)

# When a message was published (seconds since the epoch, a float header): its
# consumer's ``dealerflow_delivery_age_seconds`` (``dealerflow.metrics``).
# Stamped on every outbox event and on the gateway's intake message.
PUBLISHED_AT_HEADER = "x-dealerflow-published-at"
KEEP_SENT = timedelta(days=7)  # sent events stay this long, for audits and replays
PURGE_EVERY_S = 600


class OutboxMixin:
    """Columns of a service's ``outbox`` table."""
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JSON)
    correlation_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[object] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)


class ProcessedMixin:
    """Columns of a service's ``processed_messages`` table (the inbox)."""
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handler: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[object] = mapped_column(UTCDateTime, index=True)  # for pruning
    reply: Mapped[str | None] = mapped_column(Text)  # an RPC request's reply (``dealerflow.once``)


def service_tables(consumes: bool = True):
    """A service's declarative ``Base`` (with named constraints) and its
    ``OutboxMessage`` and, when it consumes messages, ``ProcessedMessage``."""
    class Base(DeclarativeBase):
        metadata = MetaData(naming_convention=NAMING_CONVENTION)

    class OutboxMessage(OutboxMixin, Base):
        __tablename__ = "outbox"

    if not consumes:
        return Base, OutboxMessage

    class ProcessedMessage(ProcessedMixin, Base):
        __tablename__ = "processed_messages"

    return Base, OutboxMessage, ProcessedMessage


def record(session, outbox_model, event_type: str, **data) -> dict:
    """Add the event to the session's transaction; returns its payload."""
    payload = schema(SCHEMAS[event_type]).dump(
        dict(data, event_id=str(uuid.uuid4()), occurred_at=utcnow(), version=SCHEMAS[event_type].VERSION))
    event = (payload["event_id"], event_type, payload, correlation_id.get())
    insert_with_batch(session, outbox_model.__table__, [{  # Core: no ORM object to track
        "id": event[0], "event_type": event_type, "payload": payload, "correlation_id": event[3],
        "created_at": utcnow()}])
    session.info.setdefault("recorded_events", []).append(event)
    return payload


def insert_or_ignore(session, model, **values) -> bool:
    """INSERT the row unless its key exists (one statement, no read first,
    safe against a concurrent twin); True when it was inserted. A Core
    statement on the session's connection: the ORM's bulk-insert path cost
    a fifth of a handler's CPU for this one row (the session is flushed
    first, as the ORM would, unless autoflush is off)."""
    return insert_ignoring(session, model.__table__, [values]) == 1


def save_copy(session, model, key: dict, revision: int, **values) -> None:
    """Keep a service's copy of another service's record (a store, a user)
    as its events announce it: an older revision never overwrites a newer,
    whatever order the events arrive in."""
    copy = session.get(model, tuple(key.values()))
    if copy is None:
        copy = model(**key, revision=-1)
        session.add(copy)
    if revision > copy.revision:
        for name, value in dict(values, revision=revision).items():
            setattr(copy, name, value)


class StillUnsent(Exception):
    """Events about these leads wait to be published: the caller's message
    is retried later (``dealerflow.messaging``), when they are out."""


def forget_sent(session, outbox_model, lead_ids) -> int:
    """Delete the events about these leads, which a customer's erasure
    asks (sent events are kept a week for audits, and carry what the lead
    said). One not published yet must still reach its consumers, who scrub
    it in turn: then ``StillUnsent``, and the erasure is done on a retry."""
    lead_ids = set(lead_ids)
    about = [(row_id, sent_at) for row_id, payload, sent_at in session.execute(
        select(outbox_model.id, outbox_model.payload, outbox_model.sent_at)) if payload.get("lead_id") in lead_ids]
    if any(sent_at is None for _, sent_at in about):
        raise StillUnsent(f"{sum(sent_at is None for _, sent_at in about)} events about these leads are unsent")
    ids = [row_id for row_id, _ in about]
    for chunk in range(0, len(ids), 500):
        session.execute(delete(outbox_model).where(outbox_model.id.in_(ids[chunk:chunk + 500])))
    return len(ids)


def first_delivery(session, processed_model, message_id: str, handler: str) -> bool:
    """True the first time ``handler`` sees ``message_id``; the mark commits
    with the handler's own writes, so a crash before commit leaves no mark.
    In a batch of several deliveries the marks are written as the batch
    commits, in one statement, and a duplicate fails the batch instead
    (``db.claim_with_batch``)."""
    return claim_with_batch(session, processed_model.__table__, {
        "message_id": message_id, "handler": handler, "processed_at": utcnow()})


class Relay:
    """Publishes a service's outbox rows to ``<service>.events``, and keeps
    the outbox and the inbox (``processed_messages``) from growing for ever."""

    def __init__(self, service: str, outbox_model, processed_model=None):
        self.exchange = Exchange(f"{service}.events", type="topic", durable=True)
        self.outbox_model, self.processed_model = outbox_model, processed_model
        self._publisher = None
        self._purged_at = time.monotonic()
        self.confirmed: list[str] = []  # published, not yet marked sent

    @property
    def publisher(self):
        if self._publisher is None:
            self._publisher = ConfirmedPublisher(config.amqp_uri(), declare=[self.exchange], timeout=5.0)
        return self._publisher

    def publish_recorded(self, session) -> int:
        """Publish the events this session recorded, after its commit. They
        are marked sent later, in one batch (``mark_sent``): until then a crash
        only means they are published once more."""
        return self._publish(session.info.pop("recorded_events", []))

    def publish_pending(self, session, older_than=timedelta(seconds=2), limit=500) -> int:
        """Mark what was published as sent; publish rows a crash or an outage
        left unsent; now and then forget what is old (``purge``)."""
        self.mark_sent(session)
        model = self.outbox_model
        if time.monotonic() - self._purged_at > PURGE_EVERY_S:
            self._purged_at = time.monotonic()
            self.purge(session)
        rows = session.scalars(
            select(model).where(model.sent_at.is_(None),
                                model.created_at < utcnow() - older_than)
            .order_by(model.created_at).limit(limit)).all()
        pending = [(row.id, row.event_type, row.payload, row.correlation_id) for row in rows]
        session.commit()  # no transaction (and no SQLite lock) while the broker answers
        sent = self._publish(pending)
        self.mark_sent(session)
        return sent

    def purge(self, session) -> None:
        """Forget outbox rows sent longer ago than ``KEEP_SENT``, and
        processed-message marks older than the dedupe retention (by then no
        redelivery of those messages can come)."""
        outbox, processed = self.outbox_model, self.processed_model
        session.execute(delete(outbox).where(outbox.sent_at < utcnow() - KEEP_SENT))
        if processed is not None:
            session.execute(delete(processed).where(
                processed.processed_at < utcnow() - config.dedupe_retention()))
        session.commit()

    def mark_sent(self, session) -> None:
        ids, self.confirmed = self.confirmed, []
        if not ids:
            return
        try:
            model = self.outbox_model
            session.execute(update(model).where(model.id.in_(ids)).values(sent_at=utcnow()))
            session.commit()
        except Exception:
            self.confirmed.extend(ids)
            raise

    def _publish(self, events) -> int:
        """Publish ``(id, type, payload, correlation id)`` tuples, their
        confirms awaited together (``dealerflow.publishing``); what the
        broker did not confirm is left for the relay."""
        messages = []
        for _, event_type, payload, correlation in events:
            headers = {PUBLISHED_AT_HEADER: time.time()}
            if correlation:
                headers["nameko.correlation_id"] = correlation
            messages.append((payload, self.exchange.name, event_type, headers))
        errors = self.publisher.publish_many(messages)
        self.confirmed.extend(event[0] for event, error in zip(events, errors) if error is None)
        failed = [error for error in errors if error is not None]
        if failed:  # broker away: the relay tries again later
            log.warning("outbox: %d event(s) left for the relay: %r", len(failed), failed[0])
        return len(events) - len(failed)
