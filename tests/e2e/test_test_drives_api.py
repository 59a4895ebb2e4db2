"""Test drives through HTTP against the running system, on SQLite and
PostgreSQL: the demo vehicles seeded by seed-demo, vehicles added by
managers only; twenty requests racing for one vehicle's slot get exactly
one 201 and nineteen 409s; the calendar, the consultant's test_drive
task, the invitation as text/calendar, a touching booking allowed, check-in
refused before its time, and a cancelled slot booked again."""
import threading
from datetime import datetime, timedelta, timezone

import pytest
import requests
from icalendar import Calendar

from tests.e2e.test_followups_api import get, open_tasks
from tests.e2e.test_leads_api import new_lead, post
from tests.e2e.test_staff_api import sign_in
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

STORE = "SH-PUDONG"
SHANGHAI = timezone(timedelta(hours=8))
RACERS = 20


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    return (datetime.now(SHANGHAI) + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)


def add_vehicle(stack, headers, stock_number: str):
    return post(stack, headers, "/v1/vehicles", {"store_code": STORE, "stock_number": stock_number, "brand": "BYD",
                                                 "model": "Seal", "trim": "长续航后驱版", "fuel_type": "EV"})


def test_demo_vehicles_are_seeded_and_only_managers_add_more(stack):
    manager, consultant = sign_in(stack, "manager.sh"), sign_in(stack, "consultant.sh1")
    seeded = get(stack, consultant, f"/v1/vehicles?store_code={STORE}")
    assert seeded.status_code == 200, seeded.text
    assert {v["stock_number"] for v in seeded.json()} >= {f"{STORE}-HAN-01", f"{STORE}-SEAL-01", f"{STORE}-SONG-01"}
    assert get(stack, consultant, "/v1/vehicles?store_code=BJ-CHAOYANG").status_code == 404
    assert add_vehicle(stack, consultant, "SH-E2E-0").status_code == 403
    added = add_vehicle(stack, manager, "SH-E2E-1")
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "available" and added.json()["fuel_type"] == "EV"
    assert add_vehicle(stack, manager, "SH-E2E-1").status_code == 409
    bad = post(stack, manager, "/v1/vehicles", {"store_code": STORE, "brand": "BYD", "model": "Seal",
                                                "fuel_type": "diesel"})
    assert bad.status_code == 422 and "fuel_type" in bad.json()["errors"]


def test_twenty_racing_bookings_of_one_slot_get_one_201(stack):
    manager = sign_in(stack, "manager.sh")
    vehicle_id = add_vehicle(stack, manager, "SH-E2E-RACE").json()["id"]
    lead_id, username = new_lead(stack)
    consultant = sign_in(stack, username)
    eventually(lambda: open_tasks(stack, consultant, lead_id), message="followups knows the lead")
    start = tomorrow_at(10)
    body = {"lead_id": lead_id, "vehicle_id": vehicle_id, "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=30)).isoformat(), "customer_email": "wl@example.com"}
    gate, answers = threading.Barrier(RACERS), []

    def racer():
        gate.wait()
        answers.append(requests.post(f"{stack.url}/v1/test-drives", json=body, headers=consultant, timeout=60))

    racers = [threading.Thread(target=racer) for _ in range(RACERS)]
    for thread in racers:
        thread.start()
    for thread in racers:
        thread.join(timeout=120)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201] + [409] * (RACERS - 1), [answer.text for answer in answers if answer.status_code
                                                      not in (201, 409)]
    [won] = [answer.json() for answer in answers if answer.status_code == 201]
    lost = next(answer.json() for answer in answers if answer.status_code == 409)
    assert lost["errors"] == {"vehicle_id": ["booked for an overlapping time"]}
    assert stack.scalar("followups", "SELECT count(*) FROM test_drives WHERE vehicle_id = :id",
                        id=vehicle_id) == 1

    # the consultant's task at the start, the calendar, the invitation
    [task] = [t for t in open_tasks(stack, consultant, lead_id) if t["kind"] == "test_drive"]
    assert task["id"] == won["task_id"] and datetime.fromisoformat(task["due_at"]) == start
    day = f"from={tomorrow_at(0).isoformat()}&to={(tomorrow_at(0) + timedelta(days=1)).isoformat()}"
    calendar = get(stack, consultant, f"/v1/test-drives?vehicle_id={vehicle_id}&" + day.replace("+", "%2B"))
    assert calendar.status_code == 200, calendar.text
    assert [b["id"] for b in calendar.json()["bookings"]] == [won["id"]]
    free = {datetime.fromisoformat(slot["starts_at"]) for slot in calendar.json()["free"]}
    assert start not in free and start + timedelta(minutes=30) in free and len(free) == 47
    ics = get(stack, consultant, f"/v1/test-drives/{won['id']}/invitation.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"].startswith("text/calendar")
    [vevent] = Calendar.from_ical(ics.text).walk("VEVENT")
    assert vevent.decoded("dtstart") == start and str(vevent["attendee"]) == "mailto:wl@example.com"
    assert str(vevent["location"]) == "Shanghai Pudong"

    # a touching booking is fine; check-in is not yet; cancelled, the slot is free again
    touching = post(stack, consultant, "/v1/test-drives", dict(
        body, starts_at=(start + timedelta(minutes=30)).isoformat(),
        ends_at=(start + timedelta(minutes=60)).isoformat()))
    assert touching.status_code == 201, touching.text
    assert post(stack, consultant, f"/v1/test-drives/{won['id']}/check-in", {}).status_code == 422
    cancelled = post(stack, consultant, f"/v1/test-drives/{won['id']}/cancel", {"reason": "客户改期"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = post(stack, consultant, "/v1/test-drives", body)
    assert again.status_code == 201, again.text
    assert get(stack, sign_in(stack, "consultant.bj1"), f"/v1/test-drives/{won['id']}/invitation.ics"
               ).status_code == 404
