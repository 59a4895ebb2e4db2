"""``dealerflow.db.for_reads``: on a real SQLite file, sessions that only
read take no write lock, so they read while another process writes; on
PostgreSQL they open no transaction, and share the pool with writes.
``for_single_writes``: on PostgreSQL a write commits by itself; on SQLite
it takes the write lock at ``BEGIN`` as every write does."""
import sqlite3

import pytest
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import sessionmaker

from dealerflow import db


@pytest.fixture
def path(tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_SQLITE_LOCK_WAIT", "0.3")
    path = tmp_path / "gateway.db"
    engine = db.make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE things (id INTEGER)"))
        connection.execute(text("INSERT INTO things VALUES (1)"))
    engine.dispose()
    return path


def test_a_read_does_not_wait_for_a_writer(path):
    engine = db.make_engine(f"sqlite:///{path}")
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process, writing
    writer.execute("INSERT INTO things VALUES (2)")
    try:
        with sessionmaker(db.for_reads(engine))() as session:
            assert session.execute(text("SELECT count(*) FROM things")).scalar() == 1  # the committed row
        for writes in (engine, db.for_single_writes(engine)):
            with pytest.raises(OperationalError, match="locked"), sessionmaker(writes)() as session:
                session.execute(text("SELECT count(*) FROM things"))  # a BEGIN IMMEDIATE waits, then fails
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()


@pytest.fixture
def pg_engine():
    engine = db.make_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    with engine.begin() as connection:  # used one at a time, the pool holds this one connection
        connection.execute(text("CREATE TEMPORARY TABLE things (id INTEGER)"))  # seen by it alone
    yield engine
    engine.dispose()


def test_on_postgresql_a_read_opens_no_transaction_and_a_write_after_it_still_does(pg_engine):
    reads = sessionmaker(db.for_reads(pg_engine))
    with reads() as session:
        assert session.execute(text("SELECT count(*) FROM things")).scalar() == 0
        raw = session.connection().connection.dbapi_connection
        assert raw.get_transaction_status() == TRANSACTION_STATUS_IDLE  # no BEGIN was sent
    with sessionmaker(pg_engine)() as session:
        session.execute(text("INSERT INTO things VALUES (1)"))
        assert session.connection().connection.dbapi_connection is raw  # the same pooled connection
        assert raw.get_transaction_status() == TRANSACTION_STATUS_INTRANS
        session.rollback()
    with reads() as session:
        assert session.execute(text("SELECT count(*) FROM things")).scalar() == 0  # rolled back
    with sessionmaker(pg_engine)() as session:
        session.execute(text("INSERT INTO things VALUES (2)"))
        session.commit()
    with reads() as session:
        assert session.execute(text("SELECT id FROM things")).scalars().all() == [2]


def test_on_postgresql_a_single_write_commits_by_itself_and_a_failed_one_leaves_the_connection_usable(pg_engine):
    with pg_engine.begin() as connection:
        connection.execute(text("CREATE TEMPORARY TABLE keyed (id INTEGER PRIMARY KEY)"))
    single_writes = sessionmaker(db.for_single_writes(pg_engine))
    with single_writes() as session:
        session.execute(text("INSERT INTO keyed VALUES (1)"))
        raw = session.connection().connection.dbapi_connection
        assert raw.get_transaction_status() == TRANSACTION_STATUS_IDLE  # committed: no transaction is open
        session.rollback()  # nothing to roll back
    with single_writes() as session:
        with pytest.raises(IntegrityError):
            session.execute(text("INSERT INTO keyed VALUES (1)"))
        session.rollback()
    with sessionmaker(pg_engine)() as session:
        assert session.execute(text("SELECT id FROM keyed")).scalars().all() == [1]
        session.execute(text("INSERT INTO keyed VALUES (2)"))
        assert session.connection().connection.dbapi_connection is raw  # the same pooled connection
        assert raw.get_transaction_status() == TRANSACTION_STATUS_INTRANS  # an ordinary write's transaction
        session.rollback()
    with single_writes() as session:
        assert session.execute(text("SELECT id FROM keyed")).scalars().all() == [1]
