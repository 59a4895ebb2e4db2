"""services.leads.sla: how many minutes a lead gets, when the first contact
is due (elapsed time, or business minutes with a calendar), and when to warn."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.hours import DAYS, Calendar
from services.leads.sla import (
    DEFAULT_RESPONSE_MINUTES,
    first_contact_due,
    response_minutes,
    validate_overrides,
    warning_at,
)

ASSIGNED = datetime(2026, 11, 26, 1, 30, tzinfo=timezone.utc)
SHANGHAI = ZoneInfo("Asia/Shanghai")
STORE = Calendar("Asia/Shanghai", {day: ["09:00-12:00", "13:00-18:00"] for day in DAYS[:6]}, ["2026-10-01"])


# -- elapsed time, as before (the two-argument call handlers.py makes) ------------------

def test_store_response_minutes_set_the_deadline():
    assert first_contact_due(ASSIGNED, 30) == ASSIGNED + timedelta(minutes=30)


@pytest.mark.parametrize("minutes", [None, 0])
def test_default_deadline_when_the_store_sets_none(minutes):
    assert DEFAULT_RESPONSE_MINUTES == 15
    assert first_contact_due(ASSIGNED, minutes) == ASSIGNED + timedelta(minutes=15)


def test_deadline_keeps_the_time_zone_of_the_assignment():
    shanghai = datetime(2026, 11, 26, 9, 30, tzinfo=SHANGHAI)
    due = first_contact_due(shanghai, 15)
    assert due.tzinfo is shanghai.tzinfo
    assert due == datetime(2026, 11, 26, 1, 45, tzinfo=timezone.utc)


def test_deadline_crosses_midnight():
    late = datetime(2026, 11, 26, 23, 50, tzinfo=timezone.utc)
    assert first_contact_due(late, 20) == datetime(2026, 11, 27, 0, 10, tzinfo=timezone.utc)


# -- business minutes ---------------------------------------------------------------------

def test_with_a_calendar_only_open_minutes_count():
    before_lunch = datetime(2026, 11, 26, 11, 50, tzinfo=SHANGHAI)
    due = first_contact_due(before_lunch, 15, STORE)
    assert due == datetime(2026, 11, 26, 13, 5, tzinfo=SHANGHAI) and due.tzinfo is timezone.utc


def test_a_lead_assigned_at_night_is_due_after_the_opening():
    night = datetime(2026, 11, 26, 23, 0, tzinfo=SHANGHAI)
    assert first_contact_due(night, None, STORE) == datetime(2026, 11, 27, 9, 15, tzinfo=SHANGHAI)


def test_a_lead_on_saturday_evening_is_due_on_monday_and_holidays_skip():
    assert first_contact_due(datetime(2026, 11, 28, 17, 55, tzinfo=SHANGHAI), 15, STORE) == \
        datetime(2026, 11, 30, 9, 10, tzinfo=SHANGHAI)
    assert first_contact_due(datetime(2026, 9, 30, 17, 55, tzinfo=SHANGHAI), 15, STORE) == \
        datetime(2026, 10, 2, 9, 10, tzinfo=SHANGHAI)


def test_a_store_with_no_hours_counts_around_the_clock():
    assert first_contact_due(ASSIGNED, 15, Calendar("Asia/Shanghai", {})) == ASSIGNED + timedelta(minutes=15)


def test_a_calendar_with_no_open_time_falls_back_to_elapsed_time(caplog):
    closed = Calendar("Asia/Shanghai", {"mon": []})
    assert first_contact_due(ASSIGNED, 15, closed) == ASSIGNED + timedelta(minutes=15)
    assert "no open time" in caplog.text
    assert warning_at(ASSIGNED, ASSIGNED + timedelta(minutes=15), closed) == ASSIGNED + timedelta(minutes=12)


# -- how many minutes ------------------------------------------------------------------

OVERRIDES = {"H": 5, "walk_in": 3, "H:website": 4, "A": 30}


@pytest.mark.parametrize("grade, channel, store_minutes, expected", [
    ("H", "website", 20, 4),       # grade:channel first
    ("H", "phone", 20, 5),         # then the grade
    ("A", "walk_in", 20, 30),      # the grade before the channel
    ("B", "walk_in", 20, 3),       # then the channel
    ("B", "website", 20, 20),      # then the store
    ("B", "website", None, 15),    # then the default
    ("B", "website", 0, 15),
    ("h", "WEBSITE", None, 4),     # grades upper, channels lower
    (None, "walk_in", None, 3),    # no grade: the grade keys are skipped
    ("H", None, None, 5),
    (None, None, 25, 25),
])
def test_the_most_specific_setting_wins(grade, channel, store_minutes, expected):
    assert response_minutes(grade, channel, store_minutes, OVERRIDES) == expected


def test_no_overrides_is_the_store_or_the_default():
    assert response_minutes("H", "website", 20, None) == 20
    assert response_minutes("H", "website", None, {}) == DEFAULT_RESPONSE_MINUTES


def test_overrides_come_back_in_canonical_case():
    assert validate_overrides({"h": 5, "Walk_In": 3, "a:WEBSITE": 4, "wechat": 10}) == \
        {"H": 5, "walk_in": 3, "A:website": 4, "wechat": 10}
    assert validate_overrides(None) == {}


@pytest.mark.parametrize("overrides", [
    [], {"H": 0}, {"H": 1441}, {"H": "5"}, {"H": True}, {"": 5}, {"O:website": 5}, {"H:": 5}, {5: 5},
])
def test_bad_overrides_are_refused(overrides):
    with pytest.raises(ValueError):
        validate_overrides(overrides)


# -- the warning before the deadline ----------------------------------------------------------

def test_the_warning_comes_when_most_of_the_time_has_passed():
    due = first_contact_due(ASSIGNED, 15)
    assert warning_at(ASSIGNED, due) == ASSIGNED + timedelta(minutes=12)
    assert warning_at(ASSIGNED, due, fraction=0.5) == ASSIGNED + timedelta(minutes=7.5)


def test_with_a_calendar_the_warning_counts_open_minutes():
    before_lunch = datetime(2026, 11, 26, 11, 50, tzinfo=SHANGHAI)
    due = first_contact_due(before_lunch, 15, STORE)                 # 13:05
    assert warning_at(before_lunch, due, STORE) == datetime(2026, 11, 26, 13, 2, tzinfo=SHANGHAI)


@pytest.mark.parametrize("fraction", [0, 1, 1.5, -0.1])
def test_the_fraction_is_a_share(fraction):
    with pytest.raises(ValueError):
        warning_at(ASSIGNED, ASSIGNED + timedelta(minutes=15), fraction=fraction)


@given(st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1), timezones=st.just(timezone.utc)),
       st.integers(1, 240))
def test_the_warning_falls_in_open_time_before_the_deadline(assigned, minutes):
    due = first_contact_due(assigned, minutes, STORE)
    warn = warning_at(assigned, due, STORE)
    # in open time, or at the very end of an open span (spans are half open: the close is closed)
    assert assigned <= warn < due and (STORE.is_open(warn) or STORE.is_open(warn - timedelta(microseconds=1)))
    assert STORE.minutes_between(assigned, warn) == pytest.approx(0.8 * minutes, abs=1e-6)
