"""The test-drive invitation read back with icalendar: a REQUEST with the
store's VTIMEZONE and DTSTART/DTEND in its zone, a UID that stays the
booking's, the customer's language, ORGANIZER and ATTENDEE only when their
emails are known, nothing personal beyond them, and a CANCEL once the
booking is cancelled."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from icalendar import Calendar

from services.followups import invitations

VEHICLE = SimpleNamespace(brand="BYD", model="Han EV", trim="创世版")
BOOKED_AT = datetime(2026, 11, 30, 2, 15, 30, 123456, tzinfo=timezone.utc)


def make_booking(**overrides):
    fields = dict(id="b-1", starts_at=datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc),  # 10:00 in Shanghai
                  ends_at=datetime(2026, 12, 5, 2, 45, tzinfo=timezone.utc), status="booked", sequence=0,
                  language="zh", location="上海浦东店", organizer_name="顾问一", organizer_email="c1@dealer.example",
                  customer_email="wl@example.com", created_at=BOOKED_AT, cancelled_at=None,
                  licence_number="B1234567", note="带家人")
    fields.update(overrides)
    return SimpleNamespace(**fields)


def read(text: str):
    calendar = Calendar.from_ical(text)
    [event] = calendar.walk("VEVENT")
    return calendar, event


def test_a_request_in_the_stores_zone_with_its_vtimezone():
    calendar, event = read(invitations.invitation(make_booking(), VEHICLE, "Asia/Shanghai", "王磊"))
    assert str(calendar["method"]) == "REQUEST" and str(event["status"]) == "CONFIRMED"
    start, end = event.decoded("dtstart"), event.decoded("dtend")
    assert start.tzinfo == ZoneInfo("Asia/Shanghai") and (start.hour, start.minute) == (10, 0)
    assert event["dtstart"].params["TZID"] == "Asia/Shanghai"
    assert (end - start).total_seconds() == 45 * 60
    assert [str(zone["tzid"]) for zone in calendar.walk("VTIMEZONE")] == ["Asia/Shanghai"]
    assert event.decoded("dtstamp") == BOOKED_AT.replace(microsecond=0)
    [alarm] = event.walk("VALARM")  # the customer's reminder, two hours before
    assert str(alarm["action"]) == "DISPLAY" and alarm.decoded("trigger") == -timedelta(hours=2)


def test_the_uid_is_the_bookings_and_the_text_is_stable():
    booking = make_booking()
    first = invitations.invitation(booking, VEHICLE, "Asia/Shanghai", "王磊")
    assert first == invitations.invitation(booking, VEHICLE, "Asia/Shanghai", "王磊")
    assert str(read(first)[1]["uid"]) == "test-drive-b-1@dealerflow"
    other = invitations.invitation(make_booking(id="b-2"), VEHICLE, "Asia/Shanghai", "王磊")
    assert str(read(other)[1]["uid"]) == "test-drive-b-2@dealerflow"


def test_texts_in_the_customers_language():
    _, chinese = read(invitations.invitation(make_booking(), VEHICLE, "Asia/Shanghai", "王磊"))
    assert str(chinese["summary"]) == "试驾：BYD Han EV 创世版"
    assert str(chinese["location"]) == "上海浦东店"
    assert "王磊您好" in str(chinese["description"]) and "10:00-10:45" in str(chinese["description"])
    _, english = read(invitations.invitation(make_booking(language="en"), VEHICLE, "Asia/Shanghai", "Lei Wang"))
    assert str(english["summary"]) == "Test drive: BYD Han EV 创世版"
    assert str(english["description"]).startswith("Dear Lei Wang,") and "driving licence" in str(
        english["description"])


def test_organizer_and_attendee_only_when_known_and_nothing_personal_else():
    text = invitations.invitation(make_booking(), VEHICLE, "Asia/Shanghai", "王磊")
    _, event = read(text)
    assert str(event["organizer"]) == "mailto:c1@dealer.example" and event["organizer"].params["CN"] == "顾问一"
    assert str(event["attendee"]) == "mailto:wl@example.com" and event["attendee"].params["RSVP"] == "TRUE"
    assert "B1234567" not in text and "带家人" not in text
    _, bare = read(invitations.invitation(make_booking(organizer_email=None, customer_email=None), VEHICLE,
                                          "Asia/Shanghai", None))
    assert "organizer" not in bare and "attendee" not in bare
    assert str(bare["description"]).startswith("您好，")


def test_another_zone_keeps_its_own_wall_clock():
    _, event = read(invitations.invitation(make_booking(), VEHICLE, "Europe/Berlin", None))
    start = event.decoded("dtstart")
    assert start.tzinfo == ZoneInfo("Europe/Berlin") and (start.hour, start.minute) == (3, 0)


def test_a_cancelled_booking_is_withdrawn_under_the_same_uid():
    cancelled_at = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    calendar, event = read(invitations.invitation(make_booking(status="cancelled", sequence=1,
                                                               cancelled_at=cancelled_at), VEHICLE,
                                                  "Asia/Shanghai", "王磊"))
    assert str(calendar["method"]) == "CANCEL" and str(event["status"]) == "CANCELLED"
    assert str(event["uid"]) == "test-drive-b-1@dealerflow" and event["sequence"] == 1
    assert event.decoded("dtstamp") == cancelled_at
    assert event.walk("VALARM") == []  # nothing to be reminded of
