"""A new lead's first-contact task (``handlers.schedule_first_contact``), on
SQLite: six statements and no flush of the unit of work; the task is in
the session as the row written; a redelivery changes nothing; the lead's
second owner takes the task over."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, inspect, select

from dealerflow.contracts import LeadAssigned, schema
from dealerflow.db import utcnow
from services.followups import handlers
from services.followups.models import Base, LeadState, Task
from tests.support.service_db import fresh_sqlite

STORE = "SH-PUDONG"


@pytest.fixture
def db(tmp_path):
    with fresh_sqlite(tmp_path / "followups.db", Base) as made:
        yield made


def assigned(lead_id: str, consultant_id: str = "c-1", **fields) -> dict:
    now = utcnow()
    return schema(LeadAssigned).load({
        "event_id": str(uuid.uuid4()), "occurred_at": now.isoformat(), "lead_id": lead_id, "store_code": STORE,
        "consultant_id": consultant_id, "assigned_at": now.isoformat(), "customer_name": "王磊",
        "first_contact_due_at": (now + timedelta(minutes=30)).isoformat(), "source": "autohome", "grade": "H",
        "interest": None,
        **fields})


def test_a_new_leads_first_contact_takes_six_statements_and_no_flush(db):
    engine, Session = db
    statements, flushes = [], []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with Session() as session:
        event.listen(session, "before_flush", lambda *args: flushes.append(args))
        task = handlers.schedule_first_contact(session, assigned("l-1"))
        # BEGIN; the dedupe mark, the lead's copy, the cadence policy, the task, its announcement
        assert len(statements) == 6, statements
        assert not flushes
        assert inspect(task).persistent and not inspect(task).unloaded  # the row as written, nothing to read back
        assert task.remind_at == task.due_at - timedelta(minutes=15) and task.reminded_at is None
        assert session.get(Task, task.id) is task
        lead = session.get(LeadState, "l-1")
        assert (lead.consultant_id, lead.grade, lead.stage, lead.status, lead.recorded, lead.customer_name) == \
            ("c-1", "H", "initial_contact", "assigned", 0, "王磊")


def test_a_redelivery_changes_nothing_and_a_second_owner_takes_the_task_over(db):
    _, Session = db
    with Session() as session:
        first = assigned("l-1")
        task = handlers.schedule_first_contact(session, first)
        assert handlers.schedule_first_contact(session, first) is None
        moved = handlers.schedule_first_contact(session, assigned("l-1", "c-2", grade="A"))
        session.refresh(task)
        assert moved.id == task.id and task.consultant_id == "c-2"
        assert session.scalar(select(func.count()).select_from(Task)) == 1
        assert (session.get(LeadState, "l-1").consultant_id, session.get(LeadState, "l-1").grade) == ("c-2", "A")
