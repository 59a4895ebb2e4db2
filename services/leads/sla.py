"""The response-time SLA: by when a newly assigned lead must be contacted, and
when to warn that the time is running out.
DESIGN: minutes, not hours; a store sets its own, grades and channels refine
it; with a calendar the clock only runs in business hours."""
import logging
from datetime import datetime, timedelta

from dealerflow.hours import Calendar, NeverOpen
from services.leads.routing import GRADES

log = logging.getLogger(__name__)

DEFAULT_RESPONSE_MINUTES = 15
MAX_RESPONSE_MINUTES = 1440
WARNING_FRACTION = 0.8


def response_minutes(grade: str | None, channel: str | None, store_minutes: int | None = None,
                     overrides: dict | None = None) -> int:
    """Minutes allowed for the first contact. ``overrides`` maps keys to
    minutes: a grade (``"H"``), a channel (``"walk_in"``), or both
    (``"H:website"``). The most specific wins: "grade:channel", then the
    grade, then the channel, then ``store_minutes``, then
    ``DEFAULT_RESPONSE_MINUTES``. A key of a single grade letter is a grade,
    anything else without a colon a channel; grades compare in upper case,
    channels in lower case. A missing grade or channel skips the keys that
    need it; ``store_minutes`` None or 0 means the store set none."""
    grade = grade.upper() if grade else None
    channel = channel.lower() if channel else None
    if overrides:
        for key in (grade and channel and f"{grade}:{channel}", grade, channel):
            if key and key in overrides:
                return overrides[key]
    return store_minutes or DEFAULT_RESPONSE_MINUTES


def validate_overrides(overrides) -> dict:
    """The overrides as ``response_minutes`` reads them (keys in canonical
    case), or ValueError naming the bad key: minutes are whole numbers from 1
    to ``MAX_RESPONSE_MINUTES``; a "grade:channel" key needs a grade of
    H A B C N."""
    if overrides is None:
        return {}
    if not isinstance(overrides, dict):
        raise ValueError("response overrides map a grade, a channel or 'grade:channel' to minutes")
    clean = {}
    for key, minutes in overrides.items():
        if not isinstance(key, str) or not 1 <= len(key.strip()) <= 64:
            raise ValueError(f"{key!r}: a key is a grade, a channel or 'grade:channel'")
        grade, colon, channel = key.strip().partition(":")
        if colon:
            if grade.upper() not in GRADES or not channel.strip():
                raise ValueError(f"{key!r}: 'grade:channel' needs a grade of {' '.join(GRADES)} and a channel")
            key = f"{grade.upper()}:{channel.strip().lower()}"
        else:
            key = grade.upper() if grade.upper() in GRADES and len(grade) == 1 else grade.lower()
        if isinstance(minutes, bool) or not isinstance(minutes, int) or \
                not 1 <= minutes <= MAX_RESPONSE_MINUTES:
            raise ValueError(f"{key!r}: minutes must be a whole number from 1 to {MAX_RESPONSE_MINUTES}")
        clean[key] = minutes
    return clean


def first_contact_due(assigned_at: datetime, response_minutes: int | None,
                      calendar: Calendar | None = None) -> datetime:
    """When the first contact is due: ``response_minutes`` (None or 0: the
    default) after ``assigned_at``. Without a calendar that is elapsed time,
    in ``assigned_at``'s zone (the old behaviour). With one, only the
    calendar's open time counts, and the deadline comes back in UTC: a lead
    assigned at night is due minutes after the store opens. A calendar with
    no open time at all (misconfigured hours) falls back to elapsed time, with
    a warning in the log, so that no lead goes without a deadline."""
    minutes = response_minutes or DEFAULT_RESPONSE_MINUTES
    if calendar is not None:
        try:
            return calendar.add_minutes(assigned_at, minutes)
        except NeverOpen:
            log.warning("%r has no open time; the first contact is due in %s elapsed minutes",
                        calendar, minutes)
    return assigned_at + timedelta(minutes=minutes)


def warning_at(assigned_at: datetime, due_at: datetime, calendar: Calendar | None = None,
               fraction: float = WARNING_FRACTION) -> datetime:
    """When to warn the consultant that the deadline is near: once
    ``fraction`` (default 0.8) of the time between assignment and deadline has
    passed, counting only open time when a calendar is given. A share rather
    than a fixed number of minutes, because deadlines run from a few minutes
    (H, walk-ins) to an hour or more: 5 minutes warns at 4, 60 at 48.
    With a calendar the warning comes back in UTC and always falls in open
    time before the deadline (or at it); a calendar with no open time falls
    back to elapsed time, as ``first_contact_due`` does."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, not {fraction!r}")
    if calendar is not None:
        try:
            return calendar.add_minutes(assigned_at, calendar.minutes_between(assigned_at, due_at) * fraction)
        except NeverOpen:
            pass  # first_contact_due counted elapsed time: so does the warning
    return assigned_at + (due_at - assigned_at) * fraction
