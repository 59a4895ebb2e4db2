"""Who gets a lead: routing rules, who may take it, and how one is chosen.
Pure functions over dicts and dataclasses; the leads service loads the rows.

A rule::

    {"id": "r-1", "store_code": "SH-PUDONG",   # None: a group rule, for every store
     "priority": 10,                          # 0..10000, lower first
     "name": "Autohome BYD leads to the EV team", "active": True,
     "conditions": {"sources": ["autohome*"], "brands": ["BYD"]},
     "target": {"kind": "team", "store_code": None, "team_id": "t-ev"},
     "strategy": "least_loaded"}

Conditions (all optional; a missing or empty one matches everything; the
values of one condition are alternatives (OR), different conditions must all
hold (AND); a condition on a fact that is None does not match):

- ``channels`` [str], ``languages`` [str], ``brands`` [str]: equal, ignoring case;
- ``sources``, ``models``, ``cities`` [shell wildcards: ``*``, ``?``, ``[..]``],
  ignoring case; a region is written as its list of cities;
- ``condition``: "new" or "used";
- ``grades`` [letters of H A B C N];
- ``hours`` {"from": "HH:MM", "to": "HH:MM"}: the store's local time of day in
  [from, to); ``to`` before ``from`` wraps past midnight;
- ``days`` ["mon", ...]: the store's local weekday. Days and hours are
  checked apart: Saturday 01:00 does not match days ["fri"] with hours
  22:00-02:00.

Facts about a lead: ``{"channel", "source", "brand", "model", "condition",
"city", "language", "grade", "store_code"}``.

Targets: ``kind`` "store" (that store's consultants; ``store_code`` None
means the lead's own store, another store's code sends the lead there),
"team" (the consultants of ``team_id``, which is required), "pool" (no one:
the lead goes to the claim pool, 公海, for consultants to take).
``target_of(rule, facts)`` fills in a missing store with the lead's.
"""
import fnmatch
import re
from dataclasses import dataclass, field
from datetime import datetime

from dealerflow.contracts import CHANNELS
from dealerflow.hours import DAYS, Calendar, calendar_for, on_leave

STRATEGIES = ("round_robin", "least_loaded", "weighted", "sticky")
TARGET_KINDS = ("store", "team", "pool")
GRADES = ("H", "A", "B", "C", "N")
CONDITIONS = ("channels", "sources", "brands", "models", "condition", "cities", "languages",
              "grades", "hours", "days")
RULE_FIELDS = ("id", "store_code", "priority", "name", "active", "conditions", "target", "strategy")
MAX_PRIORITY, MAX_PATTERNS, MAX_PATTERN = 10000, 50, 100
STORE_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,31}")
CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
CONSULTANT = "consultant"
UNLIMITED_CAPACITY = 100  # what "no daily limit" weighs against a capacity in ``weighted``

# which fact each condition reads, and how it compares
_EXACT = {"channels": "channel", "languages": "language", "brands": "brand"}
_WILDCARD = {"sources": "source", "models": "model", "cities": "city"}


class RuleError(ValueError):
    """A rule that cannot be stored; ``field`` names the input at fault
    (``"conditions.sources"``, ``"target.team_id"``)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


# -- validation ----------------------------------------------------------------------

def validate_rule(rule) -> dict:
    """The rule as it should be stored, with every field present, or
    ``RuleError``. ``id`` may be None (the caller gives it one on insert);
    defaults: ``store_code`` None, ``active`` True, ``conditions`` {},
    ``strategy`` "round_robin". ``name``, ``priority`` and ``target`` are
    required. Unknown fields and condition keys are errors; condition values
    come back trimmed, deduplicated and in their canonical case (grades upper,
    day names lower)."""
    if not isinstance(rule, dict):
        raise RuleError("a rule is an object", None)
    unknown = sorted(set(rule) - set(RULE_FIELDS))
    if unknown:
        raise RuleError(f"unknown field {unknown[0]!r} (a rule has {', '.join(RULE_FIELDS)})", unknown[0])
    rule_id = rule.get("id")
    if rule_id is not None and not (isinstance(rule_id, str) and 1 <= len(rule_id) <= 64):
        raise RuleError("id must be 1-64 characters", "id")
    store_code = _store_code(rule.get("store_code"), "store_code")
    name = rule.get("name")
    if not isinstance(name, str) or not 1 <= len(name.strip()) <= 100:
        raise RuleError("name must be 1-100 characters", "name")
    priority = rule.get("priority")
    if isinstance(priority, bool) or not isinstance(priority, int) or not 0 <= priority <= MAX_PRIORITY:
        raise RuleError(f"priority must be a whole number from 0 to {MAX_PRIORITY}", "priority")
    active = rule.get("active", True)
    if not isinstance(active, bool):
        raise RuleError("active must be true or false", "active")
    strategy = rule.get("strategy", "round_robin")
    if strategy not in STRATEGIES:
        raise RuleError(f"strategy must be one of {', '.join(STRATEGIES)}", "strategy")
    return {"id": rule_id, "store_code": store_code, "priority": priority, "name": name.strip(),
            "active": active, "conditions": _conditions({} if rule.get("conditions") is None else rule["conditions"]),
            "target": _target(rule.get("target")), "strategy": strategy}


def _store_code(value, where: str):
    if value is not None and not (isinstance(value, str) and STORE_CODE.fullmatch(value)):
        raise RuleError(f"{where} must be a store code (A-Z, 0-9, '-') or null", where)
    return value


def _target(target) -> dict:
    if not isinstance(target, dict):
        raise RuleError("target must be an object {kind, store_code, team_id}", "target")
    unknown = sorted(set(target) - {"kind", "store_code", "team_id"})
    if unknown:
        raise RuleError(f"unknown target field {unknown[0]!r}", f"target.{unknown[0]}")
    kind = target.get("kind")
    if kind not in TARGET_KINDS:
        raise RuleError(f"target.kind must be one of {', '.join(TARGET_KINDS)}", "target.kind")
    team_id = target.get("team_id")
    if team_id is not None and not (isinstance(team_id, str) and 1 <= len(team_id) <= 64):
        raise RuleError("target.team_id must be 1-64 characters", "target.team_id")
    if kind == "team" and team_id is None:
        raise RuleError("a team target needs target.team_id", "target.team_id")
    return {"kind": kind, "store_code": _store_code(target.get("store_code"), "target.store_code"),
            "team_id": team_id}


# conditions whose values come from a closed list: (the list, how a value is folded, what one is)
CLOSED_LISTS = {"grades": (GRADES, str.upper, "a grade"), "days": (DAYS, str.lower, "a day"),
                "channels": (CHANNELS, str.lower, "a channel")}


def _conditions(conditions) -> dict:
    if not isinstance(conditions, dict):
        raise RuleError("conditions must be an object", "conditions")
    unknown = sorted(set(conditions) - set(CONDITIONS))
    if unknown:
        raise RuleError(f"unknown condition {unknown[0]!r} (conditions are {', '.join(CONDITIONS)})",
                        f"conditions.{unknown[0]}")
    clean = {}
    for key in CONDITIONS:
        value = conditions.get(key)
        if value is None or value == [] or value == {} or value == "":
            continue
        where = f"conditions.{key}"
        if key == "condition":
            if value not in ("new", "used"):
                raise RuleError("condition must be 'new' or 'used'", where)
            clean[key] = value
        elif key == "hours":
            clean[key] = _window(value, where)
        else:
            words = _words(value, where)
            if key in CLOSED_LISTS:
                known, fold, what = CLOSED_LISTS[key]
                words = [fold(word) for word in words]
                bad = [word for word in words if word not in known]
                if bad:
                    raise RuleError(f"{bad[0]!r} is not {what} ({', '.join(known)})", where)
            clean[key] = list(dict.fromkeys(words))
    return clean


def _words(value, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(word, str) for word in value):
        raise RuleError(f"{where} must be a list of strings", where)
    if len(value) > MAX_PATTERNS:
        raise RuleError(f"{where} may have at most {MAX_PATTERNS} values", where)
    words = [word.strip() for word in value]
    if not all(1 <= len(word) <= MAX_PATTERN for word in words):
        raise RuleError(f"each of {where} must be 1-{MAX_PATTERN} characters", where)
    return words


def _window(value, where: str) -> dict:
    if not isinstance(value, dict) or set(value) != {"from", "to"}:
        raise RuleError(f"{where} must be {{\"from\": \"HH:MM\", \"to\": \"HH:MM\"}}", where)
    for end in ("from", "to"):
        if not isinstance(value[end], str) or not CLOCK.fullmatch(value[end]):
            raise RuleError(f"{where}.{end} must be a time HH:MM (00:00-23:59)", f"{where}.{end}")
    if value["from"] == value["to"]:
        raise RuleError(f"{where}: from and to are the same time (leave hours out for all day)", where)
    return {"from": value["from"], "to": value["to"]}


# -- matching ------------------------------------------------------------------------

def _minute(clock: str) -> int:
    return int(clock[:2]) * 60 + int(clock[3:])


class CompiledRule:
    """A rule with its conditions turned into quick tests; ``rule`` is the
    cleaned dict."""

    __slots__ = ("rule", "checks", "days", "window")

    def __init__(self, rule: dict):
        self.rule = rule
        conditions = rule["conditions"]
        checks = []
        for key, fact in _EXACT.items():
            if key in conditions:
                checks.append((fact, frozenset(word.casefold() for word in conditions[key]).__contains__))
        for key, fact in _WILDCARD.items():
            if key in conditions:
                pattern = "|".join(fnmatch.translate(word.casefold()) for word in conditions[key])
                checks.append((fact, re.compile(pattern, re.IGNORECASE).match))
        if "condition" in conditions:
            checks.append(("condition", conditions["condition"].__eq__))
        if "grades" in conditions:
            checks.append(("grade", frozenset(conditions["grades"]).__contains__))
        self.checks = tuple(checks)
        self.days = frozenset(DAYS.index(day) for day in conditions["days"]) if "days" in conditions else None
        window = conditions.get("hours")
        self.window = (_minute(window["from"]), _minute(window["to"])) if window else None

    def matches(self, facts: dict, weekday: int, minute: int) -> bool:
        if self.days is not None and weekday not in self.days:
            return False
        if self.window is not None:
            start, end = self.window
            if not (start <= minute < end if start < end else minute >= start or minute < end):
                return False
        for fact, test in self.checks:
            value = facts.get(fact)
            if value is None:
                return False
            if not test(value.casefold() if fact != "grade" else value.upper()):
                return False
        return True


class RuleSet:
    """Rules compiled once (``compile_rules``) and asked per lead."""

    def __init__(self, rules):
        cleaned = [validate_rule(rule) for rule in rules]
        order = sorted(range(len(cleaned)), key=lambda i: (cleaned[i]["priority"], cleaned[i]["id"] or "", i))
        self.by_store: dict[str, list[CompiledRule]] = {}
        self.group: list[CompiledRule] = []
        for i in order:
            rule = cleaned[i]
            if not rule["active"]:
                continue
            compiled = CompiledRule(rule)
            if rule["store_code"] is None:
                self.group.append(compiled)
            else:
                self.by_store.setdefault(rule["store_code"], []).append(compiled)

    def pick(self, facts: dict, local_moment: datetime) -> dict | None:
        """The first active rule that matches: the lead's store's rules in
        priority order, then the group's; None when no rule matches.
        ``local_moment`` is the store's local time (its weekday and wall clock
        are what ``days`` and ``hours`` compare)."""
        weekday, minute = local_moment.weekday(), local_moment.hour * 60 + local_moment.minute
        for compiled in self.by_store.get(facts.get("store_code"), ()):
            if compiled.matches(facts, weekday, minute):
                return compiled.rule
        for compiled in self.group:
            if compiled.matches(facts, weekday, minute):
                return compiled.rule
        return None


def compile_rules(rules) -> RuleSet:
    """Validate (``RuleError`` for a bad one) and compile rules once; ask the
    result ``.pick(facts, local_moment)`` per lead. Equal priorities are taken
    in order of id, then of the list."""
    return RuleSet(rules)


def pick_rule(rules, facts: dict, local_moment: datetime) -> dict | None:
    """``compile_rules(rules).pick(facts, local_moment)``, for one lead."""
    return compile_rules(rules).pick(facts, local_moment)


def target_of(rule: dict, facts: dict) -> dict:
    """The rule's target with a missing ``store_code`` of a "store" or "team"
    target read as the lead's store."""
    target = dict(rule["target"])
    if target["kind"] != "pool" and target["store_code"] is None:
        target["store_code"] = facts.get("store_code")
    return target


# -- who may take a lead -------------------------------------------------------------

@dataclass(slots=True)
class Candidate:
    """A consultant as routing sees them. ``shift``: weekly hours (empty:
    the store's business hours); ``leave``: [{"start", "end"}] local dates,
    both included; ``daily_capacity`` None: no limit."""
    user_id: str
    team_id: str | None = None
    store_code: str | None = None
    active: bool = True
    role: str = CONSULTANT
    shift: dict = field(default_factory=dict)
    leave: list = field(default_factory=list)
    daily_capacity: int | None = None
    assigned_today: int = 0
    open_leads: int = 0


def ineligibility(candidate: Candidate, now_utc: datetime, store_calendar: Calendar) -> str | None:
    """None if the candidate may take a lead now, else why not, checked in
    this order: "inactive", "not_consultant", "on_leave" (the store's local
    date is in a leave period), "off_shift" (outside their shift, read in the
    store's time zone and off on its holidays; an empty shift is the store's
    business hours), "at_capacity" (``assigned_today >= daily_capacity``)."""
    if not candidate.active:
        return "inactive"
    if candidate.role != CONSULTANT:
        return "not_consultant"
    if candidate.leave and on_leave(candidate.leave, now_utc.astimezone(store_calendar.zone).date()):
        return "on_leave"
    if candidate.shift:
        working = calendar_for(store_calendar.timezone, candidate.shift,
                               store_calendar.holidays).is_open(now_utc)
    else:
        working = store_calendar.is_open(now_utc)
    if not working:
        return "off_shift"
    if candidate.daily_capacity is not None and candidate.assigned_today >= candidate.daily_capacity:
        return "at_capacity"
    return None


def sort_out(candidates, now_utc: datetime, store_calendar: Calendar) -> tuple[list, dict]:
    """(the eligible candidates, {user_id: reason} for the others)."""
    eligible, reasons = [], {}
    for candidate in candidates:
        reason = ineligibility(candidate, now_utc, store_calendar)
        if reason is None:
            eligible.append(candidate)
        else:
            reasons[candidate.user_id] = reason
    return eligible, reasons


# -- choosing one ----------------------------------------------------------------------

def next_in_rotation(candidates: list[str], last: str | None) -> str | None:
    """The candidate after ``last`` in sorted order, wrapping around;
    the first one when ``last`` is unknown or gone."""
    ordered = sorted(candidates)
    if not ordered:
        return None
    later = [c for c in ordered if last is not None and c > last]
    return later[0] if later else ordered[0]


def _rotation(last: str | None):
    """A sort key putting user ids in round-robin order after ``last``."""
    if last is None:
        return lambda user_id: (False, user_id)
    return lambda user_id: (user_id <= last, user_id)


def choose(strategy: str, eligible: list, last_user_id: str | None,
           sticky_user_id: str | None = None) -> Candidate | None:
    """One of the eligible candidates, or None if there are none:

    - round_robin: the next user_id after ``last_user_id`` in sorted order,
      wrapping (``next_in_rotation``);
    - least_loaded: fewest ``open_leads``; ties in round-robin order;
    - weighted: lowest ``assigned_today / daily_capacity`` (no limit counts as
      ``UNLIMITED_CAPACITY``), ties in round-robin order, so that over a day
      each gets leads in proportion to capacity;
    - sticky: the candidate whose user_id is ``sticky_user_id`` (say the
      customer's earlier consultant) if eligible, else round robin.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    if not eligible:
        return None
    order = _rotation(last_user_id)
    if strategy == "sticky" and sticky_user_id is not None:
        for candidate in eligible:
            if candidate.user_id == sticky_user_id:
                return candidate
    if strategy == "least_loaded":
        return min(eligible, key=lambda c: (c.open_leads, order(c.user_id)))
    if strategy == "weighted":
        return min(eligible, key=lambda c: (_load(c), order(c.user_id)))
    return min(eligible, key=lambda c: order(c.user_id))


def _load(candidate: Candidate) -> float:
    capacity = UNLIMITED_CAPACITY if candidate.daily_capacity is None else candidate.daily_capacity
    return candidate.assigned_today / capacity if capacity > 0 else float("inf")
