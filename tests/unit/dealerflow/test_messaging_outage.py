"""dealerflow.messaging: a handler that failed because its database or the
broker is unavailable waits for it, with a capped back-off, and keeps its
retries; one that failed because of its message is retried, then parked."""
import socket
import sqlite3
from types import SimpleNamespace

import psycopg2
import pytest
from amqp.exceptions import ConnectionForced
from kombu import Queue
from kombu.exceptions import OperationalError as KombuOperationalError
from marshmallow import ValidationError
from sqlalchemy import exc as sa

from dealerflow import messaging
from services.leads.exceptions import LeadNotFound

OUTAGES = [
    sa.OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
    sa.OperationalError("SELECT 1", {}, psycopg2.OperationalError("server closed the connection")),
    sa.InterfaceError("SELECT 1", {}, psycopg2.InterfaceError("connection already closed")),
    sa.DisconnectionError("the pool's pre-ping failed"),
    sa.TimeoutError("QueuePool limit of size 1 overflow 0 reached"),
    ConnectionRefusedError(111, "Connection refused"),
    socket.timeout("timed out"),
    ConnectionForced("broker forced connection closure"),
    KombuOperationalError("could not connect to the broker"),
]
BAD_MESSAGES = [
    ValidationError({"lead_id": ["Missing data for required field."]}),
    LeadNotFound("not-a-real-lead"),
    sa.IntegrityError("INSERT", {}, sqlite3.IntegrityError("NOT NULL constraint failed")),
    sa.ProgrammingError("SELECT", {}, psycopg2.ProgrammingError("syntax error")),
    KeyError("customer"),
    ValueError("naive datetime given to a UTC column"),
]


@pytest.mark.parametrize("error", OUTAGES, ids=repr)
def test_an_unavailable_database_or_broker_is_an_outage(error):
    assert messaging.is_outage(error), f"{error!r} says the database or the broker is unavailable"


@pytest.mark.parametrize("error", BAD_MESSAGES, ids=repr)
def test_anything_else_is_the_message_s_fault(error):
    assert not messaging.is_outage(error), f"{error!r} says nothing about an outage"


class FakeQueueConsumer:
    def __init__(self):
        self.acked, self.requeued = [], []

    def ack_message(self, message):
        self.acked.append(message)

    def requeue_message(self, message):
        self.requeued.append(message)


class Entrypoint(messaging.RetryOnError):
    """The mixin as nameko would set it up, with fakes for the broker."""
    method_name = "handle_lead_submitted"

    def __init__(self):
        self.queue, self.queue_consumer = Queue("leads.intake"), FakeQueueConsumer()
        self.container = SimpleNamespace(config={"AMQP_URI": "memory://"})
        self.outage_backoff = messaging.OutageBackoff()


def failed(error):
    return (type(error), error, None)


def test_an_outage_requeues_after_a_capped_back_off_that_a_success_resets(
        monkeypatch, sleeps, rescheduled, caplog):
    monkeypatch.setenv("DEALERFLOW_OUTAGE_BACKOFF_MAX", "3")
    entrypoint = Entrypoint()
    outage = failed(OUTAGES[0])

    for n in range(5):
        entrypoint.handle_message_processed(f"m{n}", exc_info=outage)
    entrypoint.handle_message_processed("ok")
    entrypoint.handle_message_processed("m5", exc_info=outage)

    assert sleeps == [0.5, 1, 2, 3, 3, 0.5], "0.5 s doubling up to the cap, and 0.5 s after a success"
    assert entrypoint.queue_consumer.requeued == ["m0", "m1", "m2", "m3", "m4", "m5"]
    assert entrypoint.queue_consumer.acked == ["ok"]
    assert rescheduled == [], "an outage uses up none of the message's retries"
    assert "an outage, not a bad message" in caplog.text


def test_a_bad_message_goes_to_its_retry_queue_at_once(sleeps, rescheduled, caplog):
    entrypoint = Entrypoint()
    entrypoint.handle_message_processed("bad", exc_info=failed(BAD_MESSAGES[0]))
    assert rescheduled == ["bad"] and entrypoint.queue_consumer.acked == ["bad"]
    assert sleeps == [] and entrypoint.queue_consumer.requeued == []
    assert "failed on its message (ValidationError); sent to leads.intake.retry.1s" in caplog.text


def test_a_bad_message_that_cannot_be_rescheduled_waits_like_an_outage(monkeypatch, sleeps, caplog):
    def broker_down(*args):
        raise ConnectionRefusedError(111, "Connection refused")
    monkeypatch.setattr(messaging, "retry_or_park", broker_down)
    entrypoint = Entrypoint()
    entrypoint.handle_message_processed("bad", exc_info=failed(BAD_MESSAGES[0]))
    assert sleeps == [0.5] and entrypoint.queue_consumer.requeued == ["bad"]
    assert entrypoint.queue_consumer.acked == []
    assert "could not be sent to its retry queue" in caplog.text
