"""Cadence plans (issue 9): when a lead's next follow-up is due, by its grade
and stage, in its store's business days. Pure: no database, no nameko; the
store's hours, holidays and time zone come in as a ``dealerflow.hours.Calendar``.

A plan is what a store saves (JSON)::

    {"grades": {"H": {"every_days": 1, "kind": "call", "at": "10:00"}, ...},
     "stages": {"negotiation": {"every_days": 1}},
     "at": "10:00", "business_days": true}

Every key is optional; whatever a store leaves out comes from ``DEFAULT_PLAN``.
``validate_plan`` gives the cleaned plan or a ``PlanError`` naming the field.

Decisions (issue 9 and DESIGN.md "Domain defaults"):

Defaults
- H every day, A every 2 days, B every 7, C every 14: the issue's "H daily,
  A every 2 days, B weekly, C every two weeks".
- N (not yet graded) every 3 days: a new lead with no stated timeframe is
  called again soon enough to grade it (the consultant's next step), but not
  as often as a lead known to buy within 15 days (A).
- Kind ``call`` for every grade: the one kind every store can do.
- At 10:00 local time: after a store's opening and morning meeting
  (stores open at 09:00-09:30), when customers are awake and reachable.
- ``DEFAULT_PLAN`` has no stage entries: by default the cadence is the grade's,
  as the issue states; a store adds stage entries to shorten it.
- Business days only: days the store is closed (no hours that weekday) and
  its holidays are skipped.

Grade, stage and which entry decides
- The grade entry is the store's entry for the grade, field by field over
  ``DEFAULT_PLAN``'s (a store may set only ``every_days`` and keep the kind).
- A stage entry (``every_days`` required, ``kind`` and ``at`` optional) applies
  only when its interval is strictly shorter than the grade entry's; then it
  decides the interval, and its ``kind``/``at`` where it gives them (else the
  grade entry's). Otherwise (no stage entry, a longer one, or a tie) the grade
  entry decides everything. So the interval is always
  ``min(grade every_days, stage every_days)``: a stage can make follow-ups more
  frequent, never rarer.
- A time of day is the entry's own ``at``, else the plan's ``at``, else
  ``DEFAULT_PLAN``'s (which is why ``DEFAULT_PLAN``'s entries have no ``at``:
  a store that sets ``"at": "09:30"`` moves every grade).
- Hotter grades are followed up at least as often: ``validate_plan`` refuses a
  plan whose effective intervals do not satisfy H <= A <= B <= C (N stands
  apart). With one time of day for all entries, a hotter grade is then never
  due later than a colder one from the same moment; per-entry ``at`` values
  are the store's own choice and may order two grades' tasks on the same day
  differently.
- Stages in a plan are the open funnel stages (initial_contact,
  needs_confirmed, proposal, negotiation); ``after_sales`` follows a win and has
  its own care plan (``after_sales_plan``).

When the next one is due (``next_due``)
- Counted in days, not hours: the local date of ``after`` in the store's zone
  plus ``every_days`` (whatever the time of ``after``: a call completed at
  20:00 and one at 09:00 both lead to the same next day). No month arithmetic:
  Jan 31 + 14 days is Feb 14, + 29 days in 2028 is Feb 29.
- With ``business_days`` that date moves forward to the next open business
  day (a day with open hours that is not a holiday); so the due date is at most
  ``every_days`` + (closed days in a row from the counted date) after ``after``.
- On that day the task is due at the plan's local time if the store is open
  then; else at the first open moment of that day after it (after the lunch
  break, after the opening); if the store has closed for the day by then, at
  that day's opening. The day counted is kept either way: the cadence promises
  the day, the time of day is a preference.
- Without ``business_days`` the calendar gives only the time zone: the task is
  due on the counted date at the plan's time, whatever the hours.
- Wall-clock times are read as ``dealerflow/hours.py`` reads span ends: a time
  that does not exist (a spring-forward gap) is the instant the clock jumps
  (02:30 on New York's spring-forward day is 03:00 EDT); a time that exists
  twice (a fall-back fold) is its first occurrence (02:30 on Berlin's
  fall-back day is 02:30 CEST).
- A calendar with no open time (no hours on any day, or no open day within
  ``hours.SEARCH_DAYS``) falls back to calendar days, as above, so that a
  misconfigured store still gets follow-ups; nothing loops forever.
- The due is always strictly after ``after`` and comes back in UTC.
- O (won) and F (lost) give None: winning and losing close what is open (a
  win starts ``after_sales_plan``), nothing is scheduled by the cadence. So
  does the ``after_sales`` stage, whatever the grade.
- The first contact of a newly assigned lead is the response SLA's (the leads
  service sets its deadline); ``next_due`` plans the follow-ups after it.

After-sales care (``after_sales_plan``)
- A ``delivery`` task at ``delivery_at`` exactly, as booked with the customer
  (not moved into business hours; in the past if the delivery was recorded
  late: the caller decides whether to create it done). Unknown delivery: due
  7 days after the win's local date, on a business day at the plan's time
  (an estimate the consultant moves when the date is agreed).
- A ``call`` 3 days and a ``call`` 30 days after the delivery's local date
  (the estimated one if unknown), each on a business day at the plan's time,
  by the same rules as ``next_due``.
- Labels are stable keys for the web app to translate: ``delivery_day``,
  ``day_3_call``, ``day_30_call``.
- The plan's ``at`` and ``business_days`` apply (optional ``plan`` argument).

Rescheduling after a grade or stage change (``reschedule``)
- The open task is due at the earlier of its current due and
  ``next_due(changed_at, new grade, new stage)``: a hotter grade or a tighter
  stage brings it forward, a colder one never pushes an already promised
  follow-up later (the completed follow-up after it then runs on the new, colder
  cadence). An overdue task stays overdue. The task keeps its kind.
- A change to O or F (or to ``after_sales``) gives None: close the task.
"""
import re
from datetime import date, datetime, timedelta, timezone
from typing import NamedTuple
from zoneinfo import ZoneInfo

from dealerflow.contracts import STAGES
from dealerflow.hours import Calendar, NeverOpen

KINDS = ("call", "wechat", "sms", "invitation", "test_drive", "quote", "delivery", "care_visit")
PLAN_GRADES = ("H", "A", "B", "C", "N")   # graded open leads; O and F close what is open
HOTTEST_FIRST = ("H", "A", "B", "C")      # each followed up at least as often as the next
CLOSED_GRADES = ("O", "F")
OPEN_STAGES = STAGES[:-1]                 # after_sales has its own care plan
MAX_EVERY_DAYS = 90
CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")

PLAN_KEYS = ("grades", "stages", "at", "business_days")
GRADE_KEYS = ("every_days", "kind", "at")
STAGE_KEYS = ("every_days", "kind", "at")

DEFAULT_PLAN = {
    "grades": {
        "H": {"every_days": 1, "kind": "call"},
        "A": {"every_days": 2, "kind": "call"},
        "B": {"every_days": 7, "kind": "call"},
        "C": {"every_days": 14, "kind": "call"},
        "N": {"every_days": 3, "kind": "call"},
    },
    "stages": {},
    "at": "10:00",
    "business_days": True,
}

ESTIMATED_DELIVERY_DAYS = 7
CARE_CALLS = ((3, "day_3_call"), (30, "day_30_call"))


class PlanError(ValueError):
    """A plan that cannot be stored; ``field`` names the input at fault
    (``"grades.H.every_days"``; None for the plan as a whole)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class Cadence(NamedTuple):
    """What applies to one grade and stage: every ``every_days`` days a task of
    ``kind`` at the local time ``at``, on business days or calendar days."""
    every_days: int
    kind: str
    at: str
    business_days: bool


# -- validation ----------------------------------------------------------------------

def _entry(value, field: str, keys: tuple, every_days_required: bool) -> dict:
    if not isinstance(value, dict):
        raise PlanError("an entry is an object with every_days, kind, at", field)
    unknown = [key for key in value if key not in keys]
    if unknown:
        raise PlanError(f"unknown field {unknown[0]!r} (an entry has {', '.join(keys)})",
                        f"{field}.{unknown[0]}")
    if every_days_required and "every_days" not in value:
        raise PlanError("every_days is required", f"{field}.every_days")
    clean = {}
    if "every_days" in value:
        days = value["every_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_EVERY_DAYS:
            raise PlanError(f"every_days must be a whole number from 1 to {MAX_EVERY_DAYS}",
                            f"{field}.every_days")
        clean["every_days"] = days
    if "kind" in value:
        if not isinstance(value["kind"], str) or value["kind"] not in KINDS:
            raise PlanError(f"kind must be one of {', '.join(KINDS)}", f"{field}.kind")
        clean["kind"] = value["kind"]
    if "at" in value:
        clean["at"] = _clock(value["at"], f"{field}.at")
    return clean


def _clock(value, field: str) -> str:
    if not isinstance(value, str) or CLOCK.fullmatch(value) is None:
        raise PlanError("a time of day is 'HH:MM' (00:00 to 23:59)", field)
    return value


def _section(plan: dict, name: str, allowed: tuple, every_days_required: bool) -> dict:
    section = plan[name]
    if not isinstance(section, dict):
        raise PlanError(f"{name} map {', '.join(allowed)} to entries", name)
    clean = {}
    for key, value in section.items():
        if key not in allowed:
            raise PlanError(f"{key!r} is not one of {', '.join(allowed)}", f"{name}.{key}")
        clean[key] = _entry(value, f"{name}.{key}", GRADE_KEYS if name == "grades" else STAGE_KEYS,
                            every_days_required)
    return clean


def validate_plan(plan) -> dict:
    """The plan as a store should save it (only the keys it gave, in new
    dicts), or ``PlanError`` naming the field: known keys only at every level;
    grades H A B C N; stages the open ones; ``every_days`` a whole number 1..90
    (required in a stage entry); ``kind`` one of ``KINDS``; ``at`` 'HH:MM';
    ``business_days`` true or false; and, with ``DEFAULT_PLAN`` filling the
    gaps, H A B C each followed up at least as often as the next. None is the
    empty plan (all defaults)."""
    if plan is None:
        return {}
    if not isinstance(plan, dict):
        raise PlanError("a plan is an object with grades, stages, at, business_days")
    unknown = [key for key in plan if key not in PLAN_KEYS]
    if unknown:
        raise PlanError(f"unknown field {unknown[0]!r} (a plan has {', '.join(PLAN_KEYS)})",
                        str(unknown[0]))
    clean = {}
    if "grades" in plan:
        clean["grades"] = _section(plan, "grades", PLAN_GRADES, every_days_required=False)
    if "stages" in plan:
        clean["stages"] = _section(plan, "stages", OPEN_STAGES, every_days_required=True)
    if "at" in plan:
        clean["at"] = _clock(plan["at"], "at")
    if "business_days" in plan:
        if not isinstance(plan["business_days"], bool):
            raise PlanError("business_days is true or false", "business_days")
        clean["business_days"] = plan["business_days"]
    _check_order(clean.get("grades", {}))
    return clean


def _check_order(grades: dict) -> None:
    """H <= A <= B <= C in days between follow-ups, defaults filling the gaps;
    the error names the entry the store set (the colder one if both)."""
    def days(grade):
        return grades.get(grade, {}).get("every_days", DEFAULT_PLAN["grades"][grade]["every_days"])

    for hotter, colder in zip(HOTTEST_FIRST, HOTTEST_FIRST[1:]):
        if days(colder) < days(hotter):
            named = colder if "every_days" in grades.get(colder, {}) else hotter
            raise PlanError(f"{colder} every {days(colder)} days would be followed up more often than "
                            f"{hotter} every {days(hotter)}: a hotter grade is followed up at least "
                            "as often as a colder one", f"grades.{named}.every_days")


# -- which cadence applies -------------------------------------------------------------

def cadence_for(grade: str, stage: str | None, plan: dict | None = None) -> Cadence | None:
    """The cadence of an open lead of ``grade`` in ``stage`` under ``plan``
    (validated here; None: ``DEFAULT_PLAN``), or None for O, F and the
    ``after_sales`` stage (nothing by cadence). ValueError for an unknown
    grade or stage, PlanError for a bad plan. Precedence: the module doc."""
    if grade in CLOSED_GRADES or stage == STAGES[-1]:
        return None
    if grade not in PLAN_GRADES:
        raise ValueError(f"unknown grade {grade!r} (grades are {' '.join(PLAN_GRADES + CLOSED_GRADES)})")
    if stage is not None and stage not in OPEN_STAGES:
        raise ValueError(f"unknown stage {stage!r} (stages are {', '.join(STAGES)})")
    clean = validate_plan(plan)
    at = clean.get("at", DEFAULT_PLAN["at"])
    business_days = clean.get("business_days", DEFAULT_PLAN["business_days"])
    by_grade = {**DEFAULT_PLAN["grades"][grade], **clean.get("grades", {}).get(grade, {})}
    by_stage = {**DEFAULT_PLAN["stages"], **clean.get("stages", {})}.get(stage)
    if by_stage is not None and by_stage["every_days"] < by_grade["every_days"]:
        return Cadence(by_stage["every_days"], by_stage.get("kind", by_grade["kind"]),
                       by_stage.get("at", by_grade.get("at", at)), business_days)
    return Cadence(by_grade["every_days"], by_grade["kind"], by_grade.get("at", at), business_days)


# -- when ------------------------------------------------------------------------------

def next_due(after: datetime, grade: str, stage: str | None, plan: dict | None,
             calendar: Calendar) -> tuple[datetime, str] | None:
    """The next follow-up after one completed (or an assignment or change) at
    ``after`` (aware): ``(due in UTC, kind)``, or None for O, F and
    ``after_sales`` (close what is open). See the module doc for the rules."""
    cadence = cadence_for(grade, stage, plan)
    if cadence is None:
        return None
    start = _aware(after, "after")
    day = start.astimezone(calendar.zone).date() + timedelta(days=cadence.every_days)
    return _due_after(start, day, cadence, calendar), cadence.kind


def reschedule(open_due: datetime, changed_at: datetime, grade: str, stage: str | None,
               plan: dict | None, calendar: Calendar) -> datetime | None:
    """When an open follow-up is due after the lead's grade or stage changed at
    ``changed_at``: the earlier of ``open_due`` and ``next_due`` under the new
    grade and stage, in UTC; None when the change closes it (O, F,
    after_sales)."""
    current = _aware(open_due, "open_due").astimezone(timezone.utc)
    following = next_due(changed_at, grade, stage, plan, calendar)
    if following is None:
        return None
    return min(current, following[0])


def after_sales_plan(won_at: datetime, delivery_at: datetime | None, calendar: Calendar,
                     plan: dict | None = None) -> list[tuple[str, datetime, str]]:
    """The care plan a win starts: ``[(kind, due in UTC, label), ...]`` for the
    delivery day, the 3-day call and the 30-day call, in that order. See the
    module doc for an unknown delivery date."""
    clean = validate_plan(plan)
    cadence = Cadence(0, "call", clean.get("at", DEFAULT_PLAN["at"]),
                      clean.get("business_days", DEFAULT_PLAN["business_days"]))
    won = _aware(won_at, "won_at")
    if delivery_at is not None:
        delivered = _aware(delivery_at, "delivery_at").astimezone(timezone.utc)
    else:
        day = won.astimezone(calendar.zone).date() + timedelta(days=ESTIMATED_DELIVERY_DAYS)
        delivered = _due_after(won, day, cadence, calendar)
    tasks = [("delivery", delivered, "delivery_day")]
    delivery_day = delivered.astimezone(calendar.zone).date()
    for days, label in CARE_CALLS:
        tasks.append(("call", _due_after(delivered, delivery_day + timedelta(days=days), cadence, calendar),
                      label))
    return tasks


def _due_after(after: datetime, day: date, cadence: Cadence, calendar: Calendar) -> datetime:
    """The due on ``day`` (or the next business day), strictly after
    ``after``: a later local date is always later, except in a zone whose clock
    falls back across midnight; then the next day is tried (a few at most)."""
    for _ in range(8):
        due = _due_on(day, cadence, calendar)
        if due > after:
            return due
        day += timedelta(days=1)
    raise AssertionError(f"no due after {after} near {day} in {calendar!r}")  # pragma: no cover


def _due_on(day: date, cadence: Cadence, calendar: Calendar) -> datetime:
    zone = calendar.zone
    minute = int(cadence.at[:2]) * 60 + int(cadence.at[3:])
    if cadence.business_days:
        try:
            opening = calendar.add_minutes(_wall(zone, day, 0), 0)
        except NeverOpen:  # no open time at all: calendar days
            return _wall(zone, day, minute)
        day = opening.astimezone(zone).date()  # the first open business day from ``day``
        try:
            planned = calendar.add_minutes(_wall(zone, day, minute), 0)
        except NeverOpen:
            return opening
        return planned if planned.astimezone(zone).date() == day else opening
    return _wall(zone, day, minute)


def _wall(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The instant (UTC) the local clock first shows ``minute`` of ``day``:
    its first occurrence in a fold, the jump in a gap (as ``hours`` reads
    span ends)."""
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60)
    first = wall.replace(tzinfo=zone).astimezone(timezone.utc)  # fold=0: the first occurrence
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    # in a gap: the offsets either side of the jump read it as two instants; the
    # jump is the first second between them whose clock is past the wall time
    other = wall.replace(tzinfo=zone, fold=1).astimezone(timezone.utc)
    low, high = sorted((int(first.timestamp()), int(other.timestamp())))
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, timezone.utc)


def _aware(moment, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime, not {moment!r}")
    return moment
