"""Business-hour arithmetic: is a store (or a consultant's shift) open at a
moment, when have N minutes of open time passed, how many open minutes lie
between two moments. Pure: no database, no nameko.

Hours are the gateway's weekly format (``services/gateway/org.py``,
``weekly_hours``)::

    {"mon": ["09:00-12:00", "13:00-18:00"], "sat": ["10:00-16:00"]}

keys ``mon``..``sun``; spans ``HH:MM-HH:MM`` of local wall-clock time, in
order, not overlapping, start before end within the day (``24:00`` may end a
span: ``00:00-24:00`` is the whole day). A missing or empty day is closed. An
EMPTY dict means open around the clock (a store that set no hours).
Holidays (``YYYY-MM-DD``, local dates) are closed all day, with hours or
without.

Decisions about time itself:

- Spans are wall clock: ``09:00-18:00`` opens when the local clock shows
  09:00, whatever the offset that day. Open time is counted in real elapsed
  time, so a span holds as many minutes as really pass between its ends; that
  is its wall-clock length unless a DST change falls inside it
  (``00:00-24:00`` on Berlin's spring-forward day holds 23 hours, on the
  fall-back day 25).
- A span end that does not exist (inside a spring-forward gap) is the instant
  the clock jumps: ``02:30`` on New York's spring-forward night is 03:00 EDT.
  A span end that exists twice (inside a fall-back fold) is its first
  occurrence. Every end is read the same way, so ``...-24:00`` on one day and
  ``00:00-...`` on the next meet exactly and open time runs on over midnight.
- Spans are half open: open at 09:00:00, closed at 18:00:00.
- Moments are counted in whole microseconds (what ``datetime`` holds), so
  ``minutes_between(s, add_minutes(s, m))`` is ``m`` rounded to a microsecond.
- A calendar with no open time at all (every day empty in a non-empty dict,
  or no open day in 400 days in a row) makes ``add_minutes`` raise
  ``NeverOpen`` (a ``ValueError``) rather than search forever.
"""
import re
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SPAN = re.compile(r"([01]\d|2[0-3]):([0-5]\d)-(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))")
SEARCH_DAYS = 400  # closed days in a row after which a calendar counts as never open

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_NAIVE_EPOCH = EPOCH.replace(tzinfo=None)
_US = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_CACHED_DAYS = 4096  # per calendar; about eleven years of dates


class NeverOpen(ValueError):
    """The calendar has no open time to count (no hours on any day, or no
    open day within ``SEARCH_DAYS``)."""


def _us(moment: datetime) -> int:
    """An aware moment as whole microseconds since the epoch."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, not {moment!r}")
    return (moment - EPOCH) // _US


def _moment(us: int) -> datetime:
    return EPOCH + timedelta(microseconds=us)


def parse_spans(day: str, spans) -> tuple[tuple[int, int], ...]:
    """``["09:00-12:00", ...]`` as (start, end) minutes of the day, touching
    spans merged; ValueError for anything the gateway would not accept."""
    if spans is None:
        return ()
    if not isinstance(spans, (list, tuple)):
        raise ValueError(f"{day}: a list of 'HH:MM-HH:MM' spans is needed, not {spans!r}")
    parsed: list[list[int]] = []
    for span in spans:
        match = SPAN.fullmatch(span) if isinstance(span, str) else None
        if match is None:
            raise ValueError(f"{day}: {span!r} is not an 'HH:MM-HH:MM' span")
        h1, m1, h2, m2, h24, _ = match.groups()
        start, end = int(h1) * 60 + int(m1), (1440 if h24 else int(h2) * 60 + int(m2))
        if start >= end:
            raise ValueError(f"{day}: {span!r} ends before it starts (no span runs past midnight)")
        if parsed and start < parsed[-1][1]:
            raise ValueError(f"{day}: {span!r} is out of order or overlaps the span before it")
        if parsed and start == parsed[-1][1]:
            parsed[-1][1] = end
        else:
            parsed.append([start, end])
    return tuple((start, end) for start, end in parsed)


class Calendar:
    """Open time in one time zone: weekly ``hours`` (see the module doc; an
    empty dict is open around the clock) minus ``holidays``.

    ``Calendar("Asia/Shanghai", {"mon": ["09:00-18:00"]}, ["2026-10-01"])``.
    Raises ValueError for an unknown zone, a bad day name, span or date.
    Build it once per store and keep it: it remembers each date's open
    intervals (or use ``calendar_for``, which keeps the calendars).
    """

    __slots__ = ("timezone", "zone", "hours", "holidays", "_week", "_closed", "_always", "_never",
                 "_days")

    def __init__(self, timezone: str, hours: dict, holidays=()):
        self.timezone = timezone
        try:
            self.zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, TypeError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        if not isinstance(hours, dict) or not set(hours) <= set(DAYS):
            raise ValueError(f"hours must map weekdays ({', '.join(DAYS)}) to lists of spans")
        self._week = tuple(parse_spans(day, hours.get(day)) for day in DAYS)
        self.hours = {day: list(hours[day]) for day in DAYS if hours.get(day)}
        try:
            self._closed = frozenset(date.fromisoformat(day).toordinal() for day in holidays)
        except (TypeError, ValueError):
            raise ValueError(f"holidays must be dates (YYYY-MM-DD), not {holidays!r}") from None
        self.holidays = tuple(sorted(date.fromordinal(day).isoformat() for day in self._closed))
        if not hours:
            self._week = (((0, 1440),),) * 7
        self._always = not hours and not self._closed
        self._never = not any(self._week)
        self._days: dict[int, tuple[tuple[int, int], ...]] = {}

    def __repr__(self):
        return f"Calendar({self.timezone!r}, {self.hours!r}, {list(self.holidays)!r})"

    # -- the three questions ------------------------------------------------------

    def is_open(self, moment: datetime) -> bool:
        """Whether ``moment`` (aware) lies in open time (span starts are open,
        span ends closed)."""
        if self._always:
            _us(moment)
            return True
        now = _us(moment)
        return any(start <= now < end for start, end in self._open(self._ordinal(moment)))

    def add_minutes(self, start: datetime, minutes: float) -> datetime:
        """The moment (UTC) at which ``minutes`` of open time have passed since
        ``start``; counting begins at the next opening if ``start`` is closed,
        so 0 minutes gives the first open moment at or after ``start``. A result
        that uses up a span exactly is that span's end (the close). Raises
        ``NeverOpen`` when there is no open time to count, ValueError for
        negative minutes or a naive ``start``."""
        if not minutes >= 0 or minutes == float("inf"):
            raise ValueError(f"minutes must be a finite number >= 0, not {minutes!r}")
        now, left = _us(start), round(minutes * _MINUTE_US)
        if self._always:
            return _moment(now + left)
        if self._never:
            raise NeverOpen(f"{self!r} is never open")
        ordinal, idle = self._ordinal(start), 0
        while True:
            spans = self._open(ordinal)
            for begin, end in spans:
                if end <= now:
                    continue
                begin = max(begin, now)
                if left <= end - begin:
                    return _moment(begin + left)
                left -= end - begin
                now = end
            idle = 0 if spans else idle + 1
            if idle > SEARCH_DAYS:
                raise NeverOpen(f"{self!r} has no open time in {SEARCH_DAYS} days after "
                                f"{date.fromordinal(ordinal - idle + 1)}")
            ordinal += 1

    def minutes_between(self, start: datetime, end: datetime) -> float:
        """Open minutes between ``start`` and ``end`` (aware); 0 if ``end`` is
        not after ``start``."""
        low, high = _us(start), _us(end)
        if high <= low:
            return 0.0
        if self._always:
            return (high - low) / _MINUTE_US
        total = 0
        for ordinal in range(self._ordinal(start), self._ordinal(end) + 1):
            for begin, finish in self._open(ordinal):
                overlap = min(finish, high) - max(begin, low)
                if overlap > 0:
                    total += overlap
        return total / _MINUTE_US

    # -- dates as intervals of microseconds ----------------------------------------

    def _ordinal(self, moment: datetime) -> int:
        return moment.astimezone(self.zone).toordinal()

    def _open(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        """The open intervals [start, end) of a local date, in microseconds."""
        spans = self._days.get(ordinal)
        if spans is None:
            spans = ()
            if ordinal not in self._closed:
                day = date.fromordinal(ordinal)
                week = self._week[day.weekday()]
                midnight = datetime(day.year, day.month, day.day)
                offset = self.zone.utcoffset(midnight)
                if week and offset == self.zone.utcoffset(midnight + timedelta(days=1)):
                    # the usual day, no change of offset: the clock is midnight + minutes
                    base = (midnight - offset - _NAIVE_EPOCH) // _US
                    spans = tuple((base + start * _MINUTE_US, base + end * _MINUTE_US)
                                  for start, end in week)
                else:
                    spans = tuple(interval for interval in (
                        (self._instant(day, start), self._instant(day, end))
                        for start, end in week) if interval[0] < interval[1])
            if len(self._days) >= _CACHED_DAYS:
                self._days.clear()
            self._days[ordinal] = spans
        return spans

    def _instant(self, day: date, minute: int) -> int:
        """The microsecond when the local clock first shows ``minute`` of
        ``day``: its first occurrence in a fold, the jump in a gap."""
        if minute == 1440:
            day, minute = day + timedelta(days=1), 0
        wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
        first = _us(wall.replace(tzinfo=self.zone))  # fold=0: the first occurrence
        if self._wall(first // 1_000_000) == wall:
            return first
        # in a gap: fold=0 and fold=1 read it with the offsets either side of the
        # jump; the jump is the first second between them whose clock is past it
        low, high = sorted((first // 1_000_000, _us(wall.replace(tzinfo=self.zone, fold=1)) // 1_000_000))
        while high - low > 1:
            middle = (low + high) // 2
            if self._wall(middle) >= wall:
                high = middle
            else:
                low = middle
        return high * 1_000_000

    def _wall(self, seconds: int) -> datetime:
        return datetime.fromtimestamp(seconds, self.zone).replace(tzinfo=None)


@lru_cache(maxsize=1024)
def _kept(timezone: str, hours: tuple, holidays: tuple) -> Calendar:
    return Calendar(timezone, {day: list(spans) for day, spans in hours}, holidays)


def calendar_for(timezone: str, hours: dict, holidays=()) -> Calendar:
    """``Calendar(timezone, hours, holidays)``, the same object for the same
    arguments (up to 1024 kept), so that its dates are worked out once."""
    return _kept(timezone, tuple((day, tuple(spans or ())) for day, spans in sorted(hours.items())),
                 tuple(holidays))


# -- leave and shifts --------------------------------------------------------------

def on_leave(leave: list, local_date) -> bool:
    """Whether ``local_date`` (a date or 'YYYY-MM-DD') falls in one of the
    periods ``[{"start": "2026-12-01", "end": "2026-12-05"}]`` (local dates,
    both ends included, as the gateway stores them)."""
    day = local_date if isinstance(local_date, str) else local_date.isoformat()
    return any(period["start"] <= day <= period["end"] for period in leave or ())


def on_shift(shift: dict, store_calendar: Calendar, moment: datetime) -> bool:
    """Whether a consultant with weekly ``shift`` hours works at ``moment``.
    An empty shift follows the store's business hours; a non-empty one is
    read in the store's time zone and is off on the store's holidays too."""
    if not shift:
        return store_calendar.is_open(moment)
    return calendar_for(store_calendar.timezone, shift, store_calendar.holidays).is_open(moment)
