"""``dealerflow.db.for_reads`` on a real SQLite file: sessions that only
read take no write lock, so they read while another process writes."""
import sqlite3

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
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
        with pytest.raises(OperationalError, match="locked"), sessionmaker(engine)() as session:
            session.execute(text("SELECT count(*) FROM things"))  # a BEGIN IMMEDIATE waits, then fails
    finally:
        writer.rollback()
        writer.close()
        engine.dispose()


def test_on_postgresql_reads_share_the_engine_and_its_pool():
    engine = db.make_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/test")
    try:
        assert db.for_reads(engine) is engine  # no second pool of connections (see for_reads)
    finally:
        engine.dispose()
