"""What one routing decision costs in memory, with no database: a dealer group
of 5 stores, 50 rules and 200 consultants (teams, shifts, leave, daily
capacities, every strategy). Per lead: pick the rule, sort the target's
consultants into eligible or not, choose one, and set the response deadline
and its warning in business minutes. Target: p99 under 5 ms. Wall-clock
percentiles (``p50_ms``..) and the thread's CPU time (``cpu_p50_ms``..),
which a busy machine does not inflate; ``calendar_built_per_lead`` repeats
the run with a new store Calendar per lead instead of one kept per store.

    python -c "from bench.routing import routing_figures; print(routing_figures())"
"""
import random
import time
from collections import Counter
from datetime import datetime, timedelta, timezone

from bench.common import percentile
from dealerflow.hours import DAYS, Calendar, calendar_for
from services.leads.routing import Candidate, choose, compile_rules, ineligibility, target_of
from services.leads.sla import first_contact_due, response_minutes, warning_at

STORES = ("SH-PUDONG", "SH-MINHANG", "BJ-CHAOYANG", "SZ-NANSHAN", "HZ-XIHU")
TEAMS = 4          # per store
PER_TEAM = 10      # consultants: 5 stores x 4 teams x 10 = 200
HOLIDAYS = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-05", "2026-10-06",
            "2026-10-07", "2027-01-01", "2027-02-16", "2027-02-17", "2027-02-18"]
SOURCES = ("autohome", "autohome-app", "dongchedi", "yiche", "website", "wechat", "douyin", "auto_show")
CHANNELS = ("website", "third_party", "walk_in", "phone", "referral", "auto_show")
CARS = (("BYD", "Han EV"), ("BYD", "Seal"), ("BYD", "Song Plus DM-i"), ("Tesla", "Model Y"),
        ("Tesla", "Model 3"), ("NIO", "ET5"), ("Li Auto", "L7"), ("Geely", "Galaxy E5"), ("XPeng", "G6"))
CITIES = ("上海", "北京", "深圳", "杭州", "苏州", "嘉兴", "Shanghai", "Beijing", None)
STRATEGIES = ("round_robin", "least_loaded", "weighted", "sticky")


def store_hours(n: int) -> dict:
    if n % 2:
        return {day: ["09:00-21:00"] for day in DAYS}                       # open every day
    return {**{day: ["09:00-12:00", "13:00-18:30"] for day in DAYS[:5]}, "sat": ["10:00-17:00"]}


def roster(rng: random.Random) -> list[Candidate]:
    shifts = ({}, {day: ["08:30-17:00"] for day in DAYS[:5]},
              {day: ["12:00-21:00"] for day in DAYS[1:]}, {day: ["09:00-21:00"] for day in ("sat", "sun")})
    people = []
    for store in STORES:
        for team in range(TEAMS):
            for member in range(PER_TEAM):
                leave = []
                if rng.random() < 0.1:
                    start = datetime(2026, 11, 23) + timedelta(days=rng.randrange(7))
                    leave = [{"start": start.date().isoformat(),
                              "end": (start + timedelta(days=rng.randrange(4))).date().isoformat()}]
                people.append(Candidate(
                    user_id=f"{store}-{team}-{member:02d}", team_id=f"{store}-t{team}", store_code=store,
                    active=rng.random() > 0.05, role="consultant" if member else "manager",
                    shift=rng.choice(shifts), leave=leave,
                    daily_capacity=rng.choice((None, 8, 10, 15, 20, 30)),
                    assigned_today=0, open_leads=rng.randrange(30)))
    return people


def rules(rng: random.Random) -> list[dict]:
    """8 rules per store (sources, brands, models, grades, hours, days, cities
    to teams) and 10 group rules, the last a catch-all to the lead's store."""
    made = []
    for store in STORES:
        for n in range(8):
            conditions = {"sources": rng.sample(["autohome*", "*che*", "yiche", "web*", "douyin"], 2)}
            brand, model = rng.choice(CARS)
            if n % 2:
                conditions["brands"] = [brand, rng.choice(CARS)[0]]
            if n % 3 == 0:
                conditions["models"] = [model.split()[0] + "*", "Model ?"]
            if n % 4 == 1:
                conditions["grades"] = rng.sample("HABCN", 2)
            if n == 5:
                conditions["hours"] = {"from": "18:00", "to": "09:00"}
            if n == 6:
                conditions["days"] = ["sat", "sun"]
            if n == 7:
                conditions["cities"] = ["上海", "shang*", "苏州", "嘉兴"]
            made.append({"id": f"{store}-r{n}", "store_code": store, "priority": 10 * n, "name": f"rule {n}",
                         "active": n != 4, "conditions": conditions, "strategy": rng.choice(STRATEGIES),
                         "target": {"kind": "team", "store_code": None, "team_id": f"{store}-t{n % TEAMS}"}})
    for n in range(10):
        conditions = {} if n == 9 else {"channels": rng.sample(CHANNELS, 2), "condition": rng.choice(["new", "used"])}
        target = ({"kind": "pool", "store_code": None, "team_id": None} if n == 3 else
                  {"kind": "store", "store_code": STORES[n % len(STORES)] if n < 3 else None, "team_id": None})
        made.append({"id": f"group-r{n}", "store_code": None, "priority": 100 + n, "name": f"group rule {n}",
                     "active": True, "conditions": conditions, "strategy": rng.choice(STRATEGIES),
                     "target": target})
    return made


def leads(rng: random.Random, count: int, people: list) -> list[tuple[dict, datetime, str | None]]:
    """(facts, the moment it is routed, the customer's earlier consultant or
    None) in time order: a week from Monday 23 November 2026, more by day
    than by night."""
    monday = datetime(2026, 11, 23, tzinfo=timezone.utc) - timedelta(hours=8)    # 00:00 in Shanghai
    made = []
    for _ in range(count):
        brand, model = rng.choice(CARS)
        hour = rng.choice(range(8, 22)) if rng.random() < 0.85 else rng.randrange(24)
        moment = monday + timedelta(days=rng.randrange(7), hours=hour, minutes=rng.randrange(60))
        made.append(({"channel": rng.choice(CHANNELS), "source": rng.choice(SOURCES), "brand": brand,
                      "model": model, "condition": rng.choice(["new", "new", "used"]),
                      "city": rng.choice(CITIES), "language": rng.choice(["zh", "zh", "en"]),
                      "grade": rng.choice("HABCNN"), "store_code": rng.choice(STORES)}, moment,
                     rng.choice(people).user_id if rng.random() < 0.3 else None))
    return sorted(made, key=lambda lead: lead[1])


def decide(compiled, facts, now, previous, calendars, teams, stores, last, overrides, outcome,
           fresh_calendars=False):
    """One lead, as the service would route it: rule, eligibility, choice,
    deadline and warning."""
    store = facts["store_code"]
    calendar = calendars[store]
    if fresh_calendars:   # a Calendar built for every lead, nothing remembered between leads
        calendar = Calendar(calendar.timezone, calendar.hours, calendar.holidays)
    local = now.astimezone(calendar.zone)
    rule = compiled.pick(facts, local)
    target = target_of(rule, facts) if rule else {"kind": "store", "store_code": store, "team_id": None}
    if target["kind"] == "pool":
        outcome["pooled"] += 1
        return
    if target["store_code"] != store:
        store = target["store_code"]
        calendar = calendars[store]
    group = teams[target["team_id"]] if target["team_id"] else stores[store]
    eligible = []
    for person in group:
        reason = ineligibility(person, now, calendar)
        if reason is None:
            eligible.append(person)
        else:
            outcome["ineligible:" + reason] += 1
    key = (store, target["team_id"])
    strategy = rule["strategy"] if rule else "round_robin"
    chosen = choose(strategy, eligible, last.get(key), previous)
    if chosen is None:
        outcome["no_one_eligible"] += 1
        return
    last[key] = chosen.user_id
    chosen.assigned_today += 1
    chosen.open_leads += 1
    minutes = response_minutes(facts["grade"], facts["channel"], 15, overrides)
    due = first_contact_due(now, minutes, calendar)
    warning_at(now, due, calendar)
    outcome["assigned"] += 1


def routing_figures(decisions: int = 20000, seed: int = 7) -> dict:
    rng = random.Random(seed)
    made_rules, people = rules(rng), roster(rng)
    calendars = {store: calendar_for("Asia/Shanghai", store_hours(n), HOLIDAYS) for n, store in enumerate(STORES)}
    teams, stores = {}, {}
    for person in people:
        teams.setdefault(person.team_id, []).append(person)
        stores.setdefault(person.store_code, []).append(person)
    overrides = {"H": 5, "walk_in": 3, "H:website": 5, "A": 10, "C": 30}
    began = time.perf_counter()
    compiled = compile_rules(made_rules)
    compile_ms = (time.perf_counter() - began) * 1000
    figures = {"decisions": decisions, "rules": len(made_rules), "consultants": len(people),
               "compile_ms": round(compile_ms, 3), "target_p99_ms": 5}
    started = time.perf_counter()
    for fresh in (False, True):
        outcome, last, took, cpu, today = Counter(), {}, [], [], None
        for facts, now, previous in leads(random.Random(seed + 1), decisions, people):
            if (now + timedelta(hours=8)).date() != today:   # a new day in Shanghai: capacities start over
                today = (now + timedelta(hours=8)).date()
                for person in people:
                    person.assigned_today = 0
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            decide(compiled, facts, now, previous, calendars, teams, stores, last, overrides, outcome, fresh)
            cpu.append((time.thread_time_ns() - c0) / 1e6)
            took.append((time.perf_counter_ns() - t0) / 1e6)
        timing = {f"p{p}_ms": round(percentile(took, p), 4) for p in (50, 90, 99)}
        timing["max_ms"] = round(max(took), 3)
        # CPU time of this thread alone: what the code costs when others share the machine
        timing.update({f"cpu_p{p}_ms": round(percentile(cpu, p), 4) for p in (50, 99)})
        if fresh:
            figures["calendar_built_per_lead"] = timing
        else:
            figures.update(timing)
            figures["leads"] = {key: outcome[key] for key in ("assigned", "no_one_eligible", "pooled")}
            figures["candidates_ineligible"] = {key.split(":")[1]: count for key, count in outcome.most_common()
                                                if key.startswith("ineligible:")}
    figures["seconds"] = round(time.perf_counter() - started, 1)
    return figures


if __name__ == "__main__":
    print(routing_figures())
