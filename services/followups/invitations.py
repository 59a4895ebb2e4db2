"""The test-drive confirmation as an iCalendar invitation (RFC 5545). Pure:
no database, no nameko.

- ``METHOD:REQUEST`` with one ``VEVENT`` while the booking stands;
  ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` once it is cancelled, so that
  the customer's calendar drops it.
- ``UID`` is the booking's (``test-drive-<id>@dealerflow``): every version
  of one booking's invitation updates the same calendar entry, and
  ``SEQUENCE`` (the booking's) says which is newer. ``DTSTAMP`` is when the
  booking was made (or cancelled), so the same booking always gives the
  same text.
- ``DTSTART``/``DTEND`` are local times of the store's zone with its
  ``VTIMEZONE`` (``add_missing_timezones()``): the customer sees the time
  the store said, whatever their device's zone.
- ``SUMMARY``, ``LOCATION`` and ``DESCRIPTION`` are in the customer's
  language (``zh`` or ``en``). ``ORGANIZER`` (who booked it) and
  ``ATTENDEE`` (the customer) only when their emails are known.
- A ``VALARM`` reminds the customer two hours before (``REMINDER``).
- Nothing else of the booking goes in it: no licence number, no notes.
"""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, vCalAddress, vText

PRODID = "-//Dealerflow//Test drives//EN"
REMINDER = timedelta(hours=2)  # the VALARM: how long before the start the customer's calendar reminds them

TEXTS = {
    "zh": {
        "summary": "试驾：{vehicle}",
        "greeting": "{name}您好，",
        "anonymous": "您好，",
        "body": "您已预约{vehicle}试驾，时间 {day} {start}-{end}，地点 {location}。",
        "licence": "请携带本人有效驾驶证原件。",
        "contact": "如需改期，请联系{organizer}。",
        "cancelled": "您预约的{vehicle}试驾（{day} {start}-{end}）已取消。",
        "us": "您的销售顾问",
        "day": "%Y年%m月%d日",
    },
    "en": {
        "summary": "Test drive: {vehicle}",
        "greeting": "Dear {name},",
        "anonymous": "Hello,",
        "body": "your test drive of the {vehicle} is booked for {day}, {start}-{end}, at {location}.",
        "licence": "Please bring your valid driving licence.",
        "contact": "To change it, contact {organizer}.",
        "cancelled": "your test drive of the {vehicle} on {day}, {start}-{end}, is cancelled.",
        "us": "your sales consultant",
        "day": "%a %d %b %Y",
    },
}


def uid(booking_id: str) -> str:
    return f"test-drive-{booking_id}@dealerflow"


def vehicle_label(vehicle) -> str:
    """``BYD Han EV 创世版``: brand, model and trim as the customer knows them."""
    return " ".join(part for part in (vehicle.brand, vehicle.model, vehicle.trim) if part)


def address(email: str, name: str | None, **params) -> vCalAddress:
    who = vCalAddress(f"mailto:{email}")
    if name:
        who.params["CN"] = vText(name)
    who.params.update(params)
    return who


def invitation(booking, vehicle, timezone: str, customer_name: str | None = None) -> str:
    """The booking's invitation, as iCalendar text (CRLF lines).

    ``booking``: anything with the ``TestDrive`` model's attributes (id,
    starts_at, ends_at, status, sequence, language, location,
    organizer_name, organizer_email, customer_email, created_at,
    cancelled_at); ``vehicle``: brand, model, trim; ``timezone``: the
    store's IANA zone."""
    zone = ZoneInfo(timezone)
    texts = TEXTS.get(booking.language, TEXTS["zh"])
    start, end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    cancelled = booking.status == "cancelled"
    values = {"vehicle": vehicle_label(vehicle), "day": start.strftime(texts["day"]),
              "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M"),
              "location": booking.location or "", "name": customer_name,
              "organizer": booking.organizer_name or texts["us"]}
    greeting = texts["greeting" if customer_name else "anonymous"].format(**values)
    if cancelled:
        description = greeting + texts["cancelled"].format(**values)
    else:
        description = " ".join((greeting + texts["body"].format(**values), texts["licence"],
                                texts["contact"].format(**values)))

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", uid(booking.id))
    event.add("sequence", booking.sequence or 0)
    event.add("dtstamp", stamp(booking.cancelled_at if cancelled and booking.cancelled_at else booking.created_at))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", texts["summary"].format(**values))
    if booking.location:
        event.add("location", booking.location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE")
    if booking.organizer_email:
        event.add("organizer", address(booking.organizer_email, booking.organizer_name))
    if booking.customer_email:
        event.add("attendee", address(booking.customer_email, customer_name, ROLE="REQ-PARTICIPANT",
                                      PARTSTAT="NEEDS-ACTION", RSVP="TRUE"))
    if not cancelled:  # the customer's reminder: their calendar tells them before it starts
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", texts["summary"].format(**values))
        alarm.add("trigger", -REMINDER)
        event.add_component(alarm)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical().decode("utf-8")


def stamp(moment: datetime) -> datetime:
    """DTSTAMP is UTC, to the second."""
    return moment.astimezone(ZoneInfo("UTC")).replace(microsecond=0)
