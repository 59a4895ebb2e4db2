"""A batch of deliveries is one transaction (``Database.begin_batch`` and
``end_batch``), on each backend: its handlers' commits leave it open,
nothing of it shows (or counts) before its end, and a batch that failed,
or that a handler rolled back, leaves nothing. A batch of several claims
its deliveries' marks as it commits, in one statement, and fails when one
was taken; a batch of one claims at once."""
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, event, text

from dealerflow.db import (
    BATCH_CLAIMS,
    BATCH_ROWS,
    BatchRolledBack,
    ClaimTaken,
    Database,
    insert_with_batch,
    utcnow,
)
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
    db.begin_batch(worker_ctx, len(marks))
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


@contextmanager
def inserts_into(engine, table: str):
    """The INSERT statements into ``table`` the engine sends inside the block."""
    inserts = []

    def seen(_conn, _cursor, statement, *_):
        if statement.startswith(f"INSERT INTO {table}"):
            inserts.append(statement)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield inserts
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_a_batch_of_several_claims_its_marks_in_one_statement_as_it_commits(db):
    with inserts_into(db.engine, "processed_messages") as inserts:
        worker_ctx = batch_worker(db, ["m1", "m2", "m3"], [])
        assert inserts == [], "no mark is claimed before the batch's end"
        assert db.end_batch(worker_ctx, None) is None
    db.worker_teardown(worker_ctx)
    assert len(inserts) == 1 and db.marks() == 3


def test_a_batch_with_a_taken_mark_fails_and_leaves_nothing(db):
    db.end_batch(done := batch_worker(db, ["m2"], []), None)  # an earlier delivery of m2, committed
    db.worker_teardown(done)
    counted = []
    worker_ctx = batch_worker(db, ["m1", "m2", "m3"], counted)  # each told "first" for now
    session = db.sessions[worker_ctx]
    insert_with_batch(session, ProcessedMessage.__table__, [mark_row("deferred")])
    ended = db.end_batch(worker_ctx, None)
    assert ended[0] is ClaimTaken and "processed_messages" in str(ended[1])
    assert BATCH_CLAIMS not in session.info and BATCH_ROWS not in session.info
    db.worker_teardown(worker_ctx)
    assert db.marks() == 1 and counted == [], "only the earlier delivery's mark"


def test_twins_in_one_batch_fail_it(db):
    worker_ctx = batch_worker(db, ["m1", "m1"], [])
    assert db.end_batch(worker_ctx, None)[0] is ClaimTaken
    db.worker_teardown(worker_ctx)
    assert db.marks() == 0


def test_a_batch_of_one_claims_at_once_and_tells_a_duplicate(db):
    db.end_batch(done := batch_worker(db, ["m1"], []), None)
    db.worker_teardown(done)
    assert db.marks() == 1, "claimed as the delivery was handled, committed with the batch"
    worker_ctx = WorkerContext()
    session = db.get_dependency(worker_ctx)
    db.begin_batch(worker_ctx, 1)
    assert not first_delivery(session, ProcessedMessage, "m1", "test")
    assert db.end_batch(worker_ctx, None) is None
    db.worker_teardown(worker_ctx)
    assert db.marks() == 1


def test_a_mark_inside_a_savepoint_is_claimed_at_once(db):
    worker_ctx = batch_worker(db, ["m1", "m2"], [])
    session = db.sessions[worker_ctx]
    with inserts_into(db.engine, "processed_messages") as inserts:
        with session.begin_nested():
            assert first_delivery(session, ProcessedMessage, "m0", "test")
        assert len(inserts) == 1, "claimed at once"
    with pytest.raises(ValueError):
        with session.begin_nested():
            assert first_delivery(session, ProcessedMessage, "undone", "test")
            raise ValueError("the nested change failed")
    assert db.end_batch(worker_ctx, None) is None
    db.worker_teardown(worker_ctx)
    assert db.marks() == 3, "m0, m1 and m2"


def mark_row(mark: str) -> dict:
    return {"message_id": mark, "handler": "test", "processed_at": utcnow()}


def deferring_worker(db, marks: list[str]):
    """A batching worker whose handlers each deferred a row and committed."""
    worker_ctx = WorkerContext()
    session = db.get_dependency(worker_ctx)
    db.begin_batch(worker_ctx, len(marks))
    for mark in marks:
        insert_with_batch(session, ProcessedMessage.__table__, [mark_row(mark)])
        session.commit()
    return worker_ctx, session


def test_rows_a_batch_defers_are_written_in_one_statement_as_it_commits(db):
    worker_ctx, _ = deferring_worker(db, ["m1", "m2", "m3"])
    with inserts_into(db.engine, "processed_messages") as inserts:
        assert db.marks() == 0, "nothing written before the batch's end"
        assert db.end_batch(worker_ctx, None) is None
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
