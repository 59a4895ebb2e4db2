"""services.followups.cadence: when the next follow-up is due by grade and
stage in the store's business days, after-sales care, rescheduling, and what
a store may save as its plan."""
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dealerflow.hours import DAYS, Calendar
from services.followups.cadence import (
    DEFAULT_PLAN,
    GRADE_KEYS,
    HOTTEST_FIRST,
    KINDS,
    OPEN_STAGES,
    PLAN_GRADES,
    PLAN_KEYS,
    Cadence,
    PlanError,
    after_sales_plan,
    cadence_for,
    next_due,
    reschedule,
    validate_plan,
)

UTC = timezone.utc
SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
GOLDEN_WEEK = [f"2026-10-0{day}" for day in range(1, 8)]
WEEKDAYS = Calendar("Asia/Shanghai", {day: ["09:00-18:00"] for day in DAYS[:5]}, GOLDEN_WEEK)
LUNCH = Calendar("Asia/Shanghai", {day: ["09:00-12:00", "13:00-18:00"] for day in DAYS})
ALWAYS = Calendar("Asia/Shanghai", {})


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def due(after, grade="H", stage="initial_contact", plan=None, calendar=WEEKDAYS):
    return next_due(after, grade, stage, plan, calendar)[0]


# -- defaults -------------------------------------------------------------------------

def test_the_default_plan_is_the_issues_cadence_and_a_valid_plan():
    assert {grade: entry["every_days"] for grade, entry in DEFAULT_PLAN["grades"].items()} == \
        {"H": 1, "A": 2, "B": 7, "C": 14, "N": 3}
    assert DEFAULT_PLAN["at"] == "10:00" and DEFAULT_PLAN["business_days"] is True
    assert validate_plan(DEFAULT_PLAN) == DEFAULT_PLAN
    assert validate_plan(DEFAULT_PLAN) is not DEFAULT_PLAN
    assert cadence_for("N", "initial_contact") == Cadence(3, "call", "10:00", True)


def test_the_next_follow_up_is_the_next_day_at_ten_in_the_stores_zone():
    after = local(SHANGHAI, 2026, 11, 24, 20, 45)  # a Tuesday evening
    assert next_due(after, "H", "initial_contact", None, WEEKDAYS) == \
        (local(SHANGHAI, 2026, 11, 25, 10, 0), "call")
    assert next_due(after, "H", "initial_contact", None, WEEKDAYS)[0].tzinfo is UTC
    # counted in local dates: 01:00 UTC on the 25th is already the 25th in Shanghai
    assert due(datetime(2026, 11, 24, 17, 0, tzinfo=UTC)) == local(SHANGHAI, 2026, 11, 26, 10, 0)


@pytest.mark.parametrize("grade, days", [("H", 1), ("A", 2), ("B", 7), ("C", 14), ("N", 3)])
def test_each_grade_its_interval(grade, days):
    start = local(SHANGHAI, 2026, 11, 2, 9, 0)  # a Monday
    assert due(start, grade, calendar=ALWAYS) == local(SHANGHAI, 2026, 11, 2 + days, 10, 0)


# -- business days --------------------------------------------------------------------

@pytest.mark.parametrize("completed, expected", [
    ((2026, 11, 26, 15, 0), (2026, 11, 27, 10, 0)),   # Thursday: Friday
    ((2026, 11, 27, 15, 0), (2026, 11, 30, 10, 0)),   # Friday: over the weekend to Monday
    ((2026, 11, 28, 11, 0), (2026, 11, 30, 10, 0)),   # Saturday (worked anyway): Monday
    ((2026, 11, 29, 11, 0), (2026, 11, 30, 10, 0)),   # Sunday: Monday
])
def test_h_daily_skips_the_weekend_of_a_monday_to_friday_store(completed, expected):
    assert due(local(SHANGHAI, *completed)) == local(SHANGHAI, *expected)


def test_golden_week_holidays_are_skipped():
    assert due(local(SHANGHAI, 2026, 9, 30, 16, 0)) == local(SHANGHAI, 2026, 10, 8, 10, 0)
    assert due(local(SHANGHAI, 2026, 9, 28, 16, 0), "B") == local(SHANGHAI, 2026, 10, 8, 10, 0)
    assert due(local(SHANGHAI, 2026, 10, 3, 16, 0), "A") == local(SHANGHAI, 2026, 10, 8, 10, 0)
    assert due(local(SHANGHAI, 2026, 9, 21, 16, 0), "C") == local(SHANGHAI, 2026, 10, 8, 10, 0)


def test_calendar_days_when_the_store_says_so():
    plan = {"business_days": False}
    assert due(local(SHANGHAI, 2026, 11, 27, 15, 0), plan=plan) == local(SHANGHAI, 2026, 11, 28, 10, 0)
    assert due(local(SHANGHAI, 2026, 9, 30, 15, 0), plan=plan) == local(SHANGHAI, 2026, 10, 1, 10, 0)
    # the hours are not read either: 07:00 stays 07:00
    assert due(local(SHANGHAI, 2026, 11, 24, 15, 0), plan={"business_days": False, "at": "07:00"}) == \
        local(SHANGHAI, 2026, 11, 25, 7, 0)


@pytest.mark.parametrize("at, expected", [
    ("10:00", (10, 0)),
    ("08:00", (9, 0)),    # before the opening: the opening
    ("12:30", (13, 0)),   # in the lunch break: after it
    ("17:59", (17, 59)),
    ("18:00", (9, 0)),    # closed for the day: the day's opening, the day is kept
    ("21:00", (9, 0)),
])
def test_a_time_outside_the_hours_moves_into_the_same_day(at, expected):
    assert due(local(SHANGHAI, 2026, 11, 24, 15, 0), plan={"at": at}, calendar=LUNCH) == \
        local(SHANGHAI, 2026, 11, 25, *expected)


def test_a_calendar_that_is_never_open_falls_back_to_calendar_days():
    never = Calendar("Asia/Shanghai", {"mon": []})
    assert due(local(SHANGHAI, 2026, 11, 27, 15, 0), calendar=never) == local(SHANGHAI, 2026, 11, 28, 10, 0)
    # open on Mondays only, and every Monday for two years a holiday
    mondays = [(date(2026, 11, 30) + timedelta(weeks=week)).isoformat() for week in range(110)]
    blocked = Calendar("Asia/Shanghai", {"mon": ["09:00-18:00"]}, mondays)
    assert due(local(SHANGHAI, 2026, 11, 27, 15, 0), calendar=blocked) == local(SHANGHAI, 2026, 11, 28, 10, 0)


# -- month ends -------------------------------------------------------------------------

@pytest.mark.parametrize("start, every_days, expected", [
    ((2026, 1, 31), 14, (2026, 2, 14)),
    ((2026, 1, 31), 30, (2026, 3, 2)),
    ((2028, 1, 31), 29, (2028, 2, 29)),
    ((2028, 2, 28), 1, (2028, 2, 29)),
    ((2028, 2, 29), 1, (2028, 3, 1)),
    ((2027, 2, 28), 1, (2027, 3, 1)),
    ((2026, 12, 31), 90, (2027, 3, 31)),
    ((2026, 12, 31), 1, (2027, 1, 1)),
])
def test_intervals_are_days_not_months(start, every_days, expected):
    plan = {"grades": {"C": {"every_days": every_days}}} if every_days >= 14 else \
        {"grades": {"H": {"every_days": every_days}}}
    grade = "C" if every_days >= 14 else "H"
    assert due(local(SHANGHAI, *start, 16, 0), grade, plan=plan, calendar=ALWAYS) == \
        local(SHANGHAI, *expected, 10, 0)


def test_a_month_end_on_a_weekend_moves_to_monday():
    assert due(local(SHANGHAI, 2026, 1, 31, 16, 0), "C") == local(SHANGHAI, 2026, 2, 16, 10, 0)


# -- daylight saving time ----------------------------------------------------------------

@pytest.mark.parametrize("zone, day_before, expected_utc", [
    # New York springs forward at 02:00 on 8 March 2026: 02:30 is the jump, 03:00 EDT
    ("America/New_York", (2026, 3, 7), datetime(2026, 3, 8, 7, 0, tzinfo=UTC)),
    # and falls back at 02:00 on 1 November: 02:30 exists once, EST
    ("America/New_York", (2026, 10, 31), datetime(2026, 11, 1, 7, 30, tzinfo=UTC)),
    # Berlin springs forward at 02:00 on 29 March 2026: 02:30 is 03:00 CEST
    ("Europe/Berlin", (2026, 3, 28), datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
    # and falls back at 03:00 on 25 October: 02:30 exists twice, the first (CEST)
    ("Europe/Berlin", (2026, 10, 24), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
])
def test_a_time_in_a_gap_or_fold_is_a_real_instant(zone, day_before, expected_utc):
    always = Calendar(zone, {})
    assert due(local(ZoneInfo(zone), *day_before, 12, 0), plan={"at": "02:30"}, calendar=always) == \
        expected_utc
    assert due(local(ZoneInfo(zone), *day_before, 12, 0), plan={"at": "02:30", "business_days": False},
               calendar=always) == expected_utc


def test_a_fold_in_new_york_is_its_first_occurrence():
    always = Calendar("America/New_York", {})
    assert due(local(NEW_YORK, 2026, 10, 31, 12, 0), plan={"at": "01:30"}, calendar=always) == \
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST


def test_on_a_dst_day_a_store_opens_at_its_wall_clock_time():
    berlin = Calendar("Europe/Berlin", {day: ["09:00-18:00"] for day in DAYS})
    assert due(local(BERLIN, 2026, 3, 28, 12, 0), plan={"at": "02:30"}, calendar=berlin) == \
        local(BERLIN, 2026, 3, 29, 9, 0)
    assert due(local(BERLIN, 2026, 10, 24, 12, 0), calendar=berlin) == local(BERLIN, 2026, 10, 25, 10, 0)


# -- grades, stages and plans --------------------------------------------------------------

def test_a_shorter_stage_entry_decides_with_its_own_kind_and_time():
    plan = {"stages": {"negotiation": {"every_days": 1, "kind": "wechat", "at": "16:00"}}}
    assert cadence_for("B", "negotiation", plan) == Cadence(1, "wechat", "16:00", True)
    assert cadence_for("B", "proposal", plan) == Cadence(7, "call", "10:00", True)


def test_a_stage_entry_that_is_not_shorter_leaves_the_grade_in_charge():
    plan = {"grades": {"H": {"kind": "sms", "at": "11:00"}},
            "stages": {"negotiation": {"every_days": 1, "kind": "wechat", "at": "16:00"}}}
    assert cadence_for("H", "negotiation", plan) == Cadence(1, "sms", "11:00", True)  # a tie
    assert cadence_for("A", "negotiation", {"stages": {"negotiation": {"every_days": 5}}}) == \
        Cadence(2, "call", "10:00", True)


def test_a_stage_entry_without_kind_or_time_takes_the_grades():
    plan = {"grades": {"C": {"kind": "wechat", "at": "15:00"}}, "at": "09:30",
            "stages": {"proposal": {"every_days": 3}}}
    assert cadence_for("C", "proposal", plan) == Cadence(3, "wechat", "15:00", True)
    assert cadence_for("B", "proposal", plan) == Cadence(3, "call", "09:30", True)


def test_a_store_sets_part_of_an_entry_and_the_defaults_fill_the_rest():
    plan = {"grades": {"B": {"every_days": 5}}, "at": "09:30"}
    assert cadence_for("B", "initial_contact", plan) == Cadence(5, "call", "09:30", True)
    assert cadence_for("H", "initial_contact", plan) == Cadence(1, "call", "09:30", True)
    assert due(local(SHANGHAI, 2026, 11, 23, 15, 0), "B", plan=plan) == local(SHANGHAI, 2026, 11, 30, 9, 30)


@pytest.mark.parametrize("grade, stage", [("O", "after_sales"), ("F", "negotiation"), ("O", None),
                                          ("H", "after_sales")])
def test_won_lost_and_after_sales_schedule_nothing(grade, stage):
    after = local(SHANGHAI, 2026, 11, 24, 15, 0)
    assert next_due(after, grade, stage, None, WEEKDAYS) is None
    assert reschedule(after + timedelta(days=1), after, grade, stage, None, WEEKDAYS) is None


@pytest.mark.parametrize("grade, stage", [("X", "proposal"), ("h", "proposal"), ("H", "won"), (None, None)])
def test_unknown_grades_and_stages_are_refused(grade, stage):
    with pytest.raises(ValueError):
        next_due(local(SHANGHAI, 2026, 11, 24, 15, 0), grade, stage, None, WEEKDAYS)


def test_naive_moments_are_refused():
    with pytest.raises(ValueError, match="aware"):
        next_due(datetime(2026, 11, 24, 15, 0), "H", "proposal", None, WEEKDAYS)
    with pytest.raises(ValueError, match="aware"):
        after_sales_plan(datetime(2026, 11, 24, 15, 0), None, WEEKDAYS)


def test_a_bad_plan_is_refused_when_used():
    with pytest.raises(PlanError):
        next_due(local(SHANGHAI, 2026, 11, 24, 15, 0), "H", "proposal", {"grades": {"H": 1}}, WEEKDAYS)


# -- rescheduling ---------------------------------------------------------------------------

def test_a_hotter_grade_brings_the_open_follow_up_forward():
    changed = local(SHANGHAI, 2026, 11, 24, 15, 0)
    in_a_week = local(SHANGHAI, 2026, 12, 1, 10, 0)
    assert reschedule(in_a_week, changed, "H", "proposal", None, WEEKDAYS) == local(SHANGHAI, 2026, 11, 25, 10, 0)


def test_a_colder_grade_never_pushes_a_promised_follow_up_later():
    changed = local(SHANGHAI, 2026, 11, 24, 15, 0)
    tomorrow = local(SHANGHAI, 2026, 11, 25, 10, 0)
    assert reschedule(tomorrow, changed, "C", "proposal", None, WEEKDAYS) == tomorrow
    overdue = local(SHANGHAI, 2026, 11, 23, 10, 0)
    assert reschedule(overdue, changed, "H", "proposal", None, WEEKDAYS) == overdue
    assert reschedule(tomorrow, changed, "C", "proposal", None, WEEKDAYS).tzinfo is UTC


def test_a_tighter_stage_brings_it_forward_too():
    plan = {"stages": {"negotiation": {"every_days": 1}}}
    changed = local(SHANGHAI, 2026, 11, 24, 15, 0)
    assert reschedule(local(SHANGHAI, 2026, 12, 1, 10, 0), changed, "B", "negotiation", plan, WEEKDAYS) == \
        local(SHANGHAI, 2026, 11, 25, 10, 0)


# -- after-sales care -------------------------------------------------------------------------

def test_care_plan_from_a_booked_delivery():
    won = local(SHANGHAI, 2026, 11, 20, 16, 0)
    delivery = local(SHANGHAI, 2026, 11, 27, 14, 30)  # a Friday
    assert after_sales_plan(won, delivery, WEEKDAYS) == [
        ("delivery", local(SHANGHAI, 2026, 11, 27, 14, 30), "delivery_day"),
        ("call", local(SHANGHAI, 2026, 11, 30, 10, 0), "day_3_call"),      # a Monday
        ("call", local(SHANGHAI, 2026, 12, 28, 10, 0), "day_30_call"),     # the 27th is a Sunday
    ]


def test_care_plan_with_an_unknown_delivery_estimates_it_a_week_after_the_win():
    won = local(SHANGHAI, 2026, 9, 25, 16, 0)  # a week later is in the golden week
    assert after_sales_plan(won, None, WEEKDAYS, {"at": "09:30"}) == [
        ("delivery", local(SHANGHAI, 2026, 10, 8, 9, 30), "delivery_day"),
        ("call", local(SHANGHAI, 2026, 10, 12, 9, 30), "day_3_call"),
        ("call", local(SHANGHAI, 2026, 11, 9, 9, 30), "day_30_call"),
    ]


def test_a_delivery_booked_outside_the_hours_stays_where_it_was_booked():
    saturday = local(SHANGHAI, 2026, 11, 28, 19, 0)
    plan = after_sales_plan(local(SHANGHAI, 2026, 11, 20, 16, 0), saturday, WEEKDAYS)
    assert plan[0] == ("delivery", saturday, "delivery_day") and plan[0][1].tzinfo is UTC
    assert plan[1][1] == local(SHANGHAI, 2026, 12, 1, 10, 0)


# -- validation ---------------------------------------------------------------------------------

@pytest.mark.parametrize("plan, field", [
    ([], None),
    ({"colour": "red"}, "colour"),
    ({"grades": []}, "grades"),
    ({"grades": {"O": {}}}, "grades.O"),
    ({"grades": {"h": {}}}, "grades.h"),
    ({"grades": {"H": 1}}, "grades.H"),
    ({"grades": {"H": {"every_days": 0}}}, "grades.H.every_days"),
    ({"grades": {"H": {"every_days": 91}}}, "grades.H.every_days"),
    ({"grades": {"H": {"every_days": 1.0}}}, "grades.H.every_days"),
    ({"grades": {"H": {"every_days": True}}}, "grades.H.every_days"),
    ({"grades": {"H": {"every_days": "1"}}}, "grades.H.every_days"),
    ({"grades": {"H": {"kind": "email"}}}, "grades.H.kind"),
    ({"grades": {"H": {"kind": ["call"]}}}, "grades.H.kind"),
    ({"grades": {"H": {"at": "24:00"}}}, "grades.H.at"),
    ({"grades": {"H": {"at": "9:30"}}}, "grades.H.at"),
    ({"grades": {"H": {"at": 930}}}, "grades.H.at"),
    ({"grades": {"H": {"every": 1}}}, "grades.H.every"),
    ({"grades": {"A": {"every_days": 10}}}, "grades.A.every_days"),   # rarer than B's default 7
    ({"grades": {"B": {"every_days": 1}}}, "grades.B.every_days"),    # more often than A's default 2
    ({"grades": {"B": {"every_days": 3}, "C": {"every_days": 2}}}, "grades.C.every_days"),
    ({"stages": {"after_sales": {"every_days": 1}}}, "stages.after_sales"),
    ({"stages": {"won": {"every_days": 1}}}, "stages.won"),
    ({"stages": {"proposal": {}}}, "stages.proposal.every_days"),
    ({"stages": {"proposal": {"every_days": 2, "kind": "fax"}}}, "stages.proposal.kind"),
    ({"at": "10:60"}, "at"),
    ({"business_days": "yes"}, "business_days"),
    ({"business_days": 1}, "business_days"),
])
def test_validation_names_the_field(plan, field):
    with pytest.raises(PlanError) as error:
        validate_plan(plan)
    assert error.value.field == field and isinstance(error.value, ValueError)


def test_a_valid_plan_comes_back_clean_and_unshared():
    plan = {"grades": {"H": {"every_days": 1, "kind": "wechat", "at": "09:00"}, "N": {"every_days": 90}},
            "stages": {"negotiation": {"every_days": 1}}, "at": "10:30", "business_days": False}
    clean = validate_plan(plan)
    assert clean == plan and clean["grades"] is not plan["grades"]
    assert validate_plan(None) == {} and validate_plan({}) == {}
    assert validate_plan({"grades": {"H": {}}}) == {"grades": {"H": {}}}


# -- properties ---------------------------------------------------------------------------------

ZONES = ("Asia/Shanghai", "America/New_York", "Europe/Berlin", "America/Santiago", "Australia/Lord_Howe",
         "Asia/Kolkata", "Pacific/Chatham", "UTC")
# spans that keep open time on a DST day in every zone above (no gap swallows them)
SPANS = (["09:00-18:00"], ["10:00-12:00", "13:00-21:00"], ["00:00-24:00"], ["08:30-11:30"])
CLOCKS = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 15, 30, 59]))


@st.composite
def stores(draw):
    """(calendar, after, the weekly hours it was made of), with holidays near
    ``after`` so that they matter."""
    after = draw(st.datetimes(datetime(2020, 1, 1), datetime(2035, 12, 31), timezones=st.just(UTC)))
    zone = draw(st.sampled_from(ZONES))
    if draw(st.integers(0, 9)) == 0:
        hours = {}
    else:
        hours = draw(st.dictionaries(st.sampled_from(DAYS), st.sampled_from(SPANS) | st.just([]), max_size=7))
    first = after.astimezone(ZoneInfo(zone)).date()
    holidays = draw(st.lists(st.integers(-1, 120), max_size=30).map(
        lambda offsets: sorted({(first + timedelta(days=offset)).isoformat() for offset in offsets})))
    return Calendar(zone, hours, holidays), after, hours


@st.composite
def plans(draw, own_times=True):
    """Valid plans: grade intervals in order H <= A <= B <= C."""
    plan = {}
    if draw(st.booleans()):
        days = sorted(draw(st.lists(st.integers(1, 90), min_size=4, max_size=4)))
        grades = {}
        for grade, every in zip(HOTTEST_FIRST, days):
            if draw(st.booleans()):
                grades[grade] = {"every_days": every}
        if draw(st.booleans()):
            grades["N"] = {"every_days": draw(st.integers(1, 90))}
        for entry in grades.values():
            if draw(st.booleans()):
                entry["kind"] = draw(st.sampled_from(KINDS))
            if own_times and draw(st.booleans()):
                entry["at"] = draw(CLOCKS)
        plan["grades"] = grades
    if draw(st.booleans()):
        plan["stages"] = draw(st.dictionaries(st.sampled_from(OPEN_STAGES), st.builds(
            dict, every_days=st.integers(1, 90)), max_size=4))
        if own_times:
            for entry in plan["stages"].values():
                if draw(st.booleans()):
                    entry["at"] = draw(CLOCKS)
    if draw(st.booleans()):
        plan["at"] = draw(CLOCKS)
    if draw(st.integers(0, 4)) == 0:
        plan["business_days"] = False
    try:
        validate_plan(plan)
    except PlanError:
        assume(False)  # only an H <= A <= B <= C clash with a default interval
    return plan


def open_day(store, day: date) -> bool:
    """The model: a day is open if it is not a holiday and its weekday has
    hours, or the store set no hours at all (open around the clock)."""
    calendar, _, hours = store
    if day.isoformat() in calendar.holidays:
        return False
    return hours == {} or bool(hours.get(DAYS[day.weekday()]))


def never_open(store) -> bool:
    """Hours given, none of them on any day: the calendar-days fallback."""
    hours = store[2]
    return hours != {} and not any(hours.values())


GRADE = st.sampled_from(PLAN_GRADES)
STAGE = st.sampled_from(OPEN_STAGES + (None,))


@given(stores(), GRADE, STAGE, plans())
def test_due_is_strictly_after_and_on_the_first_open_day_from_the_counted_one(store, grade, stage, plan):
    calendar, after, _ = store
    due_at, kind = next_due(after, grade, stage, plan, calendar)
    cadence = cadence_for(grade, stage, plan)
    assert due_at > after and due_at.tzinfo is UTC and kind == cadence.kind
    counted = after.astimezone(calendar.zone).date() + timedelta(days=cadence.every_days)
    day = due_at.astimezone(calendar.zone).date()
    if cadence.business_days and not never_open(store):
        assert calendar.is_open(due_at) and open_day(store, day)
        assert counted <= day
        assert all(not open_day(store, counted + timedelta(days=n)) for n in range((day - counted).days))
        planned = datetime.combine(day, time.fromisoformat(cadence.at), calendar.zone)
        if planned.astimezone(UTC).astimezone(calendar.zone) == planned and calendar.is_open(planned):
            assert due_at == planned  # the plan's time when the store is open then
        else:
            assert not calendar.is_open(due_at - timedelta(microseconds=1))  # an opening
    else:
        assert day == counted


@given(stores(), STAGE, plans(own_times=False))
def test_a_hotter_grade_is_never_due_later_than_a_colder_one(store, stage, plan):
    calendar, after, _ = store
    dues = [next_due(after, grade, stage, plan, calendar)[0] for grade in HOTTEST_FIRST]
    assert dues == sorted(dues)


@given(stores(), GRADE, STAGE, plans(), st.integers(-5 * 24 * 60, 40 * 24 * 60))
def test_reschedule_is_never_later_than_the_current_due(store, grade, stage, plan, minutes):
    calendar, changed, _ = store
    open_due = changed + timedelta(minutes=minutes)
    moved = reschedule(open_due, changed, grade, stage, plan, calendar)
    assert moved <= open_due
    assert moved in (open_due, next_due(changed, grade, stage, plan, calendar)[0])


@given(stores(), st.booleans(), plans())
def test_care_plan_runs_in_order_after_the_win(store, known, plan):
    calendar, won, _ = store
    delivery = won + timedelta(days=2, hours=3) if known else None
    tasks = after_sales_plan(won, delivery, calendar, plan)
    assert [kind for kind, _, _ in tasks] == ["delivery", "call", "call"]
    dues = [due_at for _, due_at, _ in tasks]
    assert won < dues[0] < dues[1] < dues[2] and all(due_at.tzinfo is UTC for due_at in dues)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=12)
FIELD_VALUES = JSON | st.integers(-2, 100) | st.sampled_from(KINDS + ("10:00", "24:00", "fax"))
ENTRIES = st.dictionaries(st.sampled_from(GRADE_KEYS + ("x",)), FIELD_VALUES, max_size=4)
SECTIONS = st.dictionaries(st.sampled_from(PLAN_GRADES + OPEN_STAGES + ("O", "after_sales", "")),
                           ENTRIES | JSON, max_size=5)
PLAN_LIKE = st.dictionaries(st.sampled_from(PLAN_KEYS + ("x",)), SECTIONS | FIELD_VALUES, max_size=5)


@given(JSON | PLAN_LIKE)
def test_validation_raises_nothing_but_plan_error_on_any_json(value):
    try:
        clean = validate_plan(value)
    except PlanError as error:
        assert error.field is None or isinstance(error.field, str)
        return
    assert validate_plan(clean) == clean
    for grade in PLAN_GRADES:
        for stage in OPEN_STAGES:
            assert cadence_for(grade, stage, clean) is not None
