"""A batch of deliveries is one transaction (``Database.begin_batch`` and
``end_batch``), on each backend: its handlers' commits leave it open,
nothing of it shows (or counts) before its end, and a batch that failed,
or that a handler rolled back, leaves nothing."""
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text

from dealerflow.db import BatchRolledBack, Database
from dealerflow.metrics import count_on_commit
from dealerflow.outbox import first_delivery
from services.customers.models import ProcessedMessage

pytestmark = pytest.mark.integration


@pytest.fixture
def db(service_db):
    sessions = service_db("customers")
    database = Database()
    database.engine, database.Session = sessions.kw["bind"], sessions
    outside = create_engine(database.engine.url)  # another process's view

    def marks():
        with outside.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM processed_messages")).scalar()
    database.marks = marks
    yield database
    outside.dispose()


class WorkerContext:
    entrypoint = SimpleNamespace(batching=True)


def batch_worker(db, marks: list[str], counted: list) -> WorkerContext:
    """A batching worker whose handlers each marked a delivery and committed."""
    worker_ctx = WorkerContext()
    session = db.get_dependency(worker_ctx)
    db.begin_batch(worker_ctx)
    for mark in marks:
        assert first_delivery(session, ProcessedMessage, mark, "test")
        count_on_commit(session, lambda mark=mark: counted.append(mark))
        session.commit()
    return worker_ctx


def test_a_batch_shows_and_counts_nothing_before_its_end_and_all_of_it_after(db):
    counted = []
    worker_ctx = batch_worker(db, ["m1", "m2", "m3"], counted)
    assert db.marks() == 0, "a handler's commit does not commit the batch"
    assert counted == []
    assert db.end_batch(worker_ctx, None) is None
    db.worker_teardown(worker_ctx)
    assert db.marks() == 3 and counted == ["m1", "m2", "m3"]


def test_a_failed_batch_leaves_nothing(db):
    counted = []
    worker_ctx = batch_worker(db, ["m1", "m2"], counted)
    failure = (ValueError, ValueError("the second delivery was bad"), None)
    assert db.end_batch(worker_ctx, failure) is failure
    db.worker_teardown(worker_ctx)
    assert db.marks() == 0 and counted == []


def test_a_batch_a_handler_rolled_back_is_not_committed_and_says_so(db):
    counted = []
    worker_ctx = batch_worker(db, ["m1"], counted)
    session = db.sessions[worker_ctx]
    first_delivery(session, ProcessedMessage, "m2", "test")
    session.rollback()  # a handler's own rollback, midway: it ends the batch's transaction
    ended = db.end_batch(worker_ctx, None)
    db.worker_teardown(worker_ctx)
    assert ended[0] is BatchRolledBack
    assert db.marks() == 0 and counted == []
