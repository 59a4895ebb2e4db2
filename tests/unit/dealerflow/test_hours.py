"""dealerflow.hours: open time in a store's zone, across days, weekends,
holidays and DST changes (explicit cases), and the arithmetic's laws for any
calendar, zone and start (hypothesis)."""
import statistics
import time
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dealerflow.hours import DAYS, Calendar, NeverOpen, calendar_for, on_leave, on_shift

UTC = timezone.utc
SHANGHAI, BERLIN, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")
WEEKDAYS = {day: ["09:00-12:00", "13:00-18:00"] for day in DAYS[:5]}
STORE = Calendar("Asia/Shanghai", {**WEEKDAYS, "sat": ["10:00-16:00"]}, ["2026-10-01", "2026-10-02"])


def at(zone, *parts):
    return datetime(*parts, tzinfo=zone)


# -- explicit cases: Asia/Shanghai, the usual store ---------------------------------

def test_open_from_a_span_start_until_just_before_its_end():
    assert STORE.is_open(at(SHANGHAI, 2026, 11, 26, 9, 0))
    assert STORE.is_open(at(SHANGHAI, 2026, 11, 26, 11, 59, 59))
    assert not STORE.is_open(at(SHANGHAI, 2026, 11, 26, 12, 0))   # lunch
    assert not STORE.is_open(at(SHANGHAI, 2026, 11, 26, 8, 59))
    assert not STORE.is_open(at(SHANGHAI, 2026, 11, 29, 11, 0))   # Sunday
    assert STORE.is_open(at(UTC, 2026, 11, 26, 1, 0))              # 09:00 in Shanghai


def test_minutes_inside_a_span_are_plain_minutes_in_utc():
    due = STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 9, 30), 15)
    assert due == at(SHANGHAI, 2026, 11, 26, 9, 45) and due.tzinfo is UTC


def test_lunch_break_does_not_count():
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 11, 50), 15) == at(SHANGHAI, 2026, 11, 26, 13, 5)


def test_a_lead_at_night_is_counted_from_the_next_opening():
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 22, 0), 15) == at(SHANGHAI, 2026, 11, 27, 9, 15)
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 22, 0), 0) == at(SHANGHAI, 2026, 11, 27, 9, 0)


def test_across_days_and_over_the_weekend():
    # Saturday 15:55 + 15: five minutes on Saturday, Sunday closed, ten on Monday
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 28, 15, 55), 15) == at(SHANGHAI, 2026, 11, 30, 9, 10)
    # 8 hours from Friday 17:00: one on Friday, six on Saturday, one on Monday
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 27, 17, 0), 480) == at(SHANGHAI, 2026, 11, 30, 10, 0)
    assert STORE.minutes_between(at(SHANGHAI, 2026, 11, 27, 17, 0), at(SHANGHAI, 2026, 11, 30, 9, 10)) == 60 + 360 + 10


def test_holidays_are_closed_all_day():
    # National Day: Thursday 1 and Friday 2 October; Saturday 3 is open 10-16
    assert not STORE.is_open(at(SHANGHAI, 2026, 10, 1, 10, 0))
    assert STORE.add_minutes(at(SHANGHAI, 2026, 9, 30, 17, 50), 15) == at(SHANGHAI, 2026, 10, 3, 10, 5)
    assert STORE.minutes_between(at(SHANGHAI, 2026, 10, 1), at(SHANGHAI, 2026, 10, 3)) == 0


def test_result_that_uses_up_a_span_is_its_end():
    assert STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 17, 45), 15) == at(SHANGHAI, 2026, 11, 26, 18, 0)


def test_no_hours_set_means_open_around_the_clock():
    always = Calendar("Asia/Shanghai", {})
    start = at(SHANGHAI, 2026, 11, 26, 3, 7)
    assert always.is_open(start)
    assert always.add_minutes(start, 15) == start + timedelta(minutes=15)
    assert always.minutes_between(start, start + timedelta(days=2)) == 2880


def test_no_hours_set_still_closes_on_holidays():
    always = Calendar("Asia/Shanghai", {}, ["2026-11-27"])
    assert always.add_minutes(at(SHANGHAI, 2026, 11, 26, 23, 50), 15) == at(SHANGHAI, 2026, 11, 28, 0, 5)


def test_whole_days_run_on_over_midnight():
    always = Calendar("Asia/Shanghai", {day: ["00:00-24:00"] for day in DAYS})
    start = at(SHANGHAI, 2026, 11, 26, 23, 50)
    assert always.add_minutes(start, 20) == start + timedelta(minutes=20)
    assert always.add_minutes(start, 10) == at(SHANGHAI, 2026, 11, 27)


def test_touching_spans_are_one():
    joined = Calendar("Asia/Shanghai", {"mon": ["09:00-12:00", "12:00-18:00"]})
    assert joined.is_open(at(SHANGHAI, 2026, 11, 30, 12, 0))
    assert joined.add_minutes(at(SHANGHAI, 2026, 11, 30, 11, 55), 10) == at(SHANGHAI, 2026, 11, 30, 12, 5)


@pytest.mark.parametrize("hours, holidays", [
    ({"mon": []}, ()),
    ({day: [] for day in DAYS}, ()),
    # open on Mondays only, and every Monday for two years is a holiday
    ({"mon": ["09:00-18:00"]}, [(date(2026, 11, 30) + timedelta(weeks=n)).isoformat() for n in range(110)]),
])
def test_a_calendar_with_no_open_time_says_so_instead_of_searching_forever(hours, holidays):
    calendar = Calendar("Asia/Shanghai", hours, holidays)
    with pytest.raises(NeverOpen):
        calendar.add_minutes(at(SHANGHAI, 2026, 11, 26, 9, 0), 15)
    assert issubclass(NeverOpen, ValueError)
    assert not calendar.is_open(at(SHANGHAI, 2026, 11, 30, 10, 0))


@pytest.mark.parametrize("hours", [
    {"monday": ["09:00-18:00"]}, {"mon": ["9:00-18:00"]}, {"mon": ["18:00-09:00"]},
    {"mon": ["09:00-12:00", "11:00-18:00"]}, {"mon": ["13:00-18:00", "09:00-12:00"]},
    {"mon": "09:00-18:00"}, {"mon": ["09:00-24:30"]}, ["09:00-18:00"],
])
def test_hours_the_gateway_would_refuse_are_refused(hours):
    with pytest.raises(ValueError):
        Calendar("Asia/Shanghai", hours)


def test_bad_zone_holiday_minutes_or_naive_moment_are_refused():
    with pytest.raises(ValueError):
        Calendar("Mars/Olympus", {})
    with pytest.raises(ValueError):
        Calendar("Asia/Shanghai", {}, ["2026-13-01"])
    with pytest.raises(ValueError):
        STORE.add_minutes(at(SHANGHAI, 2026, 11, 26, 9, 0), -1)
    with pytest.raises(ValueError):
        STORE.is_open(datetime(2026, 11, 26, 9, 0))


def test_minutes_between_backwards_is_zero():
    assert STORE.minutes_between(at(SHANGHAI, 2026, 11, 26, 11), at(SHANGHAI, 2026, 11, 26, 10)) == 0


# -- explicit cases: DST changes --------------------------------------------------------

def test_berlin_spring_forward_a_whole_day_holds_23_hours():
    calendar = Calendar("Europe/Berlin", {day: ["00:00-24:00"] for day in DAYS})
    sunday, monday = at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)
    assert calendar.minutes_between(sunday, monday) == 23 * 60
    assert calendar.add_minutes(sunday, 23 * 60) == monday


def test_berlin_fall_back_a_whole_day_holds_25_hours():
    calendar = Calendar("Europe/Berlin", {day: ["00:00-24:00"] for day in DAYS})
    assert calendar.minutes_between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)) == 25 * 60


def test_berlin_office_hours_on_change_days_are_nine_hours():
    calendar = Calendar("Europe/Berlin", {day: ["09:00-18:00"] for day in DAYS})
    for day in (29, 28, 30):
        assert calendar.minutes_between(at(BERLIN, 2026, 3, day), at(BERLIN, 2026, 3, day + 1)) == 540
    # Saturday 17:55 + 15 minutes over the night the clocks go forward
    assert calendar.add_minutes(at(BERLIN, 2026, 3, 28, 17, 55), 15) == at(BERLIN, 2026, 3, 29, 9, 10)
    assert calendar.add_minutes(at(BERLIN, 2026, 10, 24, 17, 55), 15) == at(BERLIN, 2026, 10, 25, 9, 10)


def test_berlin_a_span_with_the_jump_inside_counts_real_time():
    calendar = Calendar("Europe/Berlin", {"sun": ["01:00-05:00"]})
    # 01:30 CET + 60 real minutes = 03:30 CEST (02:00-03:00 never happens)
    assert calendar.add_minutes(at(BERLIN, 2026, 3, 29, 1, 30), 60) == at(BERLIN, 2026, 3, 29, 3, 30)
    assert calendar.minutes_between(at(BERLIN, 2026, 3, 29), at(BERLIN, 2026, 3, 30)) == 180
    assert calendar.minutes_between(at(BERLIN, 2026, 10, 25), at(BERLIN, 2026, 10, 26)) == 300


def test_new_york_an_opening_inside_the_gap_is_the_jump():
    calendar = Calendar("America/New_York", {"sun": ["02:30-05:00"]})
    assert not calendar.is_open(at(UTC, 2026, 3, 8, 6, 59))          # 01:59 EST
    assert calendar.is_open(at(UTC, 2026, 3, 8, 7, 0))               # 03:00 EDT, the jump
    assert calendar.add_minutes(at(NEW_YORK, 2026, 3, 8, 0, 0), 0) == at(UTC, 2026, 3, 8, 7, 0)
    assert calendar.minutes_between(at(NEW_YORK, 2026, 3, 8), at(NEW_YORK, 2026, 3, 9)) == 120


def test_new_york_a_time_inside_the_fold_is_its_first_occurrence():
    calendar = Calendar("America/New_York", {"sun": ["00:00-01:30"]})
    first, second = at(UTC, 2026, 11, 1, 5, 15), at(UTC, 2026, 11, 1, 6, 15)   # 01:15 EDT, 01:15 EST
    assert calendar.is_open(first) and not calendar.is_open(second)
    assert calendar.minutes_between(at(NEW_YORK, 2026, 11, 1), at(NEW_YORK, 2026, 11, 2)) == 90


def test_new_york_friday_evening_over_the_spring_weekend():
    calendar = Calendar("America/New_York", {day: ["09:00-18:00"] for day in DAYS[:5]})
    due = calendar.add_minutes(at(NEW_YORK, 2026, 3, 6, 17, 50), 15)
    assert due == at(NEW_YORK, 2026, 3, 9, 9, 5) == at(UTC, 2026, 3, 9, 13, 5)


# -- leave and shifts ---------------------------------------------------------------

def test_leave_includes_both_ends():
    leave = [{"start": "2026-12-01", "end": "2026-12-05"}]
    assert [on_leave(leave, date(2026, 12, day)) for day in (1, 5, 6)] == [True, True, False]
    assert not on_leave(leave, date(2026, 11, 30))
    assert on_leave(leave, "2026-12-03")
    assert not on_leave([], date(2026, 12, 3))


def test_an_empty_shift_follows_the_store():
    assert on_shift({}, STORE, at(SHANGHAI, 2026, 11, 28, 11, 0))        # Saturday 10-16
    assert not on_shift({}, STORE, at(SHANGHAI, 2026, 11, 29, 11, 0))


def test_a_shift_is_read_in_the_store_zone_and_is_off_on_its_holidays():
    evenings = {"thu": ["18:00-22:00"]}
    assert on_shift(evenings, STORE, at(SHANGHAI, 2026, 11, 26, 19, 0))
    assert on_shift(evenings, STORE, at(UTC, 2026, 11, 26, 11, 0))
    assert not on_shift(evenings, STORE, at(SHANGHAI, 2026, 10, 1, 19, 0))   # National Day


def test_calendar_for_keeps_one_calendar_per_setting():
    assert calendar_for("Asia/Shanghai", WEEKDAYS) is calendar_for("Asia/Shanghai", dict(WEEKDAYS))
    assert calendar_for("Asia/Shanghai", WEEKDAYS) is not calendar_for("Europe/Berlin", WEEKDAYS)


def test_fifteen_minutes_take_well_under_a_tenth_of_a_millisecond():
    start = at(UTC, 2026, 11, 26, 3, 50)
    STORE.add_minutes(start, 15)
    runs = []
    for _ in range(2000):
        began = time.perf_counter()
        STORE.add_minutes(start, 15)
        runs.append(time.perf_counter() - began)
    assert statistics.median(runs) < 100e-6


# -- laws, for any calendar -------------------------------------------------------------

ZONES = ["Asia/Shanghai", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",  # a 30-minute DST
         "America/Havana", "America/Sao_Paulo", "Asia/Kolkata"]  # DST at midnight; DST until 2019


@st.composite
def day_spans(draw):
    points = sorted(draw(st.sets(st.integers(0, 1440), max_size=6)))
    if len(points) % 2:
        points = points[:-1]
    return [f"{a // 60:02d}:{a % 60:02d}-{b // 60:02d}:{b % 60:02d}" for a, b in zip(points[::2], points[1::2])]


@st.composite
def calendars(draw):
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        hours = {}
    else:
        hours = {day: draw(day_spans()) for day in DAYS}
        assume(any(hours.values()))
    holidays = draw(st.lists(st.dates(date(2019, 12, 1), date(2030, 12, 31)), max_size=20))
    return Calendar(zone, hours, [day.isoformat() for day in holidays])


starts = st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))
minutes = st.floats(0, 20000, allow_nan=False) | st.integers(0, 600)


@given(calendars(), starts, minutes)
def test_open_minutes_after_adding_them_are_those_minutes(calendar, start, added):
    due = calendar.add_minutes(start, added)
    assert due >= start
    assert calendar.minutes_between(start, due) == pytest.approx(added, abs=1e-7)


@given(calendars(), starts, minutes)
def test_the_result_is_open_time_or_a_span_end(calendar, start, added):
    due = calendar.add_minutes(start, added)
    assert calendar.is_open(due) or calendar.is_open(due - timedelta(microseconds=1))


@given(calendars(), starts, st.integers(0, 3000), st.integers(1, 3000))
def test_adding_in_two_steps_is_adding_once(calendar, start, first, second):
    assert calendar.add_minutes(calendar.add_minutes(start, first), second) == \
        calendar.add_minutes(start, first + second)


@given(calendars(), starts, st.timedeltas(timedelta(0), timedelta(days=20)),
       st.timedeltas(timedelta(0), timedelta(days=20)))
def test_minutes_between_adds_up(calendar, start, one, two):
    middle, end = start + one, start + one + two
    assert calendar.minutes_between(start, end) == pytest.approx(
        calendar.minutes_between(start, middle) + calendar.minutes_between(middle, end), abs=1e-7)


@given(calendars(), starts)
def test_is_open_agrees_with_the_wall_clock(calendar, moment):
    """Away from fall-back folds (where the module's first-occurrence rule
    decides), open means: not a holiday and the local clock in a span."""
    local = moment.astimezone(calendar.zone)
    wall = local.replace(tzinfo=None)
    assume(wall.replace(tzinfo=calendar.zone).utcoffset() == wall.replace(tzinfo=calendar.zone, fold=1).utcoffset())
    clock = wall.hour * 60 + wall.minute + (wall.second + wall.microsecond / 1e6) / 60
    spans = calendar.hours.get(DAYS[wall.weekday()], []) if calendar.hours else ["00:00-24:00"]
    expected = local.date().isoformat() not in calendar.holidays and any(
        int(span[:2]) * 60 + int(span[3:5]) <= clock < int(span[6:8]) * 60 + int(span[9:])
        for span in spans)
    assert calendar.is_open(moment) == expected


@given(starts, minutes)
def test_around_the_clock_is_plain_arithmetic(start, added):
    calendar = Calendar("Europe/Berlin", {})
    assert calendar.add_minutes(start, added) == start + timedelta(microseconds=round(added * 60e6))
