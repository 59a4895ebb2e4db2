"""``dealerflow.db.for_reads``: sessions that only read, on a real database
of each backend. On PostgreSQL they leave no transaction open (no BEGIN and
ROLLBACK round trips); on SQLite they take no write lock, so they read
while another process writes."""
import sqlite3
import uuid

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import sessionmaker

from dealerflow import db
from tests.support.stack import POSTGRES_ADMIN_URL, postgres


@pytest.fixture
def engine(backend, tmp_path, monkeypatch):
    monkeypatch.setenv("DEALERFLOW_SQLITE_LOCK_WAIT", "0.3")
    if backend == "sqlite":
        url, name = f"sqlite:///{tmp_path}/gateway.db", None
    else:
        name = f"dftest_reads_{uuid.uuid4().hex[:8]}"
        postgres(f"CREATE DATABASE {name}")
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    made = db.make_engine(url)
    with made.begin() as connection:
        connection.execute(text("CREATE TABLE things (id INTEGER)"))
        connection.execute(text("INSERT INTO things VALUES (1)"))
    yield made
    made.dispose()
    if name:
        postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def state_of(pid: int) -> str:
    """What PostgreSQL says the backend ``pid`` is doing, asked from another connection."""
    connection = psycopg2.connect(POSTGRES_ADMIN_URL)
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,))
        return cursor.fetchone()[0]
    finally:
        connection.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_read_on_postgresql_leaves_no_transaction_open(engine):
    for sessions, after_a_read in ((sessionmaker(engine), "idle in transaction"),
                                   (sessionmaker(db.for_reads(engine)), "idle")):
        with sessions() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
            assert session.execute(text("SELECT count(*) FROM things")).scalar() == 1
            assert state_of(pid) == after_a_read


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_read_on_sqlite_does_not_wait_for_a_writer(engine, tmp_path):
    writer = sqlite3.connect(tmp_path / "gateway.db", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process, writing
    writer.execute("INSERT INTO things VALUES (2)")
    try:
        with sessionmaker(db.for_reads(engine))() as session:
            assert session.execute(text("SELECT count(*) FROM things")).scalar() == 1  # the committed row
        with pytest.raises(OperationalError, match="locked"), sessionmaker(engine)() as session:
            session.execute(text("SELECT count(*) FROM things"))  # a service's BEGIN IMMEDIATE waits, then fails
    finally:
        writer.rollback()
        writer.close()
