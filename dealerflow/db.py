"""The SQLAlchemy 2 side every service shares: engines and the nameko dependency.

SQLite is the embedded default: WAL so readers never wait for the writer,
one pooled connection per process, and (for services, whose transactions
read then write) ``BEGIN IMMEDIATE`` so two transactions can never deadlock
upgrading their locks. PostgreSQL is production.

Nothing here may block an event loop: every service runs on eventlet, the
gateway on gevent, and a wait in C stalls every greenlet of the process,
broker heartbeats and gunicorn's worker heartbeat included.

- psycopg2 waits for PostgreSQL through its wait callback. The services'
  ``eventlet.monkey_patch()`` (``dealerflow.runner``) installs eventlet's
  (``psycopg`` is one of the modules it patches by default); the gateway's
  gunicorn workers install psycogreen's for gevent (``gunicorn_conf.py``).
- SQLite's own busy handler sleeps in C, so SQLite may wait only
  ``SQLITE_BLOCKING_WAIT_S`` for a lock; a ``BEGIN`` that still finds the
  database locked is retried with a green ``time.sleep`` back-off for up to
  ``DEALERFLOW_SQLITE_LOCK_WAIT`` seconds in all (default 10), then its
  ``OperationalError`` is raised (and the message waits for the database:
  ``dealerflow.messaging``).
"""
import functools
import logging
import os
import sqlite3
import sys
import time
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DisconnectionError, OperationalError
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)

SQLITE_BLOCKING_WAIT_S = 0.1  # what SQLite may wait in C, blocking its whole process
SQLITE_FIRST_PAUSE_S, SQLITE_LONGEST_PAUSE_S = 0.01, 0.5  # the green back-off between BEGINs
PING_AFTER_IDLE_S = 1.0  # a PostgreSQL connection idle longer is pinged before it is used


# Named constraints, so that migrations can alter them on SQLite too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def database_of(session) -> str:
    """Which database the session works in (its URL), whether it is bound
    to the engine or, in a batch (``Database.begin_batch``), to a connection:
    a key for what a process keeps per database."""
    return str(session.get_bind().engine.url)


def execute(session, statement, params=None):
    """A prebuilt Core statement (built once, with ``bindparam``) on the
    session's connection: about half the CPU of ``session.execute`` and a
    quarter of a statement built at each call. The session's pending
    changes are flushed first when it autoflushes, as ``session.execute``
    would, so that a read sees them."""
    if session.autoflush:
        session.flush()
    return session.connection().execute(statement, params)


class UTCDateTime(TypeDecorator):
    """A UTC timestamp that comes back timezone-aware from SQLite too."""
    impl = DateTime
    cache_ok = True

    def __init__(self, timezone: bool = True):
        super().__init__(timezone=True)

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime given to a UTC column")
            value = value.astimezone(timezone.utc)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


def make_engine(url: str, immediate: bool = True):
    """An engine for ``url``; on SQLite, ``immediate`` makes every transaction
    take the write lock at BEGIN (right for a service, wrong for a read-mostly
    web tier with many processes)."""
    if not url.startswith("sqlite"):
        engine = create_engine(url, pool_size=10, max_overflow=10)
        ping_when_idle(engine, PING_AFTER_IDLE_S)
        autocommit_when_asked(engine)
        return engine

    # One connection per process: SQLite has one writer anyway, and a
    # greenlet waiting for the pool yields to the others, where one waiting
    # in SQLite's busy handler would stall the whole process, including the
    # greenlet that holds the lock (and is sending an RPC reply meanwhile).
    engine = create_engine(url, connect_args={"timeout": SQLITE_BLOCKING_WAIT_S,
                                              "check_same_thread": False},
                           poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60)
    lock_wait = float(os.environ.get("DEALERFLOW_SQLITE_LOCK_WAIT", "10"))

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # let SQLAlchemy's BEGIN below rule
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        reads = connection.get_execution_options().get(READS_ONLY)
        begin_cooperatively(connection, "BEGIN IMMEDIATE" if immediate and not reads else "BEGIN", lock_wait)

    return engine


READS_ONLY = "dealerflow_reads_only"  # an execution option: the engine's transactions only read
AUTOCOMMIT = "dealerflow_autocommit"  # and one: on PostgreSQL, each of their statements commits by itself


def for_reads(engine):
    """The engine (the same pool of connections) for work that only reads.
    On SQLite its transactions begin deferred, taking no write lock: in WAL
    mode a reader never waits for the writer, where a ``BEGIN IMMEDIATE``
    would queue behind it. On PostgreSQL its statements run in autocommit
    (``autocommit_when_asked``). Nothing may write through it: on PostgreSQL a
    write would commit at once, and two reads need not see one snapshot."""
    return engine.execution_options(**{READS_ONLY: True, AUTOCOMMIT: True})


def for_single_writes(engine):
    """The engine (the same pool of connections) for transactions of one
    statement each, such as the ledger row of a lead the gateway accepted.
    On PostgreSQL the statement commits by itself (``autocommit_when_asked``):
    one round trip where ``BEGIN``, the statement and ``COMMIT`` made three.
    On SQLite its transactions are the engine's own (the write lock taken at
    ``BEGIN``, waited for cooperatively). A second statement in one of its
    transactions would, on PostgreSQL, commit apart from the first."""
    return engine.execution_options(**{AUTOCOMMIT: True})


def autocommit_when_asked(engine) -> None:
    """On PostgreSQL, run the statements of a transaction that asks for it
    (``for_reads``, ``for_single_writes``) in autocommit, and every other
    transaction's as usual. A read then costs its one statement, where
    psycopg2 sent a ``BEGIN`` before it and the pool a ``ROLLBACK`` after:
    two of the three round trips each read of the gateway made (issue 13).
    psycopg2's ``autocommit`` is its own flag, set without a statement;
    SQLAlchemy's ``AUTOCOMMIT`` isolation level would send a ``SET`` when the
    connection returns to the pool, and a pool of autocommit connections of
    their own doubled the gateway's connections (PostgreSQL's 100 ran out in
    the bench's burst with two replicas, and intake answered 503). Each
    transaction sets the flag as it begins, so a connection's last use
    never decides its next."""
    @event.listens_for(engine, "begin")
    def on_begin(connection):
        dbapi_connection = connection.connection.dbapi_connection
        autocommit = bool(connection.get_execution_options().get(AUTOCOMMIT))
        if dbapi_connection.autocommit != autocommit:
            dbapi_connection.autocommit = autocommit


def ping_when_idle(engine, after: float) -> None:
    """Ping a pooled connection before use only when it has been idle for
    ``after`` seconds or more, and replace it when the ping fails.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout: on PostgreSQL
    that was 3 of the 12 statements the gateway sent for a lead (issue 13).
    A connection returned within the second worked then. One that dies
    within that second fails its first statement instead. SQLAlchemy reads
    that as a disconnect and invalidates the pool, and the caller sees the
    outage it would have met at the ping: a message waits for the database
    (``dealerflow.messaging``), a request gets 503. A ``DisconnectionError``
    raised at checkout makes the pool connect again (``PoolEvents.checkout``).
    """
    @event.listens_for(engine, "checkin")
    def returned(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", float("-inf")) < after:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError(f"the pooled connection is gone: {exc}") from exc


def begin_cooperatively(connection, statement: str, lock_wait: float) -> None:
    """Run SQLite's ``statement`` (a BEGIN); while another process holds the
    lock, try again after a green sleep (0.01 s doubling up to 0.5 s), so
    that the rest of the process runs meanwhile, for up to ``lock_wait``
    seconds in all. Then the lock's ``OperationalError`` is raised."""
    deadline = time.monotonic() + lock_wait
    pause = SQLITE_FIRST_PAUSE_S
    while True:
        try:
            connection.exec_driver_sql(statement)
            return
        except OperationalError as exc:
            if not is_sqlite_busy(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)  # looked up now: eventlet's or gevent's once patched
        pause = min(pause * 2, SQLITE_LONGEST_PAUSE_S)


def is_sqlite_busy(exc: OperationalError) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included: another
    connection holds the lock ("database is locked")."""
    code = getattr(exc.orig, "sqlite_errorcode", None)
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


BATCH = "dealerflow.batch"  # a batch session's info: its transaction (``Database.begin_batch``)
BATCH_ROWS = "dealerflow.batch_rows"  # and the rows it writes as it commits ({table: [rows]})
BATCH_CLAIMS = "dealerflow.batch_claims"  # a batch of several: the keys it claims as it commits ({table: [rows]})
PENDING_COUNTS = "dealerflow.pending_counts"  # what counts once its transaction commits (``metrics``)


class BatchRolledBack(Exception):
    """A handler rolled a batch's transaction back: none of the batch may be acked."""


class ClaimTaken(Exception):
    """A batch claimed a key that was taken: an earlier delivery of one of
    its messages did that message's work (``claim_with_batch``)."""


@functools.cache
def ignoring_insert(dialect_name: str, table):
    """``INSERT ... ON CONFLICT DO NOTHING`` into ``table``, built once."""
    return {"sqlite": sqlite, "postgresql": postgresql}[dialect_name].insert(table).on_conflict_do_nothing()


def insert_ignoring(session, table, rows: list[dict]) -> int:
    """Insert those of ``rows`` whose key is free, in one statement (a
    multi-row ``VALUES`` for several, whose count of rows written is exact
    on both backends, where an executemany's is not); how many it wrote.
    The session is flushed first when it autoflushes, as for ``execute``."""
    statement = ignoring_insert(session.get_bind().dialect.name, table)
    if len(rows) > 1:
        return execute(session, statement.values(rows)).rowcount
    return execute(session, statement, rows[0]).rowcount


def claim_with_batch(session, table, row: dict) -> bool:
    """Insert ``row`` unless its key exists: True when this call took the
    key (an event's dedupe mark, ``outbox.first_delivery``). In a batch of
    several deliveries (``Database.begin_batch``) the key is claimed as the
    batch commits, with the other deliveries' claims in one statement, and
    True is answered now: should any key turn out to be taken (a
    redelivery, rare), the batch fails with ``ClaimTaken``, its transaction
    rolls back with the work done for the duplicate, and each of its
    deliveries is handled again alone (``messaging.Batching``), where the
    claim is made at once and the duplicate is told. Inside a savepoint
    the key is claimed at once, so that the savepoint's rollback takes it back."""
    if BATCH_CLAIMS in session.info and not session.in_nested_transaction():
        session.info[BATCH_CLAIMS].setdefault(table, []).append(row)
        return True
    return insert_ignoring(session, table, [row]) == 1


@functools.cache
def plain_insert(table):
    """``INSERT`` into ``table``, built once (its cache key too)."""
    return table.insert()


def insert_with_batch(session, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the
    session's transaction. In a batch (``Database.begin_batch``), as the
    batch commits, with the rows its other deliveries gave the same table:
    one statement for all (a multi-row ``INSERT`` on PostgreSQL), not one a
    delivery. Only for rows nothing reads before the commit, such as outbox
    rows, a new lead's first event, a customer's timeline entries. Inside a
    savepoint the rows are written at once, so that the savepoint's
    rollback takes them back."""
    if rows and BATCH in session.info and not session.in_nested_transaction():
        session.info.setdefault(BATCH_ROWS, {}).setdefault(table, []).extend(rows)
    else:
        insert_rows(session, table, rows)


def insert_rows(session, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` now, in
    one statement (an executemany for several) on the session's
    connection: no ORM object is made only to read its columns back, and
    no unit-of-work flush runs for them. Its errors are SQLAlchemy's, by
    which a handler's outage is told from a bad message
    (``dealerflow.messaging``)."""
    if rows:
        session.connection().execute(plain_insert(table), rows if len(rows) > 1 else rows[0])


def run_counts(session) -> None:
    """Count what waited for the session's transaction to commit."""
    for count in session.info.pop(PENDING_COUNTS, ()):
        count()


class Database(DependencyProvider):
    """Injects a SQLAlchemy session per worker, closed when the worker ends.

    When the worker recorded events (``dealerflow.outbox.record``) and
    committed, they are published right after it, with confirms; whatever
    cannot be published now stays in the outbox for the relay timer.
    """

    def __init__(self, relay=None):
        self.relay = relay
        self.sessions = {}

    def setup(self):
        self.engine = make_engine(self.container.config["DATABASE_URL"])
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    def stop(self):
        self.engine.dispose()

    def get_dependency(self, worker_ctx):
        batching = getattr(worker_ctx.entrypoint, "batching", False)
        session = self.Session(join_transaction_mode="rollback_only") if batching else self.Session()
        self.sessions[worker_ctx] = session
        return session

    def begin_batch(self, worker_ctx, deliveries: int) -> None:
        """Begin the one transaction of a batch of ``deliveries``
        (``messaging.Batching``) and bind the worker's session to it: the
        session's commits leave it open (SQLAlchemy's
        ``join_transaction_mode="rollback_only"``), ``end_batch`` commits
        it, and a rollback rolls all of it back. Called as the batch is
        first read, inside the worker's method, where an outage is the
        method's error like any other. A batch of one claims its keys at
        once (``claim_with_batch``): a duplicate is told there, not by
        failing the batch."""
        session = self.sessions[worker_ctx]
        if BATCH in session.info:
            return
        connection = self.engine.connect()
        try:
            transaction = connection.begin()
        except BaseException:
            connection.close()
            raise
        session.bind = connection
        session.info[BATCH] = transaction
        if deliveries > 1:
            session.info[BATCH_CLAIMS] = {}

    def end_batch(self, worker_ctx, exc_info):
        """Commit a batch's transaction if its worker succeeded and nothing
        rolled it back meanwhile, else roll it back; the ``exc_info`` the
        batch ends with (the commit's own, when it is the commit that
        failed). The connection goes back to the pool either way, so that
        what the worker does next (acks, a retry's wait) holds nothing."""
        session = self.sessions[worker_ctx]
        transaction = session.info.get(BATCH)
        if transaction is None:  # never begun: the batch failed before, or was never read
            session.rollback()
            return exc_info
        try:
            if exc_info is None and not transaction.is_active:
                raise BatchRolledBack("a handler rolled the batch's transaction back")
            if exc_info is None:
                for table, rows in session.info.pop(BATCH_CLAIMS, {}).items():
                    if insert_ignoring(session, table, rows) != len(rows):
                        raise ClaimTaken(f"a key of {len(rows)} in {table.name} was taken: an earlier "
                                         f"delivery of one of the batch's messages did its work")
                for table, rows in session.info.pop(BATCH_ROWS, {}).items():
                    insert_rows(session, table, rows)
                session.flush()
                transaction.commit()
                run_counts(session)
                return None
        except Exception:
            exc_info = sys.exc_info()
        finally:
            if exc_info is not None:
                session.info.pop(BATCH_ROWS, None)
                session.info.pop(BATCH_CLAIMS, None)
                session.rollback()
            transaction.connection.close()
        return exc_info

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        session = self.sessions.get(worker_ctx)
        if self.relay is not None and session is not None and exc_info is None:
            try:
                self.relay.publish_recorded(session)
            except Exception:  # the rows stay in the outbox for the relay timer
                log.exception("could not publish recorded events")

    def release(self, worker_ctx):
        """End a failed worker's transaction now (``messaging.RetryOnError``
        calls it before it waits or publishes a retry)."""
        session = self.sessions.get(worker_ctx)
        if session is not None:
            session.rollback()

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()
