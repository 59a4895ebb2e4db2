"""A batch of deliveries is one transaction (``Database.begin_batch`` and
``end_batch``), on each backend: its handlers' commits leave it open,
nothing of it shows (or counts) before its end, and a batch that failed,
or that a handler rolled back, leaves nothing."""
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, event, text

from dealerflow.db import BATCH_ROWS, BatchRolledBack, Database, insert_with_batch, utcnow
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


def mark_row(mark: str) -> dict:
    return {"message_id": mark, "handler": "test", "processed_at": utcnow()}


def deferring_worker(db, marks: list[str]):
    """A batching worker whose handlers each deferred a row and committed."""
    worker_ctx = WorkerContext()
    session = db.get_dependency(worker_ctx)
    db.begin_batch(worker_ctx)
    for mark in marks:
        insert_with_batch(session, ProcessedMessage.__table__, [mark_row(mark)])
        session.commit()
    return worker_ctx, session


def test_rows_a_batch_defers_are_written_in_one_statement_as_it_commits(db):
    worker_ctx, _ = deferring_worker(db, ["m1", "m2", "m3"])
    inserts = []

    def seen(_conn, _cursor, statement, *_):
        if statement.startswith("INSERT INTO processed_messages"):
            inserts.append(statement)
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        assert db.marks() == 0, "nothing written before the batch's end"
        assert db.end_batch(worker_ctx, None) is None
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    db.worker_teardown(worker_ctx)
    assert len(inserts) == 1, "one statement for the batch's rows of a table"
    assert db.marks() == 3


def test_a_failed_batch_writes_none_of_its_deferred_rows(db):
    worker_ctx, session = deferring_worker(db, ["m1"])
    failure = (ValueError, ValueError("a later delivery was bad"), None)
    assert db.end_batch(worker_ctx, failure) is failure
    assert BATCH_ROWS not in session.info
    db.worker_teardown(worker_ctx)
    assert db.marks() == 0


def test_a_row_inside_a_savepoint_goes_with_the_savepoint(db):
    worker_ctx, session = deferring_worker(db, ["kept"])
    with pytest.raises(ValueError):
        with session.begin_nested():
            insert_with_batch(session, ProcessedMessage.__table__, [mark_row("undone")])
            raise ValueError("the nested change failed")
    assert db.end_batch(worker_ctx, None) is None
    db.worker_teardown(worker_ctx)
    assert db.marks() == 1
