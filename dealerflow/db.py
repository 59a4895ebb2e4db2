"""The SQLAlchemy 2 side every service shares: engines and the nameko dependency.

SQLite is the embedded default: WAL so readers never wait for the writer,
one pooled connection per process, a busy timeout for the other processes,
and (for services, whose transactions read then write) ``BEGIN IMMEDIATE``
so two transactions can never deadlock upgrading their locks. PostgreSQL is
production.
"""
import logging
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import DateTime, create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.types import TypeDecorator

log = logging.getLogger(__name__)


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
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)

    # One connection per process: SQLite has one writer anyway, and a
    # greenlet waiting for the pool yields to the others, where one waiting
    # in SQLite's busy handler would stall the whole process, including the
    # greenlet that holds the lock (and is sending an RPC reply meanwhile).
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                           poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60)

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
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


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
        session = self.Session()
        self.sessions[worker_ctx] = session
        return session

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        session = self.sessions.get(worker_ctx)
        if self.relay is not None and session is not None and exc_info is None:
            try:
                self.relay.publish_recorded(session)
            except Exception:  # the rows stay in the outbox for the relay timer
                log.exception("could not publish recorded events")

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()
