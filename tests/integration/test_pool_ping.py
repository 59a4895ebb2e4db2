"""A PostgreSQL connection is pinged before use only after it has been
idle (``dealerflow.db.ping_when_idle``): one whose server process died
while it idled is replaced at checkout, and the caller never sees it; one
used within the idle time is trusted, and its death is the next
statement's error, after which the pool connects afresh."""
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dealerflow import db
from tests.support.stack import postgres


@pytest.fixture
def database():
    name = f"dftest_ping_{uuid.uuid4().hex[:8]}"
    postgres(f"CREATE DATABASE {name}")
    yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def backend_of(engine) -> int:
    """The server process of the pool's one idle connection, which is then returned."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT pg_backend_pid()")).scalar()


def kill(pid: int) -> None:
    postgres(f"SELECT pg_terminate_backend({pid}, 5000)")  # returns once it has gone


def test_a_connection_that_died_while_idle_is_replaced_unseen(database, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every connection counts as idle
    engine = db.make_engine(database)
    try:
        first = backend_of(engine)
        kill(first)
        assert backend_of(engine) not in (first, None)  # no error: the ping found it dead
    finally:
        engine.dispose()


def test_a_connection_used_within_the_idle_time_is_not_pinged(database, monkeypatch):
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 3600.0)
    engine = db.make_engine(database)
    try:
        first = backend_of(engine)
        kill(first)
        with pytest.raises(OperationalError) as raised:
            backend_of(engine)  # trusted, so its first statement meets the death
        assert raised.value.connection_invalidated
        assert backend_of(engine) not in (first, None)  # the pool connected afresh
    finally:
        engine.dispose()
