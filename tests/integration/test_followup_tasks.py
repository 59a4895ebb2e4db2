"""Follow-up tasks in the followups service, on SQLite and PostgreSQL: the
first-contact task armed with its reminder and escalation; reminders fired
once by two replicas of the timer, none missed; a missed task escalated to
the store's managers; a record that completes the task, is announced as
the lead's first and schedules the next by the cadence; a win that closes
what is open and starts after-sales care; a hotter grade that brings the
next call forward; completing, rescheduling and making tasks by hand;
attachments checked before anything is kept, and erased with the customer."""
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from dealerflow.actor import Actor
from dealerflow.contracts import CustomerErased, LeadAssigned, LeadChanged, StoreSaved, UserSaved, schema
from dealerflow.db import utcnow
from services.followups import attachments, handlers, records, tasks
from services.followups.exceptions import AttachmentTooLarge, AttachmentType, InvalidFollowup, TaskNotFound
from services.followups.models import Attachment, OutboxMessage, Task
from tests.support.replicas import race
from tests.unit.followups.test_blobs import png

pytestmark = pytest.mark.integration

STORE = "SH-PUDONG"
SHANGHAI = ZoneInfo("Asia/Shanghai")
OWNER = Actor(kind="user", stores=(STORE,), user_id="c-1", role="consultant")
OTHER = Actor(kind="user", stores=(STORE,), user_id="c-2", role="consultant")


def event(schema_cls, **fields) -> dict:
    return schema(schema_cls).load(dict(fields, event_id=str(uuid.uuid4()),
                                        occurred_at=datetime.now(timezone.utc).isoformat()))


def assign(session, lead_id: str, due, consultant="c-1", grade="H") -> Task:
    return handlers.schedule_first_contact(session, event(
        LeadAssigned, lead_id=lead_id, store_code=STORE, consultant_id=consultant, assigned_at=utcnow().isoformat(),
        first_contact_due_at=due.isoformat(), customer_name="王磊", phone=None, source="autohome",
        interest=None, grade=grade))


def change(session, lead_id: str, kind: str, grade="H", stage="initial_contact", status="contacted") -> None:
    handlers.follow_lead_change(session, event(
        LeadChanged, lead_id=lead_id, store_code=STORE, change=kind, status=status, stage=stage, grade=grade,
        consultant_id="c-1", customer_name="王磊", actor_id="c-1"))


def events(session, event_type: str) -> list[dict]:
    return list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.event_type == event_type)))


@pytest.fixture
def followups(service_db):
    db = service_db("followups")
    with db() as session:  # open around the clock: every day is a business day
        handlers.save_store_calendar(session, event(StoreSaved, code=STORE, name="Pudong", timezone="Asia/Shanghai",
                                                    response_minutes=15, active=True, revision=1))
        handlers.save_managers(session, event(UserSaved, user_id="m-1", username="m", display_name="M",
                                              role="manager", stores=[STORE], active=True, revision=1))
    return db


def test_the_first_contact_task_is_armed_and_follows_a_reassignment(followups):
    due = utcnow() + timedelta(minutes=30)
    with followups() as session:
        task = assign(session, "l-1", due)
        assert (task.kind, task.source, task.status) == ("first_contact", "sla", "open")
        assert task.remind_at == task.due_at - timedelta(minutes=15)
        assert task.escalate_at == task.due_at + timedelta(minutes=60)
        later = due + timedelta(minutes=20)
        moved = assign(session, "l-1", later, consultant="c-2")
        assert moved.id == task.id and moved.consultant_id == "c-2" and moved.due_at == later
        assert session.scalar(select(func.count()).select_from(Task)) == 1


def test_two_timers_fire_every_reminder_once_and_none_is_missed(followups):
    count = tasks.BATCH + 100  # more than one batch
    soon = utcnow() + timedelta(minutes=16)
    with followups() as session:
        for n in range(count):
            assign(session, f"l-{n}", soon)
    fire_at = soon - timedelta(minutes=14)
    race(followups, lambda session: tasks.fire_due(session, fire_at))
    with followups() as session:
        tasks.fire_due(session, fire_at)  # a restarted replica: whatever a failed one left
        reminded = [payload["task_id"] for payload in events(session, "followup_reminder")]
        assert len(reminded) == len(set(reminded)) == count, "each reminder exactly once"
        assert tasks.fire_due(session, fire_at + timedelta(minutes=1)) == {"reminded": 0, "escalated": 0}


def test_a_missed_task_is_escalated_to_the_managers_once(followups):
    due = utcnow() + timedelta(minutes=20)
    with followups() as session:
        assign(session, "l-1", due)
        assert tasks.fire_due(session, due + timedelta(minutes=61)) == {"reminded": 1, "escalated": 1}
        [overdue] = events(session, "followup_overdue")
        assert overdue["tell"] == ["c-1", "m-1"] and overdue["customer_name"] == "王磊"
        assert tasks.fire_due(session, due + timedelta(minutes=90)) == {"reminded": 0, "escalated": 0}


def test_a_record_completes_the_task_is_the_first_and_the_cadence_schedules_the_next(followups):
    with followups() as session:
        first = assign(session, "l-1", utcnow() + timedelta(minutes=15))
        note = records.add(session, OWNER, {"lead_id": "l-1", "channel": "call", "direction": "outbound",
                                            "outcome": "reached", "notes": "关心续航，周末想试驾"})
        session.refresh(first)
        assert first.status == "done" and first.outcome == "reached" and note.task_id == first.id
        [recorded] = events(session, "followup_recorded")
        assert recorded["first"] is True and recorded["notes"] == "关心续航，周末想试驾"
        [following] = tasks.open_tasks(session, "l-1")
        assert following.source == "cadence" and following.kind == "call"
        # H: the next (business) day at the cadence's 10:00 in the store's zone, whatever the hour now
        due, done = following.due_at.astimezone(SHANGHAI), note.created_at.astimezone(SHANGHAI)
        assert (due.hour, due.minute) == (10, 0) and done.date() < due.date() <= done.date() + timedelta(days=4)
        records.add(session, OWNER, {"lead_id": "l-1", "channel": "wechat", "direction": "outbound",
                                     "outcome": "no_answer"})
        assert [payload["first"] for payload in events(session, "followup_recorded")] == [True, False]
        with pytest.raises(TaskNotFound):
            records.add(session, OTHER, {"lead_id": "l-1", "channel": "call", "direction": "outbound",
                                         "outcome": "reached"})


def test_a_win_closes_what_is_open_and_starts_after_sales_care(followups):
    with followups() as session:
        assign(session, "l-1", utcnow() + timedelta(minutes=15))
        change(session, "l-1", "won", grade="O", stage="after_sales", status="won")
        kinds = session.execute(select(Task.kind, Task.status, Task.source).order_by(Task.due_at)).all()
        assert kinds[0] == ("first_contact", "cancelled", "sla")
        assert [kind for kind, status, source in kinds[1:]] == ["delivery", "call", "call"]
        assert {source for _, _, source in kinds[1:]} == {"after_sales"}


def test_a_hotter_grade_brings_the_next_call_forward_never_later(followups):
    with followups() as session:
        assign(session, "l-1", utcnow() + timedelta(minutes=15), grade="C")
        change(session, "l-1", "first_contact", grade="C")
        [task] = tasks.open_tasks(session, "l-1")
        was = task.due_at
        assert was - utcnow() > timedelta(days=10)  # C: every two weeks
        change(session, "l-1", "graded", grade="H")
        session.refresh(task)
        assert task.due_at < was and task.due_at - utcnow() < timedelta(days=2)
        brought = task.due_at
        change(session, "l-1", "graded", grade="C")
        session.refresh(task)
        assert task.due_at == brought, "a colder grade never moves a promised call later"


def test_complete_reschedule_and_a_task_by_hand(followups):
    with followups() as session:
        first = assign(session, "l-1", utcnow() + timedelta(minutes=15))
        tomorrow = utcnow() + timedelta(days=1)
        tasks.complete(session, OWNER, first.id, "reached", next_due_at=tomorrow, next_kind="wechat",
                       note="发车型配置")
        [following] = tasks.open_tasks(session, "l-1")
        assert (following.kind, following.source, following.note) == ("wechat", "manual", "发车型配置")
        with pytest.raises(InvalidFollowup):
            tasks.complete(session, OWNER, first.id, "reached")
        later = tomorrow + timedelta(hours=3)
        moved = tasks.reschedule(session, OWNER, following.id, later)
        assert moved.due_at == later and moved.remind_at == later - timedelta(minutes=15)
        with pytest.raises(TaskNotFound):
            tasks.reschedule(session, OTHER, following.id, later)
        with pytest.raises(InvalidFollowup):
            tasks.reschedule(session, OWNER, following.id, utcnow() - timedelta(days=1))
        quote = tasks.create(session, OWNER, "l-1", "quote", utcnow() + timedelta(hours=2), "报价单")
        assert quote.source == "manual" and quote.created_by == "c-1"
        with pytest.raises(TaskNotFound):
            tasks.create(session, OTHER, "l-1", "call", utcnow() + timedelta(hours=2), None)


@pytest.fixture
def blob_dir(tmp_path, monkeypatch):
    """Attachments go to a directory of this test's own."""
    monkeypatch.setenv("FOLLOWUPS_BLOBS", str(tmp_path / "blobs"))
    attachments.store.cache_clear()
    yield tmp_path / "blobs"
    attachments.store.cache_clear()


def stored_files(directory) -> list:
    return sorted(path for path in directory.rglob("*") if path.is_file()) if directory.exists() else []


def test_an_attachment_is_checked_before_anything_is_kept_and_erased_with_the_customer(followups, blob_dir):
    with followups() as session:
        assign(session, "l-1", utcnow() + timedelta(minutes=15))
        note = records.add(session, OWNER, {"lead_id": "l-1", "channel": "visit", "direction": "inbound",
                                            "outcome": "visited"})
        photo = attachments.add(session, OWNER, note.id, "行驶证.jpg", "image/jpeg", png())
        assert (photo.media_type, photo.size) == ("image/png", len(png()))  # the bytes decide
        assert attachments.get(session, OWNER, photo.id)[1] == png()
        with pytest.raises(AttachmentType):
            attachments.add(session, OWNER, note.id, "quote.pdf", "application/pdf", b"%PDF-1.7\n" + b"x" * 100)
        with pytest.raises(AttachmentTooLarge):
            attachments.add(session, OWNER, note.id, "big.png", "image/png", png(extra=10 * 1024 * 1024 + 1))
        with pytest.raises(TaskNotFound):
            attachments.add(session, OTHER, note.id, "x.png", "image/png", png())
        assert session.scalar(select(func.count()).select_from(Attachment)) == 1
        assert len(stored_files(blob_dir)) == 1, "a refused file leaves nothing behind"
        session.execute(update(OutboxMessage).values(sent_at=utcnow()))  # published (no relay runs here)
        handlers.forget_customer(session, event(CustomerErased, customer_id="c-1", lead_ids=["l-1"]))
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0
        assert stored_files(blob_dir) == []
