"""dealerflow.outbox: ``record`` and ``first_delivery`` on a real SQLite
database, with the customers service's models."""
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from dealerflow.contracts import CUSTOMERS_MERGED, SCHEMAS
from dealerflow.db import make_engine, utcnow
from dealerflow.logs import correlation_id
from dealerflow.outbox import Relay, first_delivery, record
from services.customers.models import Base, OutboxMessage, ProcessedMessage


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'customers.db'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def request_id():
    token = correlation_id.set("req-42")
    yield "req-42"
    correlation_id.reset(token)


def record_merge(session, **overrides) -> dict:
    data = {"kept_id": "c-1", "merged_id": "c-2", "lead_ids": ["l-1"]}
    data.update(overrides)
    return record(session, OutboxMessage, CUSTOMERS_MERGED, **data)


def test_record_writes_the_event_in_the_transaction(sessions, request_id):
    with sessions() as session:
        payload = record_merge(session)
        assert session.info["recorded_events"] == [
            (payload["event_id"], CUSTOMERS_MERGED, payload, "req-42")]
        session.commit()
    with sessions() as session:
        [row] = session.scalars(select(OutboxMessage)).all()
    assert row.id == payload["event_id"]
    assert row.event_type == CUSTOMERS_MERGED
    assert row.payload == payload
    assert row.correlation_id == "req-42"
    assert row.sent_at is None
    assert row.created_at.tzinfo is not None


def test_recorded_payload_loads_with_the_events_schema(sessions):
    with sessions() as session:
        payload = record_merge(session, lead_ids=[])
    loaded = SCHEMAS[CUSTOMERS_MERGED]().load(payload)
    assert loaded["kept_id"] == "c-1" and loaded["lead_ids"] == []
    assert loaded["version"] == 1
    assert loaded["occurred_at"].tzinfo is not None


def test_each_record_gets_its_own_event_id(sessions):
    with sessions() as session:
        ids = [record_merge(session)["event_id"] for _ in range(3)]
        session.commit()
        assert len(set(ids)) == 3
        assert [event[0] for event in session.info["recorded_events"]] == ids
        assert len(session.scalars(select(OutboxMessage)).all()) == 3


def test_a_rolled_back_transaction_leaves_no_event(sessions):
    with sessions() as session:
        record_merge(session)
        session.rollback()
    with sessions() as session:
        assert session.scalars(select(OutboxMessage)).all() == []


def test_first_delivery_once_per_message_and_handler(sessions):
    with sessions() as session:
        assert first_delivery(session, ProcessedMessage, "ev-1", "match") is True
        session.commit()
    with sessions() as session:
        assert first_delivery(session, ProcessedMessage, "ev-1", "match") is False
        assert first_delivery(session, ProcessedMessage, "ev-1", "timeline") is True
        assert first_delivery(session, ProcessedMessage, "ev-2", "match") is True
        session.commit()
    with sessions() as session:
        marks = session.execute(select(ProcessedMessage.message_id, ProcessedMessage.handler)
                                .order_by(ProcessedMessage.message_id,
                                          ProcessedMessage.handler)).all()
    assert [tuple(mark) for mark in marks] == [("ev-1", "match"), ("ev-1", "timeline"),
                                               ("ev-2", "match")]


def test_first_delivery_mark_is_lost_with_a_rollback(sessions):
    with sessions() as session:
        assert first_delivery(session, ProcessedMessage, "ev-1", "match") is True
        session.rollback()   # the handler crashed before its commit
    with sessions() as session:
        assert first_delivery(session, ProcessedMessage, "ev-1", "match") is True


def test_purge_forgets_sent_events_and_processed_marks_past_their_retention(sessions, monkeypatch):
    monkeypatch.setenv("DEDUPE_RETENTION_DAYS", "2")
    now = utcnow()
    with sessions() as session:
        for days, message_id in ((3, "old"), (1, "recent")):
            session.add(ProcessedMessage(message_id=message_id, handler="h",
                                         processed_at=now - timedelta(days=days)))
        for days, event_id in ((8, "old-sent"), (1, "recent-sent")):
            session.add(OutboxMessage(id=event_id, event_type=CUSTOMERS_MERGED, payload={},
                                      created_at=now - timedelta(days=days),
                                      sent_at=now - timedelta(days=days)))
        session.add(OutboxMessage(id="old-unsent", event_type=CUSTOMERS_MERGED, payload={},
                                  created_at=now - timedelta(days=30)))
        session.commit()
        Relay("customers", OutboxMessage, ProcessedMessage).purge(session)
        assert set(session.scalars(select(ProcessedMessage.message_id))) == {"recent"}
        assert set(session.scalars(select(OutboxMessage.id))) == {"recent-sent", "old-unsent"}
