"""services.leads.routing: rules (validation, the first that matches), who
may take a lead, and the strategies that choose one; round robin over a
store's consultants as before."""
import fnmatch
import statistics
import time
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.hours import DAYS, Calendar
from services.leads.routing import (
    UNLIMITED_CAPACITY,
    Candidate,
    RuleError,
    choose,
    compile_rules,
    ineligibility,
    next_in_rotation,
    pick_rule,
    sort_out,
    target_of,
    validate_rule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
THURSDAY_10 = datetime(2026, 11, 26, 10, 0, tzinfo=SHANGHAI)
STORE = Calendar("Asia/Shanghai", {day: ["09:00-18:00"] for day in DAYS}, ["2026-10-01"])


def make_rule(**overrides) -> dict:
    rule = {"id": "r-1", "store_code": "SH-PUDONG", "priority": 10, "name": "EV leads",
            "active": True, "conditions": {}, "strategy": "round_robin",
            "target": {"kind": "store", "store_code": None, "team_id": None}}
    return {**rule, **overrides}


def make_facts(**overrides) -> dict:
    facts = {"channel": "website", "source": "autohome", "brand": "BYD", "model": "Han EV",
             "condition": "new", "city": "上海", "language": "zh", "grade": "H", "store_code": "SH-PUDONG"}
    return {**facts, **overrides}


# -- round robin as the service used it first ------------------------------------------

def test_next_after_last_in_sorted_order():
    assert next_in_rotation(["c", "a", "b"], "a") == "b"
    assert next_in_rotation(["c", "a", "b"], "b") == "c"


def test_wraps_around_after_the_last_one():
    assert next_in_rotation(["a", "b", "c"], "c") == "a"


def test_first_one_when_nobody_had_a_lead_yet():
    assert next_in_rotation(["b", "a"], None) == "a"


def test_unknown_last_that_sorts_after_everyone_starts_over():
    assert next_in_rotation(["a", "b"], "zz-left-the-store") == "a"


def test_removed_last_member_hands_on_to_the_next_in_order():
    # "b" had the last lead and has since left the roster: "c" is next, not "a" again
    assert next_in_rotation(["a", "c", "d"], "b") == "c"


def test_empty_roster_gives_nobody():
    assert next_in_rotation([], "a") is None
    assert next_in_rotation([], None) is None


def test_single_member_always_gets_it():
    assert next_in_rotation(["a"], "a") == "a"


def test_a_full_cycle_visits_everyone_once():
    roster, last, seen = ["u3", "u1", "u2"], None, []
    for _ in range(3):
        last = next_in_rotation(roster, last)
        seen.append(last)
    assert seen == ["u1", "u2", "u3"]
    assert next_in_rotation(roster, last) == "u1"


# -- validating a rule ------------------------------------------------------------------

def test_a_rule_comes_back_cleaned_with_its_defaults():
    clean = validate_rule({"name": " Walk-ins ", "priority": 0,
                           "target": {"kind": "team", "team_id": "t-1"},
                           "conditions": {"days": ["MON", "tue", "tue"], "grades": ["h", "A"],
                                          "sources": [" autohome* "], "brands": []}})
    assert clean == {"id": None, "store_code": None, "priority": 0, "name": "Walk-ins", "active": True,
                     "conditions": {"days": ["mon", "tue"], "grades": ["H", "A"], "sources": ["autohome*"]},
                     "target": {"kind": "team", "store_code": None, "team_id": "t-1"},
                     "strategy": "round_robin"}
    assert validate_rule(clean) == clean


@pytest.mark.parametrize("change, field", [
    ({"colour": "red"}, "colour"),
    ({"name": ""}, "name"),
    ({"priority": -1}, "priority"),
    ({"priority": 10001}, "priority"),
    ({"priority": True}, "priority"),
    ({"priority": "1"}, "priority"),
    ({"active": "yes"}, "active"),
    ({"store_code": "sh pudong"}, "store_code"),
    ({"strategy": "random"}, "strategy"),
    ({"target": None}, "target"),
    ({"target": {"kind": "region"}}, "target.kind"),
    ({"target": {"kind": "team", "store_code": None}}, "target.team_id"),
    ({"target": {"kind": "store", "shop": "x"}}, "target.shop"),
    ({"conditions": []}, "conditions"),
    ({"conditions": {"colour": ["red"]}}, "conditions.colour"),
    ({"conditions": {"days": ["monday"]}}, "conditions.days"),
    ({"conditions": {"grades": ["O"]}}, "conditions.grades"),
    ({"conditions": {"condition": "old"}}, "conditions.condition"),
    ({"conditions": {"sources": "autohome"}}, "conditions.sources"),
    ({"conditions": {"sources": [f"s{n}" for n in range(51)]}}, "conditions.sources"),
    ({"conditions": {"models": ["x" * 101]}}, "conditions.models"),
    ({"conditions": {"cities": [""]}}, "conditions.cities"),
    ({"conditions": {"hours": {"from": "9:00", "to": "18:00"}}}, "conditions.hours.from"),
    ({"conditions": {"hours": {"from": "09:00", "to": "24:00"}}}, "conditions.hours.to"),
    ({"conditions": {"hours": {"from": "09:00"}}}, "conditions.hours"),
    ({"conditions": {"hours": {"from": "09:00", "to": "09:00"}}}, "conditions.hours"),
])
def test_bad_rules_name_the_field(change, field):
    with pytest.raises(RuleError) as raised:
        validate_rule(make_rule(**change))
    assert raised.value.field == field
    assert isinstance(raised.value, ValueError)


def test_fifty_patterns_of_a_hundred_characters_are_fine():
    validate_rule(make_rule(conditions={"models": ["m" * 100] * 50}))


# -- picking a rule ---------------------------------------------------------------------

def test_store_rules_come_before_group_rules_whatever_their_priority():
    rules = [make_rule(id="group", store_code=None, priority=0), make_rule(id="store", priority=500)]
    assert pick_rule(rules, make_facts(), THURSDAY_10)["id"] == "store"
    assert pick_rule(rules, make_facts(store_code="BJ-CHAOYANG"), THURSDAY_10)["id"] == "group"


def test_lower_priority_first_and_inactive_rules_skipped():
    rules = [make_rule(id="b", priority=20), make_rule(id="a", priority=10, active=False),
             make_rule(id="c", priority=15)]
    assert pick_rule(rules, make_facts(), THURSDAY_10)["id"] == "c"


def test_no_rule_matches_gives_none():
    rules = [make_rule(conditions={"brands": ["Tesla"]})]
    assert pick_rule(rules, make_facts(), THURSDAY_10) is None
    assert pick_rule([], make_facts(), THURSDAY_10) is None


@pytest.mark.parametrize("conditions, facts, matches", [
    ({"sources": ["autohome*"]}, {"source": "AutoHome-app"}, True),
    ({"sources": ["autohome*"]}, {"source": "dongchedi"}, False),
    ({"sources": ["autohome*", "yiche"]}, {"source": "yiche"}, True),
    ({"brands": ["byd"]}, {"brand": "BYD"}, True),
    ({"brands": ["BYD"]}, {"brand": "BYD Auto"}, False),
    ({"models": ["model ?"]}, {"model": "Model Y"}, True),
    ({"cities": ["上海", "苏州"]}, {"city": "苏州"}, True),
    ({"cities": ["shang*"]}, {"city": "Shanghai"}, True),
    ({"channels": ["walk_in"]}, {"channel": "website"}, False),
    ({"languages": ["en"]}, {"language": "EN"}, True),
    ({"condition": "used"}, {"condition": "new"}, False),
    ({"grades": ["h", "A"]}, {"grade": "H"}, True),
    ({"grades": ["A"]}, {"grade": "B"}, False),
    ({"brands": ["BYD"]}, {"brand": None}, False),          # no fact, no match
    ({"sources": ["*"]}, {"source": None}, False),
    ({"brands": []}, {"brand": None}, True),                # an empty condition matches all
    ({"brands": ["BYD"], "channels": ["website"]}, {}, True),
    ({"brands": ["BYD"], "channels": ["phone"]}, {}, False),  # AND across conditions
])
def test_conditions(conditions, facts, matches):
    rule = pick_rule([make_rule(conditions=conditions)], make_facts(**facts), THURSDAY_10)
    assert (rule is not None) == matches


@pytest.mark.parametrize("window, clock, matches", [
    ({"from": "09:00", "to": "18:00"}, (9, 0), True),
    ({"from": "09:00", "to": "18:00"}, (18, 0), False),
    ({"from": "22:00", "to": "02:00"}, (23, 30), True),     # wraps past midnight
    ({"from": "22:00", "to": "02:00"}, (1, 59), True),
    ({"from": "22:00", "to": "02:00"}, (2, 0), False),
    ({"from": "22:00", "to": "02:00"}, (12, 0), False),
])
def test_hours_are_the_store_local_clock(window, clock, matches):
    local = datetime(2026, 11, 26, *clock, tzinfo=SHANGHAI)
    assert (pick_rule([make_rule(conditions={"hours": window})], make_facts(), local) is not None) == matches


def test_days_are_the_store_local_weekday():
    rules = [make_rule(conditions={"days": ["sat", "sun"]})]
    assert pick_rule(rules, make_facts(), datetime(2026, 11, 28, 9, tzinfo=SHANGHAI)) is not None
    assert pick_rule(rules, make_facts(), THURSDAY_10) is None


def test_a_target_without_a_store_is_the_lead_store():
    assert target_of(make_rule(store_code=None), make_facts())["store_code"] == "SH-PUDONG"
    team = make_rule(target={"kind": "team", "store_code": None, "team_id": "t-1"})
    assert target_of(team, make_facts())["store_code"] == "SH-PUDONG"
    pool = make_rule(target={"kind": "pool", "store_code": None, "team_id": None})
    assert target_of(pool, make_facts())["store_code"] is None
    other = make_rule(target={"kind": "store", "store_code": "BJ-CHAOYANG", "team_id": None})
    assert target_of(other, make_facts())["store_code"] == "BJ-CHAOYANG"


def test_a_bad_rule_stops_compiling():
    with pytest.raises(RuleError):
        compile_rules([make_rule(strategy="random")])


def test_fifty_rules_are_evaluated_in_microseconds():
    rules = [make_rule(id=f"r{n:02d}", priority=n, store_code=None if n % 2 else "SH-PUDONG",
                       conditions={"sources": [f"site{n}*", "other*"], "brands": ["Tesla", "NIO"],
                                   "cities": ["北京", "bei*"], "hours": {"from": "08:00", "to": "20:00"}})
             for n in range(50)]
    compiled, facts = compile_rules(rules), make_facts()
    assert compiled.pick(facts, THURSDAY_10) is None   # tries all fifty
    runs = []
    for _ in range(500):
        began = time.perf_counter()
        compiled.pick(facts, THURSDAY_10)
        runs.append(time.perf_counter() - began)
    assert statistics.median(runs) < 200e-6


# the naive reference: every rule, every condition, by the words of the spec
FACT_OF = {"channels": "channel", "sources": "source", "brands": "brand", "models": "model",
           "condition": "condition", "cities": "city", "languages": "language", "grades": "grade"}


def reference_matches(rule, facts, local) -> bool:
    for key, value in rule["conditions"].items():
        if not value:
            continue
        if key == "days":
            if DAYS[local.weekday()] not in value:
                return False
        elif key == "hours":
            start, end, now = value["from"], value["to"], local.strftime("%H:%M")
            if not (start <= now < end if start < end else now >= start or now < end):
                return False
        else:
            fact = facts.get(FACT_OF[key])
            if fact is None:
                return False
            if key == "condition":
                ok = fact == value
            elif key in ("sources", "models", "cities"):
                ok = any(fnmatch.fnmatchcase(fact.casefold(), p.casefold()) for p in value)
            else:
                ok = any(fact.casefold() == word.casefold() for word in value)
            if not ok:
                return False
    return True


def reference_pick(rules, facts, local):
    ordered = sorted((r for r in rules if r["store_code"] == facts["store_code"]),
                     key=lambda r: (r["priority"], r["id"]))
    ordered += sorted((r for r in rules if r["store_code"] is None), key=lambda r: (r["priority"], r["id"]))
    return next((r for r in ordered if r["active"] and reference_matches(r, facts, local)), None)


WORDS = {
    "channels": ["website", "walk_in", "phone", "WEBSITE"],
    "sources": ["autohome*", "*che*", "web?ite", "AUTO*", "yiche"],
    "brands": ["BYD", "byd", "Tesla", "NIO"],
    "models": ["Han*", "model ?", "Seal", "*"],
    "cities": ["上海", "Shang*", "beijing", "苏州"],
    "languages": ["zh", "en"],
    "grades": ["H", "A", "B", "C", "N"],
    "days": list(DAYS),
}
CLOCKS = ["00:00", "06:30", "09:00", "12:00", "18:00", "22:00", "23:59"]


@st.composite
def rules(draw, number):
    conditions = {}
    for key, words in WORDS.items():
        if draw(st.booleans()):
            conditions[key] = draw(st.lists(st.sampled_from(words), max_size=3, unique=True))
    if draw(st.booleans()):
        conditions["condition"] = draw(st.sampled_from(["new", "used"]))
    if draw(st.integers(0, 3)) == 0:
        start, end = draw(st.lists(st.sampled_from(CLOCKS), min_size=2, max_size=2, unique=True))
        conditions["hours"] = {"from": start, "to": end}
    return validate_rule(make_rule(
        id=f"r{number:03d}", store_code=draw(st.sampled_from([None, "SH-PUDONG", "BJ-CHAOYANG"])),
        priority=draw(st.integers(0, 5)), active=draw(st.integers(0, 4)) > 0, conditions=conditions))


rule_lists = st.integers(0, 12).flatmap(lambda n: st.tuples(*(rules(i) for i in range(n))).map(list))
lead_facts = st.fixed_dictionaries({
    "channel": st.sampled_from(["website", "walk_in", "Phone", None]),
    "source": st.sampled_from(["autohome", "AutoHome-App", "dongchedi", "website", "yiche", None]),
    "brand": st.sampled_from(["BYD", "tesla", "NIO", None]),
    "model": st.sampled_from(["Han EV", "Model Y", "seal", None]),
    "condition": st.sampled_from(["new", "used", None]),
    "city": st.sampled_from(["上海", "Shanghai", "Beijing", "苏州", None]),
    "language": st.sampled_from(["zh", "EN", None]),
    "grade": st.sampled_from(["H", "A", "B", "C", "N", None]),
    "store_code": st.sampled_from(["SH-PUDONG", "BJ-CHAOYANG", "GZ-TIANHE"])})
moments = st.datetimes(datetime(2026, 1, 1), datetime(2027, 1, 1)).map(lambda d: d.replace(tzinfo=SHANGHAI))


@given(rule_lists, lead_facts, moments)
def test_pick_agrees_with_the_naive_reference(rules, facts, local):
    assert pick_rule(rules, facts, local) == reference_pick(rules, facts, local)


# -- who may take a lead ----------------------------------------------------------------

NOW = datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc)   # Thursday 10:00 in Shanghai


def person(user_id="u1", **overrides) -> Candidate:
    return Candidate(user_id=user_id, **{"team_id": "t-1", "store_code": "SH-PUDONG", **overrides})


@pytest.mark.parametrize("overrides, reason", [
    ({}, None),
    ({"active": False}, "inactive"),
    ({"active": False, "role": "manager"}, "inactive"),
    ({"role": "manager"}, "not_consultant"),
    ({"leave": [{"start": "2026-11-26", "end": "2026-11-26"}]}, "on_leave"),
    ({"leave": [{"start": "2026-11-20", "end": "2026-11-25"}]}, None),
    ({"shift": {"thu": ["13:00-22:00"]}}, "off_shift"),
    ({"shift": {"thu": ["08:00-12:00"]}}, None),
    ({"daily_capacity": 5, "assigned_today": 5}, "at_capacity"),
    ({"daily_capacity": 5, "assigned_today": 4}, None),
    ({"daily_capacity": 0}, "at_capacity"),
    ({"daily_capacity": None, "assigned_today": 500}, None),
    ({"leave": [{"start": "2026-11-26", "end": "2026-11-26"}], "daily_capacity": 0}, "on_leave"),
])
def test_ineligibility(overrides, reason):
    assert ineligibility(person(**overrides), NOW, STORE) == reason


def test_leave_is_the_store_local_date():
    # 17:00 UTC on the 25th is already the 26th in Shanghai (01:00); nights are in the shift
    night = datetime(2026, 11, 25, 17, 0, tzinfo=timezone.utc)
    leave = [{"start": "2026-11-26", "end": "2026-11-27"}]
    shift = {day: ["00:00-24:00"] for day in DAYS}
    assert ineligibility(person(leave=leave, shift=shift), night, STORE) == "on_leave"


def test_an_empty_shift_follows_the_store_hours_and_holidays():
    assert ineligibility(person(), datetime(2026, 11, 26, 12, tzinfo=timezone.utc), STORE) == "off_shift"
    holiday = datetime(2026, 10, 1, 10, tzinfo=SHANGHAI)
    assert ineligibility(person(), holiday, STORE) == "off_shift"
    assert ineligibility(person(shift={"thu": ["09:00-18:00"]}), holiday, STORE) == "off_shift"


def test_sort_out_gives_the_eligible_and_the_reasons():
    eligible, reasons = sort_out([person("a"), person("b", active=False)], NOW, STORE)
    assert [c.user_id for c in eligible] == ["a"] and reasons == {"b": "inactive"}


# -- choosing one -------------------------------------------------------------------------

TEAM = [person("c", open_leads=3), person("a", open_leads=1), person("b", open_leads=1)]


@pytest.mark.parametrize("strategy", ["round_robin", "least_loaded", "weighted", "sticky"])
def test_nobody_eligible_gives_nobody(strategy):
    assert choose(strategy, [], "a", "a") is None


def test_round_robin_is_next_in_rotation():
    assert choose("round_robin", TEAM, "a", None).user_id == "b"
    assert choose("round_robin", TEAM, "c", None).user_id == "a"
    assert choose("round_robin", TEAM, None, None).user_id == "a"


def test_least_loaded_breaks_ties_in_rotation_order():
    assert choose("least_loaded", TEAM, None, None).user_id == "a"
    assert choose("least_loaded", TEAM, "a", None).user_id == "b"
    assert choose("least_loaded", TEAM, "b", None).user_id == "a"


def test_weighted_takes_the_lowest_share_of_capacity():
    team = [person("a", daily_capacity=10, assigned_today=5), person("b", daily_capacity=4, assigned_today=1),
            person("c", daily_capacity=None, assigned_today=30)]
    assert choose("weighted", team, None, None).user_id == "b"        # 1/4 < 30/100 < 5/10
    assert UNLIMITED_CAPACITY == 100


def test_sticky_keeps_the_customer_with_their_consultant_if_they_can_take_it():
    assert choose("sticky", TEAM, "a", "c").user_id == "c"
    assert choose("sticky", TEAM, "a", "gone").user_id == "b"
    assert choose("sticky", TEAM, "a", None).user_id == "b"


def test_an_unknown_strategy_is_an_error():
    with pytest.raises(ValueError):
        choose("random", TEAM, None, None)


user_ids = st.lists(st.text("abcdefghij", min_size=1, max_size=4), min_size=1, max_size=12, unique=True)


@given(user_ids, st.none() | st.text("abcdefghij", max_size=4))
def test_round_robin_visits_everyone_once_per_cycle(ids, last):
    team, seen = [person(user_id) for user_id in ids], []
    for _ in range(2 * len(ids)):
        last = choose("round_robin", team, last, None).user_id
        seen.append(last)
    assert sorted(seen[:len(ids)]) == sorted(ids) and seen[len(ids):] == seen[:len(ids)]


@given(st.lists(st.integers(1, 30) | st.none(), min_size=1, max_size=8), st.integers(1, 3))
def test_weighted_gives_in_proportion_to_capacity(capacities, days):
    """Over a day, after as many picks as the capacities add up to, everyone
    has exactly their capacity (no limit weighing UNLIMITED_CAPACITY)."""
    team = [person(f"u{n}", daily_capacity=c) for n, c in enumerate(capacities)]
    weights = [UNLIMITED_CAPACITY if c is None else c for c in capacities]
    last = None
    for _ in range(days * sum(weights)):
        chosen = choose("weighted", team, last, None)
        chosen.assigned_today += 1
        last = chosen.user_id
    assert [c.assigned_today for c in team] == [days * w for w in weights]


def test_a_channel_condition_names_real_channels():
    with pytest.raises(RuleError, match="'fax' is not a channel"):
        validate_rule({"name": "x", "priority": 1, "target": {"kind": "pool"}, "conditions": {"channels": ["fax"]}})
    rule = validate_rule({"name": "x", "priority": 1, "target": {"kind": "pool"},
                          "conditions": {"channels": ["Walk_In"]}})
    assert rule["conditions"]["channels"] == ["walk_in"]
