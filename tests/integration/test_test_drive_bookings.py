"""Test drives in the followups service, on SQLite and PostgreSQL: the
database refuses an overlapping booking of a vehicle or a specialist
(even one written behind the service's back), touching bookings are
allowed, cancelled ones block nothing; a booking gives the consultant a
test_drive task and announces its invitation; check-in completes the
task; a booking not checked in is marked no-show once by two timers;
times outside the store's hours are refused; erasure scrubs the licence;
demo vehicles are seeded once."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from dealerflow.actor import Actor
from dealerflow.contracts import CustomerErased, LeadAssigned, StoreSaved, schema
from dealerflow.db import utcnow
from services.followups import handlers, test_drives
from services.followups.exceptions import BookingConflict, InvalidFollowup, NotAllowed, TaskNotFound
from services.followups.models import OutboxMessage, Task, TestDrive
from tests.support.replicas import race

pytestmark = pytest.mark.integration

STORE, OTHER_STORE = "SH-PUDONG", "BJ-CHAOYANG"
MANAGER = Actor(kind="user", stores=(STORE,), user_id="m-1", role="manager")
OWNER = Actor(kind="user", stores=(STORE,), user_id="c-1", role="consultant")
OTHER = Actor(kind="user", stores=(STORE,), user_id="c-2", role="consultant")
CONTEXT = {"store_names": {STORE: "上海浦东店"}, "organizer_name": "顾问一", "organizer_email": "c1@dealer.example",
           "specialist_stores": [STORE]}


def event(schema_cls, **fields) -> dict:
    return schema(schema_cls).load(dict(fields, event_id=str(uuid.uuid4()),
                                        occurred_at=datetime.now(timezone.utc).isoformat()))


def assign(session, lead_id: str, consultant: str = "c-1") -> None:
    handlers.schedule_first_contact(session, event(
        LeadAssigned, lead_id=lead_id, store_code=STORE, consultant_id=consultant, assigned_at=utcnow().isoformat(),
        first_contact_due_at=(utcnow() + timedelta(minutes=15)).isoformat(), customer_name="王磊", phone=None,
        source="autohome", interest=None, grade="H"))


def at(day_offset: int, hour: int, minute: int = 0) -> datetime:
    """A local time in Shanghai, ``day_offset`` days from today."""
    local = (datetime.now(timezone(timedelta(hours=8))) + timedelta(days=day_offset)).replace(
        hour=hour, minute=minute, second=0, microsecond=0)
    return local.astimezone(timezone.utc)


def booking(lead_id="l-1", vehicle_id=None, start=None, minutes=30, **more) -> dict:
    start = start or at(2, 10)
    return dict({"lead_id": lead_id, "vehicle_id": vehicle_id, "starts_at": start,
                 "ends_at": start + timedelta(minutes=minutes), "language": "zh"}, **more)


def events(session, event_type: str) -> list[dict]:
    return list(session.scalars(select(OutboxMessage.payload).where(OutboxMessage.event_type == event_type)))


@pytest.fixture
def followups(service_db):
    db = service_db("followups")
    with db() as session:  # open 09:00-12:00 and 13:00-18:00 every day
        hours = {day: ["09:00-12:00", "13:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
        handlers.save_store_calendar(session, event(StoreSaved, code=STORE, name="Pudong", timezone="Asia/Shanghai",
                                                    response_minutes=15, active=True, revision=1,
                                                    business_hours=hours))
        assign(session, "l-1")
        assign(session, "l-2", consultant="c-2")
    return db


@pytest.fixture
def vehicle_id(followups):
    with followups() as session:
        return test_drives.add_vehicle(session, MANAGER, {
            "store_code": STORE, "stock_number": "SH-HAN-99", "vin": None, "brand": "BYD", "model": "Han EV",
            "trim": "创世版", "fuel_type": "EV", "status": "available"}).id


def test_vehicles_are_the_managers_and_unique(followups, vehicle_id):
    with followups() as session:
        with pytest.raises(NotAllowed):
            test_drives.add_vehicle(session, OWNER, {"store_code": STORE, "stock_number": "X-1", "brand": "BYD",
                                                     "model": "Seal", "fuel_type": "EV", "status": "available"})
        with pytest.raises(TaskNotFound):
            test_drives.add_vehicle(session, MANAGER, {"store_code": OTHER_STORE, "stock_number": "X-1",
                                                       "brand": "BYD", "model": "Seal", "fuel_type": "EV",
                                                       "status": "available"})
        with pytest.raises(test_drives.VehicleTaken):
            test_drives.add_vehicle(session, MANAGER, {"store_code": STORE, "stock_number": "SH-HAN-99",
                                                       "brand": "BYD", "model": "Seal", "fuel_type": "EV",
                                                       "status": "available"})
        assert [v.id for v in test_drives.list_vehicles(session, OWNER, STORE)] == [vehicle_id]
        assert test_drives.seed_demo_vehicles(session, [STORE, OTHER_STORE])
        assert test_drives.seed_demo_vehicles(session, [STORE, OTHER_STORE]) == [], "seeding twice adds nothing"
        assert len(test_drives.list_vehicles(session, OWNER)) == 1 + len(test_drives.DEMO_VEHICLES)


def test_a_booking_makes_the_task_and_announces_the_invitation(followups, vehicle_id):
    with followups() as session:
        made = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, licence_number="310101-1990",
                                                        customer_email="wl@example.com"), CONTEXT)
        task = session.get(Task, made.task_id)
        assert (task.kind, task.status, task.due_at, task.consultant_id) == ("test_drive", "open", made.starts_at,
                                                                             "c-1")
        assert task.remind_at == made.starts_at - timedelta(minutes=15)
        [booked] = events(session, "test_drive_booked")
        assert booked["booking_id"] == made.id and booked["vehicle"] == "BYD Han EV 创世版 (SH-HAN-99)"
        assert "3101011990" not in str(booked), "the licence number is in no event"
        vevent = Calendar.from_ical(booked["ics"]).walk("VEVENT")[0]
        assert vevent.decoded("dtstart") == made.starts_at and str(vevent["location"]) == "上海浦东店"
        assert str(vevent["attendee"]) == "mailto:wl@example.com"
        # a second booking of the lead takes a task of its own
        second = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(3, 10)), CONTEXT)
        assert second.task_id != made.task_id
        with pytest.raises(TaskNotFound):
            test_drives.book(session, OTHER, booking(vehicle_id=vehicle_id, start=at(4, 10)), CONTEXT)


def test_an_overlapping_booking_is_refused_and_touching_ones_are_allowed(followups, vehicle_id):
    with followups() as session:
        test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(2, 10)), CONTEXT)
        for start, minutes in ((at(2, 10, 15), 30), (at(2, 9, 45), 30), (at(2, 9, 30), 90), (at(2, 10), 15)):
            with pytest.raises(BookingConflict) as refused:
                test_drives.book(session, OTHER, booking("l-2", vehicle_id, start, minutes), CONTEXT)
            assert refused.value.errors == {"vehicle_id": ["booked for an overlapping time"]}
        before = test_drives.book(session, OTHER, booking("l-2", vehicle_id, at(2, 9, 30), 30), CONTEXT)
        after = test_drives.book(session, OTHER, booking("l-2", vehicle_id, at(2, 10, 30), 30), CONTEXT)
        assert (before.ends_at, after.starts_at) == (at(2, 10), at(2, 10, 30))
        assert session.scalar(select(func.count()).select_from(TestDrive)) == 3


def test_a_specialist_is_never_booked_twice(followups, vehicle_id):
    with followups() as session:
        other_vehicle = test_drives.add_vehicle(session, MANAGER, {
            "store_code": STORE, "stock_number": "SH-SEAL-99", "brand": "BYD", "model": "Seal",
            "fuel_type": "EV", "status": "available"}).id
        test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, specialist_id="s-1"), CONTEXT)
        with pytest.raises(BookingConflict) as refused:
            test_drives.book(session, OTHER, booking("l-2", other_vehicle, at(2, 10, 15), specialist_id="s-1"),
                             CONTEXT)
        assert "specialist_id" in refused.value.errors
        test_drives.book(session, OTHER, booking("l-2", other_vehicle, at(2, 10, 15), specialist_id="s-2"), CONTEXT)
        with pytest.raises(InvalidFollowup):
            test_drives.book(session, OTHER, booking("l-2", other_vehicle, at(2, 14), specialist_id="s-9"),
                             dict(CONTEXT, specialist_stores=[OTHER_STORE]))


def test_the_database_refuses_an_overlap_written_behind_the_services_back(followups, vehicle_id):
    with followups() as session:
        made = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id), CONTEXT)
        twin = TestDrive(**{column.key: getattr(made, column.key) for column in TestDrive.__table__.columns})
        twin.id, twin.starts_at = str(uuid.uuid4()), made.starts_at + timedelta(minutes=10)
        twin.ends_at = twin.starts_at + timedelta(minutes=30)
        session.expunge(made)
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # moving a booking onto another is refused too (the UPDATE trigger, or the constraint)
        other = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(2, 14)), CONTEXT)
        with pytest.raises(IntegrityError):
            session.execute(update(TestDrive).where(TestDrive.id == other.id)
                            .values(starts_at=made.starts_at, ends_at=made.ends_at))
            session.commit()
        session.rollback()


def test_a_cancelled_booking_blocks_nothing(followups, vehicle_id):
    with followups() as session:
        made = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id), CONTEXT)
        cancelled = test_drives.cancel(session, OWNER, made.id, "客户改期")
        assert cancelled.status == "cancelled" and cancelled.sequence == 1
        assert session.get(Task, made.task_id).status == "cancelled"
        again = test_drives.book(session, OTHER, booking("l-2", vehicle_id), CONTEXT)
        assert again.status == "booked"
        [withdrawn] = events(session, "test_drive_cancelled")
        assert (withdrawn["actor_id"], withdrawn["reason"]) == ("c-1", "客户改期")
        assert "METHOD:CANCEL" in test_drives.invitation_of(session, OWNER, made.id)
        with pytest.raises(InvalidFollowup):
            test_drives.cancel(session, OWNER, made.id)


def test_times_must_fit_the_store_hours_and_the_limits(followups, vehicle_id):
    with followups() as session:
        for start, minutes, field in ((at(2, 11, 45), 30, "starts_at"),   # runs into the lunch break
                                      (at(2, 8, 30), 60, "starts_at"),    # before opening
                                      (at(2, 10), 10, "ends_at"),         # too short
                                      (at(2, 13), 200, "ends_at"),        # too long
                                      (at(-1, 10), 30, "starts_at")):     # in the past
            with pytest.raises(InvalidFollowup) as refused:
                test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=start, minutes=minutes),
                                 CONTEXT)
            assert field in refused.value.errors
        calendar = test_drives.vehicle_calendar(session, OWNER, vehicle_id, at(2, 0), at(3, 0))
        assert len(calendar["free"]) == 16  # 3 + 5 hours of 30-minute slots
        test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(2, 10), minutes=60), CONTEXT)
        calendar = test_drives.vehicle_calendar(session, OTHER, vehicle_id, at(2, 0), at(3, 0))
        assert len(calendar["free"]) == 14 and calendar["bookings"] == [] and len(calendar["busy"]) == 1


def test_check_in_completes_the_task_and_no_shows_are_marked_once(followups, vehicle_id):
    with followups() as session:
        soon = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(2, 10), minutes=60), CONTEXT)
        with pytest.raises(InvalidFollowup):
            test_drives.check_in(session, OWNER, soon.id, now=at(2, 8, 30))  # too early
        with pytest.raises(TaskNotFound):
            test_drives.check_in(session, OTHER, soon.id, now=at(2, 9, 55))  # not c-2's
        shown = test_drives.check_in(session, OWNER, soon.id, "b-1234567", now=at(2, 9, 55))
        assert shown.status == "shown" and shown.checked_in_by == "c-1" and shown.licence_number == "B1234567"
        assert session.get(Task, soon.task_id).status == "done"
        assert [e["status"] for e in events(session, "test_drive_shown")] == ["shown"]
    # two bookings left behind: the timer of two replicas marks each once
    with followups() as session:
        late = [test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, start=at(day, 10)), CONTEXT)
                for day in (3, 4)]
    later = at(5, 10)
    race(followups, lambda session: test_drives.mark_no_shows(session, later))
    with followups() as session:
        test_drives.mark_no_shows(session, later)
        marked = [e["booking_id"] for e in events(session, "test_drive_no_show")]
        assert sorted(marked) == sorted(b.id for b in late), "each booking marked once"
        assert test_drives.mark_no_shows(session, later) == 0
        # the no-show's task stays open: the consultant calls the customer
        assert session.get(Task, late[0].task_id).status == "open"


def test_erasure_scrubs_the_licence_and_the_email(followups, vehicle_id):
    with followups() as session:
        made = test_drives.book(session, OWNER, booking(vehicle_id=vehicle_id, licence_number="B7654321",
                                                        customer_email="wl@example.com", note="带家人"), CONTEXT)
        session.execute(update(OutboxMessage).values(sent_at=utcnow()))
        session.commit()
        handlers.forget_customer(session, event(CustomerErased, customer_id="cu-1", lead_ids=["l-1"]))
        session.expire_all()
        kept = session.get(TestDrive, made.id)
        assert (kept.licence_number, kept.customer_email, kept.note) == (None, None, None)
        assert kept.status == "booked", "the booking's facts stay"
