"""Test drives: each store's test-drive vehicles, their bookings for a
lead, the booking calendar, check-in, no-shows and cancellations.

Decisions:

- **A vehicle** is known by its VIN or its store's stock number (at least
  one; each unique), with brand, model, trim and fuel type. Only an
  ``available`` one is booked; ``in_service`` and ``retired`` ones keep
  their bookings (cancel them if need be). Managers and group admins add
  and change vehicles; every staff member of the store sees them.
- **Specialists**: there is no separate roster. A booking may name any
  active staff member of the vehicle's store as its specialist (the
  gateway, which owns users, says which stores they work in); without one
  the lead's consultant accompanies the customer. A specialist, like a
  vehicle, is never booked twice for overlapping times.
- **Times**: aware, ``[starts_at, ends_at)`` (10:00-10:30 and 10:30-11:00
  do not overlap), 15 minutes to 3 hours, starting from now (5 minutes'
  grace) to 90 days ahead, and wholly within the store's business hours
  (its copy of the gateway's calendar: hours, holidays; a store without
  hours is open around the clock).
- **Never double-booked**: the database refuses an overlap (migration
  0005: exclusion constraints on PostgreSQL, triggers on SQLite), so two
  requests racing for one slot cannot both win; the loser gets
  ``BookingConflict`` naming the vehicle or the specialist. Nothing is
  checked beforehand in Python: it could only race.
- **The follow-up task**: booking gives the lead's consultant a
  ``test_drive`` task due at the start (its reminder before it); an open
  ``test_drive`` task of the lead that no other booking holds is moved
  there instead of adding a second. Check-in completes it and the
  cadence schedules the next follow-up; a cancellation cancels it; a
  no-show leaves it open, since the consultant must call the customer.
- **Check-in** from an hour before the start until the end; a booking
  marked no-show can still be checked in before its end (the customer
  came late). **No-show**: a booking still ``booked`` ``NO_SHOW_MINUTES``
  after its start is marked by a timer in every replica, each booking
  once (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's IMMEDIATE
  transactions take one writer at a time, and the UPDATE's status
  condition makes a second pass change nothing). A no-show keeps its slot
  (it is not cancelled): the customer may still come.
- **Personal data**: the driving licence number (given at booking or at
  check-in; only the number: no photo, no birth date) and the customer's
  email (for the invitation) are kept on the booking, answered masked
  (``licence_last4``), never put in an event or an invitation, and erased
  with the customer (``forget``).
- **Events**: ``test_drive_booked`` carries the invitation (``invitations.py``)
  for the notifications service to send; ``test_drive_shown``,
  ``test_drive_no_show`` and ``test_drive_cancelled`` say who and when.
"""
import logging
import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import (
    TEST_DRIVE_BOOKED,
    TEST_DRIVE_CANCELLED,
    TEST_DRIVE_NO_SHOW,
    TEST_DRIVE_SHOWN,
)
from dealerflow.db import utcnow
from dealerflow.outbox import record
from services.followups import invitations, tasks
from services.followups.exceptions import (
    BookingConflict,
    InvalidFollowup,
    NotAllowed,
    TaskNotFound,
    VehicleTaken,
)
from services.followups.models import LeadState, OutboxMessage, StoreCalendar, Task, TestDrive, Vehicle
from services.followups.scoping import follows

log = logging.getLogger(__name__)

NO_SHOW_MINUTES = 30      # after the start, a booking not checked in is a no-show
SLOT_MINUTES = 30         # the calendar's free slots
MIN_MINUTES, MAX_MINUTES = 15, 180
MAX_AHEAD = timedelta(days=90)
GRACE = timedelta(minutes=5)          # a booking may start this far in the past (a walk-in)
CHECK_IN_EARLY = timedelta(hours=1)
MAX_RANGE = timedelta(days=31)        # the calendar's longest range
BATCH = 500                           # no-shows one timer transaction marks at most
ACTIVE = ("booked", "shown", "no_show")

DEMO_VEHICLES = (  # (stock number suffix, brand, model, trim, fuel type)
    ("HAN-01", "BYD", "Han EV", "创世版", "EV"),
    ("SEAL-01", "BYD", "Seal", "长续航后驱版", "EV"),
    ("SONG-01", "BYD", "Song Plus DM-i", "旗舰型", "PHEV"),
)


# -- vehicles ----------------------------------------------------------------------

def may_manage(actor: Actor, store_code: str) -> None:
    if not actor.is_user or store_code not in actor.stores:
        raise TaskNotFound(f"No store {store_code} of yours.")
    if actor.role == CONSULTANT:
        raise NotAllowed("Only managers add and change a store's vehicles.")


def vehicle_of(session, actor: Actor, vehicle_id: str, lock: bool = False) -> Vehicle:
    vehicle = session.get(Vehicle, vehicle_id, with_for_update=lock)
    if vehicle is None or not actor.is_user or vehicle.store_code not in actor.stores:
        raise TaskNotFound(f"No vehicle {vehicle_id} of yours.")
    return vehicle


def list_vehicles(session, actor: Actor, store_code: str | None = None) -> list[Vehicle]:
    """The vehicles of the actor's stores (of one, if given), retired ones last."""
    if not actor.is_user:
        return []
    if store_code is not None and store_code not in actor.stores:
        raise TaskNotFound(f"No store {store_code} of yours.")
    stores = [store_code] if store_code else list(actor.stores)
    return list(session.scalars(select(Vehicle).where(Vehicle.store_code.in_(stores)).order_by(
        Vehicle.store_code, Vehicle.status == "retired", Vehicle.brand, Vehicle.model, Vehicle.stock_number)))


def add_vehicle(session, actor: Actor, data: dict) -> Vehicle:
    """A new vehicle (``data``: a loaded ``VehicleIn``)."""
    may_manage(actor, data["store_code"])
    if not data.get("vin") and not data.get("stock_number"):
        raise InvalidFollowup("A vehicle needs its VIN or its stock number.",
                              {"stock_number": ["give a VIN or a stock number"]})
    now = utcnow()
    vehicle = Vehicle(id=str(uuid.uuid4()), store_code=data["store_code"],
                      vin=data["vin"].upper() if data.get("vin") else None,
                      stock_number=data.get("stock_number") or None, brand=data["brand"], model=data["model"],
                      trim=data.get("trim") or None, fuel_type=data["fuel_type"], status=data["status"],
                      created_at=now, updated_at=now)
    session.add(vehicle)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise VehicleTaken("Another vehicle has this VIN, or this store's stock number.",
                           {"vin" if data.get("vin") else "stock_number": ["taken"]})
    return vehicle


def change_vehicle(session, actor: Actor, vehicle_id: str, data: dict) -> Vehicle:
    """Its trim or status (``data``: a loaded ``VehicleChange``)."""
    vehicle = vehicle_of(session, actor, vehicle_id, lock=True)
    may_manage(actor, vehicle.store_code)
    for name in ("trim", "status"):
        if name in data:
            setattr(vehicle, name, data[name])
    vehicle.updated_at = utcnow()
    session.commit()
    return vehicle


def seed_demo_vehicles(session, store_codes) -> list[str]:
    """The demo stores' test-drive vehicles (stock numbers ``<store>-HAN-01``
    ...), those missing; what was created. Commits; seeding twice changes nothing."""
    created, now = [], utcnow()
    for store_code in store_codes:
        for suffix, brand, model, trim, fuel_type in DEMO_VEHICLES:
            stock_number = f"{store_code}-{suffix}"
            if session.scalar(select(Vehicle.id).where(Vehicle.store_code == store_code,
                                                       Vehicle.stock_number == stock_number)) is None:
                session.add(Vehicle(id=str(uuid.uuid4()), store_code=store_code, vin=None,
                                    stock_number=stock_number, brand=brand, model=model, trim=trim,
                                    fuel_type=fuel_type, status="available", created_at=now, updated_at=now))
                created.append(f"vehicle {stock_number}")
    session.commit()
    return created


# -- bookings ----------------------------------------------------------------------

def calendar_of(session, store_code: str):
    return tasks.calendar_of(session, store_code)


def timezone_of(session, store_code: str) -> str:
    store = session.get(StoreCalendar, store_code)
    return store.timezone if store else "Asia/Shanghai"


def check_times(session, store_code: str, starts_at, ends_at, now) -> None:
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is None or value.tzinfo is None:
            raise InvalidFollowup("A time with its zone is needed.", {name: ["an ISO 8601 time with its zone"]})
    minutes = (ends_at - starts_at).total_seconds() / 60
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise InvalidFollowup(f"A test drive lasts {MIN_MINUTES} minutes to {MAX_MINUTES // 60} hours.",
                              {"ends_at": [f"{MIN_MINUTES} to {MAX_MINUTES} minutes after starts_at"]})
    if starts_at < now - GRACE or starts_at > now + MAX_AHEAD:
        raise InvalidFollowup("A test drive is booked from now to 90 days ahead.",
                              {"starts_at": ["from now to 90 days ahead"]})
    if abs(calendar_of(session, store_code).minutes_between(starts_at, ends_at) - minutes) > 1e-6:
        raise InvalidFollowup("The store is not open for all of that time.",
                              {"starts_at": ["within the store's business hours"]})


def conflict(exc: IntegrityError) -> BookingConflict | None:
    """The overlap the database refused (its constraint's or trigger's name), if it was one."""
    text = str(exc.orig)
    if "ex_test_drives_specialist" in text:
        return BookingConflict("The specialist is already booked for an overlapping time.",
                               {"specialist_id": ["booked for an overlapping time"]})
    if "ex_test_drives_vehicle" in text:
        return BookingConflict("The vehicle is already booked for an overlapping time.",
                               {"vehicle_id": ["booked for an overlapping time"]})
    return None


def book(session, actor: Actor, data: dict, context: dict) -> TestDrive:
    """Book a vehicle for a lead the actor follows (``data``: a loaded
    ``TestDriveIn``; ``context``: a loaded ``BookingContext``)."""
    now = utcnow()
    lead = session.get(LeadState, data["lead_id"])
    if not follows(actor, lead):
        raise TaskNotFound(f"No lead {data['lead_id']} of yours.")
    if lead.status in ("won", "lost", "joined"):
        raise InvalidFollowup(f"The lead is {lead.status}: it takes no test drive.", {"lead_id": [lead.status]})
    vehicle = session.get(Vehicle, data["vehicle_id"])
    if vehicle is None or vehicle.store_code != lead.store_code:
        raise TaskNotFound(f"No vehicle {data['vehicle_id']} in the lead's store.")
    if vehicle.status != "available":
        raise InvalidFollowup(f"The vehicle is {vehicle.status}.", {"vehicle_id": [vehicle.status]})
    specialist = data.get("specialist_id")
    if specialist and vehicle.store_code not in (context.get("specialist_stores") or ()):
        raise InvalidFollowup("The specialist is no active staff member of the vehicle's store.",
                              {"specialist_id": ["not staff of the store"]})
    check_times(session, vehicle.store_code, data["starts_at"], data["ends_at"], now)
    booking = TestDrive(
        id=str(uuid.uuid4()), lead_id=lead.lead_id, store_code=vehicle.store_code, vehicle_id=vehicle.id,
        consultant_id=lead.consultant_id, specialist_id=specialist or None, starts_at=data["starts_at"],
        ends_at=data["ends_at"], status="booked", language=data.get("language") or "zh",
        location=(context.get("store_names") or {}).get(vehicle.store_code) or vehicle.store_code,
        organizer_name=context.get("organizer_name"), organizer_email=context.get("organizer_email"),
        customer_email=data.get("customer_email"), licence_number=licence(data.get("licence_number")),
        note=data.get("note"), sequence=0, created_at=now, created_by=actor.user_id)
    session.add(booking)
    try:
        session.flush()  # the database decides now whether the slot is free
    except IntegrityError as exc:
        session.rollback()
        raise conflict(exc) or exc
    booking.task_id = task_for(session, lead, booking, vehicle, actor.user_id, now)
    record(session, OutboxMessage, TEST_DRIVE_BOOKED, booking_id=booking.id, lead_id=lead.lead_id,
           store_code=booking.store_code, vehicle_id=vehicle.id, vehicle=label(vehicle),
           consultant_id=booking.consultant_id, specialist_id=booking.specialist_id,
           starts_at=booking.starts_at, ends_at=booking.ends_at, customer_name=lead.customer_name,
           customer_email=booking.customer_email, language=booking.language,
           ics=invitations.invitation(booking, vehicle, timezone_of(session, booking.store_code),
                                      lead.customer_name),
           actor_id=actor.user_id, booked_at=now)
    try:
        session.commit()
    except IntegrityError as exc:  # PostgreSQL may check at commit what it waited for
        session.rollback()
        raise conflict(exc) or exc
    return booking


def licence(number: str | None) -> str | None:
    return number.upper().replace("-", "") if number else None


def label(vehicle: Vehicle) -> str:
    known_as = vehicle.stock_number or vehicle.vin
    return f"{invitations.vehicle_label(vehicle)} ({known_as})"


def task_for(session, lead: LeadState, booking: TestDrive, vehicle: Vehicle, actor_id, now) -> str | None:
    """The consultant's ``test_drive`` task at the start: the lead's open one
    that no other booking holds, moved, else a new one."""
    if lead.consultant_id is None:
        return None
    held = select(TestDrive.task_id).where(TestDrive.lead_id == lead.lead_id, TestDrive.id != booking.id,
                                           TestDrive.status.in_(ACTIVE), TestDrive.task_id.is_not(None))
    task = session.scalar(select(Task).where(Task.lead_id == lead.lead_id, Task.kind == "test_drive",
                                             Task.status == "open", Task.id.not_in(held))
                          .order_by(Task.due_at).limit(1))
    if task is None:
        return tasks.add_task(session, lead, "test_drive", booking.starts_at, "manual", actor_id,
                              f"试驾 {label(vehicle)}", now).id
    task.due_at = booking.starts_at
    tasks.arm(task, tasks.policy_of(session, lead.store_code), now)
    tasks.announce_scheduled(session, task, actor_id)
    return task.id


def visible_bookings(actor: Actor):
    """Bookings the actor may act on: a consultant's own leads' and those
    they accompany; a manager's stores'."""
    if not actor.is_user or not actor.stores:
        return TestDrive.id.is_(None)
    in_stores = TestDrive.store_code.in_(actor.stores)
    if actor.role != CONSULTANT:
        return in_stores
    return and_(in_stores, or_(TestDrive.consultant_id == actor.user_id, TestDrive.specialist_id == actor.user_id))


def booking_of(session, actor: Actor, booking_id: str, lock: bool = False) -> TestDrive:
    query = select(TestDrive).where(TestDrive.id == booking_id, visible_bookings(actor))
    booking = session.scalar(query.with_for_update() if lock else query)
    if booking is None:
        raise TaskNotFound(f"No test drive {booking_id} of yours.")
    return booking


def changed(session, booking: TestDrive, event: str, actor_id, now, reason=None) -> None:
    record(session, OutboxMessage, event, booking_id=booking.id, lead_id=booking.lead_id,
           store_code=booking.store_code, vehicle_id=booking.vehicle_id, consultant_id=booking.consultant_id,
           specialist_id=booking.specialist_id, starts_at=booking.starts_at, status=booking.status,
           actor_id=actor_id, at=now, reason=reason)


def check_in(session, actor: Actor, booking_id: str, licence_number: str | None = None, now=None) -> TestDrive:
    """The customer came: shown; the task is done and the cadence schedules the next."""
    now = now or utcnow()
    booking = booking_of(session, actor, booking_id, lock=True)
    if booking.status not in ("booked", "no_show"):
        raise InvalidFollowup(f"The test drive is {booking.status}.", {"booking_id": [booking.status]})
    if not booking.starts_at - CHECK_IN_EARLY <= now < booking.ends_at:
        raise InvalidFollowup("Check-in is from an hour before the start until the end.",
                              {"booking_id": ["not now"]})
    booking.status, booking.checked_in_at, booking.checked_in_by = "shown", now, actor.user_id
    if licence_number:
        booking.licence_number = licence(licence_number)
    task = session.get(Task, booking.task_id) if booking.task_id else None
    if task is not None and task.status == "open":
        tasks.close(session, task, "done", "test_drive", actor.user_id, now)
    lead = session.get(LeadState, booking.lead_id)
    if lead is not None:
        tasks.schedule_next(session, lead, now)
    changed(session, booking, TEST_DRIVE_SHOWN, actor.user_id, now)
    session.commit()
    return booking


def cancel(session, actor: Actor, booking_id: str, reason: str | None = None) -> TestDrive:
    """Cancelled: the slot is free again, the task cancelled, the invitation withdrawn."""
    now = utcnow()
    booking = booking_of(session, actor, booking_id, lock=True)
    if booking.status != "booked":
        raise InvalidFollowup(f"The test drive is {booking.status}.", {"booking_id": [booking.status]})
    booking.status, booking.cancelled_at, booking.cancelled_by = "cancelled", now, actor.user_id
    booking.cancel_reason, booking.sequence = reason, booking.sequence + 1
    task = session.get(Task, booking.task_id) if booking.task_id else None
    if task is not None and task.status == "open":
        tasks.close(session, task, "cancelled", "test_drive_cancelled", actor.user_id, now)
    changed(session, booking, TEST_DRIVE_CANCELLED, actor.user_id, now, reason)
    session.commit()
    return booking


def mark_no_shows(session, now=None) -> int:
    """Bookings still ``booked`` ``NO_SHOW_MINUTES`` after their start are
    no-shows; how many were marked. Every replica runs it; each booking is
    marked once."""
    now = now or utcnow()
    marked = 0
    while True:
        batch = list(session.scalars(
            select(TestDrive).where(TestDrive.status == "booked",
                                    TestDrive.starts_at <= now - timedelta(minutes=NO_SHOW_MINUTES))
            .order_by(TestDrive.starts_at).limit(BATCH).with_for_update(skip_locked=True)))
        for booking in batch:
            done = session.execute(update(TestDrive).where(TestDrive.id == booking.id, TestDrive.status == "booked")
                                   .values(status="no_show", no_show_at=now)
                                   .execution_options(synchronize_session=False)).rowcount
            if done:
                booking.status, booking.no_show_at = "no_show", now
                changed(session, booking, TEST_DRIVE_NO_SHOW, None, now)
                marked += 1
        session.commit()
        if len(batch) < BATCH:
            return marked


# -- reading -----------------------------------------------------------------------

def of_lead(session, actor: Actor, lead_id: str) -> list[TestDrive]:
    if not follows(actor, session.get(LeadState, lead_id)):
        raise TaskNotFound(f"No lead {lead_id} of yours.")
    return list(session.scalars(select(TestDrive).where(TestDrive.lead_id == lead_id)
                                .order_by(TestDrive.starts_at)))


def vehicle_calendar(session, actor: Actor, vehicle_id: str, start=None, end=None) -> dict:
    """The vehicle's bookings in ``[start, end)`` (default: the next 7 days;
    at most 31) that are not cancelled (those the actor may see in full),
    and its free ``SLOT_MINUTES`` slots within the store's hours, from now."""
    vehicle = vehicle_of(session, actor, vehicle_id)
    now = utcnow()
    start = start or now
    end = end or start + timedelta(days=7)
    if start.tzinfo is None or end.tzinfo is None or not start < end <= start + MAX_RANGE:
        raise InvalidFollowup("from and to are times with their zone, at most 31 days apart.",
                              {"to": ["after from, at most 31 days"]})
    active = list(session.scalars(select(TestDrive).where(
        TestDrive.vehicle_id == vehicle.id, TestDrive.status != "cancelled", TestDrive.starts_at < end,
        TestDrive.ends_at > start).order_by(TestDrive.starts_at)))
    visible = set(session.scalars(select(TestDrive.id).where(TestDrive.id.in_([b.id for b in active]),
                                                             visible_bookings(actor))))
    return {"vehicle": vehicle, "timezone": timezone_of(session, vehicle.store_code), "slot_minutes": SLOT_MINUTES,
            "bookings": [booking for booking in active if booking.id in visible],
            "busy": [{"starts_at": b.starts_at, "ends_at": b.ends_at} for b in active],
            "free": free_slots(session, vehicle.store_code, active, max(start, now), end)}


def free_slots(session, store_code: str, bookings, start, end) -> list[dict]:
    """Slots of ``SLOT_MINUTES`` on the store's local clock (:00, :30) that
    lie wholly within its hours and overlap no booking."""
    calendar, zone = calendar_of(session, store_code), ZoneInfo(timezone_of(session, store_code))
    local = start.astimezone(zone)
    past = (local.hour * 60 + local.minute) % SLOT_MINUTES
    slot = start - timedelta(minutes=past, seconds=local.second, microseconds=local.microsecond)
    if slot < start:
        slot += timedelta(minutes=SLOT_MINUTES)
    step, free = timedelta(minutes=SLOT_MINUTES), []
    while slot + step <= end:
        if (calendar.minutes_between(slot, slot + step) == SLOT_MINUTES
                and not any(b.starts_at < slot + step and slot < b.ends_at for b in bookings)):
            free.append({"starts_at": slot, "ends_at": slot + step})
        slot += step
    return free


def invitation_of(session, actor: Actor, booking_id: str) -> str:
    booking = booking_of(session, actor, booking_id)
    lead = session.get(LeadState, booking.lead_id)
    return invitations.invitation(booking, session.get(Vehicle, booking.vehicle_id),
                                  timezone_of(session, booking.store_code), lead.customer_name if lead else None)


# -- erasure -----------------------------------------------------------------------

def forget(session, lead_ids) -> None:
    """The customer's licence number, email and the notes on their bookings go."""
    session.execute(update(TestDrive).where(TestDrive.lead_id.in_(lead_ids))
                    .values(licence_number=None, customer_email=None, note=None))
