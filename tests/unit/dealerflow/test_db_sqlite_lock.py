"""dealerflow.db on a real SQLite file held by another connection: a BEGIN
waits for the lock in short blocking tries with green sleeps between them,
and gives up with the lock's OperationalError after a bounded total."""
import sqlite3
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dealerflow import db
from dealerflow.messaging import is_outage


@pytest.fixture
def path(tmp_path):
    path = tmp_path / "leads.db"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE things (id INTEGER)")
    engine.dispose()
    return path


@pytest.fixture
def holder(path):
    """Another process's connection, holding the write lock."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN EXCLUSIVE")
    yield connection
    connection.close()


def write(engine):
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO things VALUES (1)"))


def test_a_begin_retries_with_green_sleeps_until_the_lock_is_free(path, holder, monkeypatch):
    sleeps = []

    def sleep(seconds):  # stands in for eventlet's green sleep: records, and frees the lock at last
        sleeps.append((seconds, time.monotonic()))
        if len(sleeps) == 7:
            holder.rollback()
    monkeypatch.setattr(db.time, "sleep", sleep)
    engine = db.make_engine(f"sqlite:///{path}")

    write(engine)

    assert [seconds for seconds, _ in sleeps] == [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.5], \
        "a green back-off from 0.01 s doubling up to 0.5 s"
    blocking = max(b - a for (_, a), (_, b) in zip(sleeps, sleeps[1:]))
    assert blocking < 0.5, f"each try may block the process only briefly, one took {blocking:.2f} s"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM things")).scalar() == 1
    engine.dispose()


def test_a_begin_gives_up_after_the_configured_total(path, holder, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_SQLITE_LOCK_WAIT", "0.5")
    engine = db.make_engine(f"sqlite:///{path}")
    started = time.monotonic()

    with pytest.raises(OperationalError, match="database is locked") as raised:
        write(engine)

    waited = time.monotonic() - started
    assert 0.3 < waited < 1.5, f"gave up after {waited:.2f} s, not after about 0.5 s"
    assert is_outage(raised.value), "a locked database is an outage, not a bad message"
    holder.rollback()
    write(engine)  # the engine's one connection is still usable
    engine.dispose()

