"""The analytics dashboard at a dealer group's real size (PostgreSQL): the
group of ``bench/dataset.py`` written into the running stack's databases,
then the dashboard loaded as the browser loads it, by one store's manager
and by the group admin, over the last 30 days and the last 365."""
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg2
import requests

from bench import dataset
from bench.common import latency, say, settle
from bench.staff import sign_in

# the dashboard's five reports, requested at once (docs/analytics.md)
REPORTS = ("funnel", "sources", "demand", "consultants", "response-times")
TARGETS_MS = {"store": 300, "group": 1000}  # the dashboard p95, one store's manager and the group admin
WARM_UP = 3               # dashboards loaded before the timed ones
BUDGET_S = 180            # at most this long for the timed dashboards of one scope and range


def size_of(options) -> dataset.Size:
    return dataset.Size(stores=options.dataset_stores, consultants=options.dataset_consultants,
                        leads=options.dataset_leads, followups=options.dataset_followups,
                        years=options.dataset_years)


def ranges(zone: str = dataset.ZONE) -> dict:
    """The dashboard's default (no dates: the last 30 days up to today) and the last 365 days."""
    today = datetime.now(ZoneInfo(zone)).date()
    return {"30_days": {}, "365_days": {"from": (today - timedelta(days=364)).isoformat(),
                                        "to": today.isoformat()}}


def busiest_store(stack, stores: list[str]) -> str:
    """The generated store with the most leads in the last 30 days: the heaviest one store's dashboard."""
    with closing(psycopg2.connect(dataset.psycopg_url(stack.databases["leads"]))) as connection, \
            connection.cursor() as cursor:
        cursor.execute("SELECT store_code FROM leads WHERE store_code = ANY(%s) "
                       "AND created_at > now() - interval '30 days' GROUP BY store_code "
                       "ORDER BY count(*) DESC LIMIT 1", (stores,))
        return cursor.fetchone()[0]


class Dashboard:
    """A signed-in user's browser: one keep-alive connection per report
    (a browser opens up to six to a host), the five requests sent at once."""

    def __init__(self, stack, username: str):
        self.url, self.headers = stack.url, sign_in(stack, username)
        self.sessions = {name: requests.Session() for name in REPORTS}
        for session in self.sessions.values():
            session.headers.update(self.headers)
        self.pool = ThreadPoolExecutor(len(REPORTS), thread_name_prefix="dashboard")

    def get(self, name: str, params: dict, started: float) -> tuple[int, float]:
        try:
            status = self.sessions[name].get(f"{self.url}/v1/analytics/{name}", params=params,
                                             timeout=60).status_code
        except requests.RequestException:
            status = 0
        return status, (time.perf_counter() - started) * 1000

    def load(self, params: dict) -> tuple[float, dict]:
        """Milliseconds until all five answered, and each report's (status, ms)."""
        started = time.perf_counter()
        futures = {name: self.pool.submit(self.get, name, params, started) for name in REPORTS}
        answers = {name: future.result() for name, future in futures.items()}
        return (time.perf_counter() - started) * 1000, answers

    def close(self) -> None:
        self.pool.shutdown()
        for session in self.sessions.values():
            session.close()


def timed(dashboard: Dashboard, params: dict, rounds: int) -> dict:
    """``rounds`` dashboards one after another (within ``BUDGET_S``) after a
    warm-up; one with a report that failed is counted apart."""
    for _ in range(WARM_UP):
        dashboard.load(params)
    totals, per_report, others, attempts = [], defaultdict(list), Counter(), 0
    deadline = time.monotonic() + BUDGET_S
    while attempts < rounds and time.monotonic() < deadline:
        attempts += 1
        total, answers = dashboard.load(params)
        failed = {name: status for name, (status, _) in answers.items() if status != 200}
        for name, status in failed.items():
            others[f"{name} {status}"] += 1
        if not failed:
            totals.append(total)
            for name, (_, ms) in answers.items():
                per_report[name].append(ms)
    reports = {name: latency(per_report[name], (50, 95, 100)) for name in REPORTS}
    slowest = max(REPORTS, key=lambda name: reports[name]["p95"] or 0) if totals else None
    return {"rounds": len(totals), "other_statuses": dict(others),
            "dashboard_ms": latency(totals, (50, 95, 99, 100)), "reports_ms": reports,
            "slowest_report": slowest}


def statements(stack, actor_of: dict, params: dict) -> dict:
    """Each report run in this process against the leads database, as the
    leads service runs it, with every statement timed; the slowest one's
    ``EXPLAIN (ANALYZE, BUFFERS)``. For the group admin over the longer
    range, the heaviest dashboard. Not timed as the dashboard is: it tells
    where the time goes."""
    from sqlalchemy import create_engine, event
    from sqlalchemy.orm import Session

    from dealerflow.actor import USER, Actor
    from services.leads import analytics
    engine = create_engine(stack.databases["leads"])
    seen, current = [], {"report": None}

    @event.listens_for(engine, "before_cursor_execute")
    def before(connection, cursor, statement, parameters, context, executemany):
        context.bench_started = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def after(connection, cursor, statement, parameters, context, executemany):
        seen.append(((time.perf_counter() - context.bench_started) * 1000, current["report"], statement,
                     parameters, cursor.rowcount))

    actor = Actor(kind=USER, **actor_of)
    result = {"reports": {}}
    try:
        with Session(engine) as session:
            for name in REPORTS:
                current["report"] = name
                started, before_count = time.perf_counter(), len(seen)
                scope = analytics.scope_of(session, actor, params)
                getattr(analytics, name.replace("-", "_"))(session, scope)
                result["reports"][name] = {
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                    "statements": len(seen) - before_count,
                    "sql_ms": round(sum(ms for ms, *_ in seen[before_count:]), 1)}
        ms, report, statement, parameters, rows = max(seen, key=lambda s: s[0])
        with engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            plan = [row[0] for row in cursor.fetchall()]
        result["slowest"] = {"report": report, "ms": round(ms, 1), "rows": rows, "statement": statement,
                             "parameters": {k: str(v) for k, v in (parameters or {}).items()}
                             if isinstance(parameters, dict) else str(parameters), "plan": plan}
    except Exception as exc:  # the analytics are young: a change of theirs must not lose the timings
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        engine.dispose()
    return result


def analytics_figures(stack, options) -> dict:
    """Generate the group into the stack's databases, then time the dashboard."""
    size = size_of(options)
    say(f"  analytics: generating {size.stores} stores, {size.consultants:,} consultants, "
        f"{size.leads:,} leads, {size.followups:,} follow-ups over {size.years:g} years")
    generated = dataset.load(dataset.stack_urls(stack), size,
                             progress=lambda line: say(f"  dataset: {line}"))
    say(f"  analytics: data set written in {generated['seconds']['total']:g} s, "
        f"{sum(generated['bytes'].values()) / 1e9:.2f} GB")
    store = busiest_store(stack, generated["stores"])
    users = {"store": f"{store.lower()}.manager", "group": dataset.ADMIN}
    result = {"dataset": {k: v for k, v in generated.items() if k != "stores"}, "store": store,
              "users": users, "settled_s": settle(), "scopes": {}}
    for scope, username in users.items():
        dashboard = Dashboard(stack, username)
        try:
            for name, params in ranges().items():
                figures = timed(dashboard, params, options.analytics_rounds)
                result["scopes"].setdefault(scope, {})[name] = figures
                n, slowest = figures["dashboard_ms"], figures["slowest_report"]
                say(f"  analytics {scope} ({username}), {name}: dashboard p50/p95/p99 "
                    f"{n['p50']}/{n['p95']}/{n['p99']} ms over {figures['rounds']} rounds; slowest report "
                    f"{slowest} (p95 {figures['reports_ms'][slowest]['p95'] if slowest else None} ms), "
                    f"others {figures['other_statuses'] or '-'}")
        finally:
            dashboard.close()
    with closing(psycopg2.connect(dataset.psycopg_url(stack.databases["gateway"]))) as connection, \
            connection.cursor() as cursor:
        cursor.execute("SELECT id FROM users WHERE username = %s", (dataset.ADMIN,))
        admin_id = cursor.fetchone()[0]
        cursor.execute("SELECT code FROM stores WHERE active ORDER BY code")
        every_store = tuple(row[0] for row in cursor.fetchall())
    admin = {"user_id": admin_id, "role": "group_admin", "stores": every_store}
    result["statements"] = statements(stack, admin, ranges()["365_days"])
    slowest = result["statements"].get("slowest")
    if slowest:
        say(f"  analytics: slowest statement (group, 365 days): {slowest['report']}, {slowest['ms']} ms")
    return result


def targets(result: dict) -> dict:
    """The dashboard's p95 per scope and range, passing only at 1,000,000 leads or more."""
    if "analytics" not in result:
        return {}
    figures, marks = result["analytics"], {}
    leads = figures["dataset"]["counts"]["leads"]
    for scope, limit in TARGETS_MS.items():
        for name, timed_ in figures["scopes"].get(scope, {}).items():
            p95 = timed_["dashboard_ms"]["p95"]
            marks[f"analytics dashboard p95 < {limit:,} ms, {scope} ({name.replace('_', ' ')}), "
                  f"at 1,000,000 leads"] = {
                "measured": f"{p95} ms ({timed_['rounds']} rounds, {leads:,} leads; slowest report "
                            f"{timed_['slowest_report']}" + (f", failed {timed_['other_statuses']}"
                                                             if timed_["other_statuses"] else "") + ")",
                "result": "PASS" if (leads >= 1_000_000 and p95 is not None and p95 < limit
                                     and not timed_["other_statuses"]) else "MISS"}
    return marks


def describe(figures: dict) -> list[str]:
    """Summary lines."""
    counts, seconds = figures["dataset"]["counts"], figures["dataset"]["seconds"]
    lines = [f"analytics data set: {counts['stores']} stores, {counts['consultants']:,} consultants, "
             f"{counts['leads']:,} leads, {counts['followups']:,} follow-ups, {counts['tasks']:,} tasks; "
             f"generated in {seconds['total']:g} s, {sum(figures['dataset']['bytes'].values()) / 1e9:.2f} GB"]
    for scope, by_range in figures["scopes"].items():
        for name, timed_ in by_range.items():
            n = timed_["dashboard_ms"]
            lines.append(f"analytics {scope} {name}: dashboard p50/p95/p99 "
                         f"{n['p50']}/{n['p95']}/{n['p99']} ms; "
                         + ", ".join(f"{report} p95 {r['p95']}"
                                     for report, r in timed_["reports_ms"].items()))
    return lines
