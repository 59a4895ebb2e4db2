"""When to try a delivery: the back-off after a transient failure and the
end of a user's quiet hours. Pure: no database, no nameko.

Back-off is exponential with full jitter (AWS's "Exponential Backoff And
Jitter"): the n-th failure waits a random time between 0 and
``min(CAP, BASE * 2 ** (n - 1))``, so that many deliveries failing at once
(a robot that was down) do not all come back at the same instant.

Quiet hours are a wall-clock window in the store's time zone,
``start`` to ``end`` as ``HH:MM``: ``22:00``-``07:00`` runs over midnight,
``start == end`` means no quiet hours. Half open: quiet from ``start``, no
longer at ``end``. Across a DST change the wall clock decides, as the
store's business hours do (``dealerflow.hours``): an ``end`` that does not
exist that night (inside a spring-forward gap) is the instant the clock
jumps; one that exists twice (a fall-back fold) ends the quiet at its
first occurrence, and if the clock then runs back into the window it is
quiet again until the second.
"""
import random
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

BASE_S = 2.0
CAP_S = 600.0
MAX_ATTEMPTS = 8  # failures after which a delivery is dead


def backoff(attempts: int, rand=random.random) -> float:
    """Seconds to wait after the ``attempts``-th failure in a row (1, 2, ...)."""
    ceiling = min(CAP_S, BASE_S * 2 ** min(max(attempts, 1) - 1, 30))
    return ceiling * rand()


def minutes(hhmm: str) -> int:
    """``"22:30"`` as 1350 minutes of the day."""
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def in_window(minute: int, start: int, end: int) -> bool:
    """Whether a minute of the day lies in the window ``[start, end)``
    (over midnight when start > end; never when start == end)."""
    if start < end:
        return start <= minute < end
    if start > end:
        return minute >= start or minute < end
    return False


def is_quiet(moment: datetime, start: str | None, end: str | None, zone: ZoneInfo) -> bool:
    """Whether the aware ``moment`` falls in the quiet hours, read on the zone's wall clock."""
    if not start or not end:
        return False
    local = moment.astimezone(zone)
    return in_window(local.hour * 60 + local.minute, minutes(start), minutes(end))


def wall_instants(day: date, minute: int, zone: ZoneInfo) -> list[datetime]:
    """The instants at which the zone's clock shows ``minute`` on ``day``:
    one, two in a fall-back fold, and in a spring-forward gap the instant
    the clock jumps over it (the first minute after it that exists)."""
    for skipped in range(0, 24 * 60):
        wall = datetime.combine(day, time()) + timedelta(minutes=minute + skipped)
        found = []
        for fold in (0, 1):
            local = wall.replace(tzinfo=zone, fold=fold)
            if local.astimezone(timezone.utc).astimezone(zone).replace(tzinfo=None) == wall:
                found.append(local.astimezone(timezone.utc))
        if found:
            return sorted(set(found)) if skipped == 0 else found[:1]
    raise ValueError(f"{zone} shows no time after {minute} minutes on {day}")


def quiet_until(moment: datetime, start: str | None, end: str | None, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None when
    ``moment`` is not quiet. The clock jumping over ``end`` may land in
    the window again (``02:45``-``02:30`` on a spring-forward night): then
    the quiet goes on to the next end."""
    if not is_quiet(moment, start, end, zone):
        return None
    for _ in range(4):
        today = moment.astimezone(zone).date()
        moment = min(instant for day in (today, today + timedelta(days=1))
                     for instant in wall_instants(day, minutes(end), zone) if instant > moment)
        if not is_quiet(moment, start, end, zone):
            return moment
    raise ValueError(f"quiet hours {start}-{end} in {zone} do not end")
