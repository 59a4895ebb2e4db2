"""``make bench``: Dealerflow's throughput and latency on this machine, next
to the ceilings of the same machine, per database backend.

For each backend: a fresh ``Stack`` (own vhost, own databases); bursts of
leads at fixed offered rates (open loop) and how fast they get fully
processed; steady rates and the lead-to-notification latency; then the bare
gateway and the bare nameko pipeline; then what staff wait for: a lead's
assignment on a manager's live stream (at 50 and at 100 leads/s) and (PostgreSQL) the first page of a
store's hundred thousand leads; then customers: (PostgreSQL) searches among a
million of them, and the import of a 100,000-row spreadsheet (``--only
customers`` measures just these); reminders: 100,000 due within five
minutes with two followups replicas; and notifications (``--only
notifications``): 10,000 a minute through Web Push, email, robots and
webhooks to local fakes, and a new lead's message on its consultant's live
stream; and (PostgreSQL, last, or ``--only analytics``) the analytics
dashboard on a generated dealer group of a million leads (``bench/dataset.py``).
Before the backends: one routing
decision in memory, with 50 rules and 200 consultants. Writes bench/results/<UTC time>.json
and bench/results/latest.json and prints a summary with the targets.
"""
import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import (  # noqa: E402
    analytics,
    ceilings,
    customers,
    notifications,
    reminders,
    routing,
    staff,
    system,
)
from bench.common import BENCH_CONSULTANTS, say, staff_the_store  # noqa: E402
from tests.support.stack import Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
# 202 to lead_assigned on a manager's stream: the p99 each rate must stay under, ms
# (50 and 150: issue 13's latency; 100: issue 8's assignment within 500 ms)
PUSH_TARGETS = {50: 100, 100: 500, 150: 300}
# CPU per fully processed lead, all processes (issue 13), ms; and leads fully processed a second
CPU_TARGETS = {"sqlite": 10, "postgresql": 14}
PROCESSED_TARGETS = {"sqlite": 200, "postgresql": 140}
BURST = {"rate": 300, "seconds": 10, "p99_ms": 100}  # every request of the burst gets its 202 within


def rates(text: str) -> list[float]:
    return [float(value) for value in text.split(",")]


def parse_args(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    add("--rates", type=rates, default=[300], help="burst rates, leads/s")
    add("--burst-seconds", type=float, default=10)
    add("--replicas", type=int, choices=(1, 2), default=2,
        help="2: the heaviest burst again with a second replica of leads and of followups")
    add("--steady-rates", type=rates, default=[50, 150], help="leads/s")
    add("--steady-seconds", type=float, default=10)
    add("--ceiling-rates", type=rates, default=[800, 1600, 2400], help="bare gateway rates, leads/s")
    add("--pipeline-messages", type=int, default=3000)
    add("--pipeline-rates", type=rates, default=[50, 200], help="messages/s")
    add("--pipeline-seconds", type=float, default=5)
    add("--push-rates", type=rates, default=list(PUSH_TARGETS),
        help="leads/s while a manager's live stream is timed, one phase each")
    add("--push-seconds", type=float, default=10)
    add("--reminders", type=int, default=100_000,
        help="tasks whose reminders fall due within --reminder-window, two followups replicas (0: none)")
    add("--reminder-window", type=float, default=300, help="seconds the reminders are spread over")
    add("--routing-decisions", type=int, default=20_000,
        help="in-memory routing decisions timed (50 rules, 200 consultants; 0: none)")
    add("--staff-leads", type=int, default=100_000,
        help="leads in the store when its staff list is timed (PostgreSQL only)")
    add("--staff-requests", type=int, default=300, help="timed staff list requests per user")
    add("--import-rows", type=int, default=100_000,
        help="rows of the generated customer spreadsheet imported (0: no import)")
    add("--import-budget", type=float, default=600,
        help="longest wait, in s, for the import (upload to done) before giving up")
    add("--search-customers", type=int, default=1_000_000,
        help="customers in the database when search is timed (PostgreSQL only; 0: no search)")
    add("--search-requests", type=int, default=300, help="timed customer searches per kind")
    add("--notify-rate", type=float, default=11_000,
        help="deliveries a minute offered to the fake receivers (the target is 10,000 sustained)")
    add("--notify-seconds", type=float, default=60,
        help="seconds of notification events at --notify-rate (0: throughput not measured)")
    add("--notify-drain", type=float, default=60,
        help="longest wait, in s, after the last event for every delivery to be sent")
    add("--notify-replicas", type=int, default=1,
        help="notifications service processes while the throughput is measured")
    add("--inapp-rate", type=float, default=20,
        help="leads/s while the in-app push latency is timed on the consultants' streams (0: not timed)")
    add("--inapp-seconds", type=float, default=30)
    add("--dataset-stores", type=int, default=50, help="stores of the analytics data set (PostgreSQL only)")
    add("--dataset-consultants", type=int, default=1_000)
    add("--dataset-leads", type=int, default=1_000_000,
        help="leads of the analytics data set (0: the analytics are not timed)")
    add("--dataset-followups", type=int, default=5_000_000,
        help="follow-up records of the analytics data set")
    add("--dataset-years", type=float, default=2)
    add("--analytics-rounds", type=int, default=30, help="timed dashboards per user and date range")
    add("--only", choices=("all", "customers", "reminders", "notifications", "analytics"), default="all",
        help="customers: only the customer import and search; reminders: only the reminders; "
             "notifications: only the notification figures (no lead phases); analytics: only the "
             "dashboard on the generated group (PostgreSQL)")
    add("--connections", type=int, default=64, help="client keep-alive connections")
    add("--process-timeout", type=float, default=180,
        help="longest wait, in s, for the leads of one phase to be fully processed")
    return parser.parse_args(argv)


def bench_backend(backend: str, options) -> dict:
    if options.only == "analytics" and backend != "postgresql":
        say(f"{backend}: the analytics are timed on PostgreSQL only")
        return {"targets": {}}
    with ExitStack() as cleanup:
        workdir = Path(tempfile.mkdtemp(prefix=f"dealerflow-bench-{backend}-"))
        cleanup.callback(shutil.rmtree, workdir, ignore_errors=True)
        stack = Stack(workdir, backend)
        cleanup.callback(stack.stop)
        say(f"{backend}: setting up the stack")
        stack.setup()
        stack.start()
        say(f"{backend}: stack ready on {stack.url}; {BENCH_CONSULTANTS} more consultants in the store")
        staff_the_store(stack)
        if options.only != "all":
            figure = {"customers": lambda: customer_figures(stack, backend, options),
                      "reminders": lambda: reminders.reminder_figures(stack, options),
                      "notifications": lambda: notifications.notification_figures(stack, options),
                      "analytics": lambda: analytics.analytics_figures(stack, options)}
            result = {options.only: figure[options.only]()}
            say(f"{backend}: stopping the stack")
            result["targets"] = targets(result, backend)
            return result
        result = system.measure(stack, options)
        say(f"{backend}: ceiling: bare gateway")
        result["ceilings"] = {"gateway": ceilings.gateway(stack, options)}
        say(f"{backend}: ceiling: nameko pipeline")
        result["ceilings"]["pipeline"] = ceilings.pipeline(stack, options)
        result["live_push"] = []
        for rate in options.push_rates:
            say(f"{backend}: live push: {rate:g} leads/s for {options.push_seconds:g} s")
            result["live_push"].append(staff.live_push(stack, rate, options))
            say(f"{backend}: live push done: {describe_push(result['live_push'][-1])}")
        if options.reminders:
            say(f"{backend}: reminders: {options.reminders:,} due within {options.reminder_window:g} s")
            result["reminders"] = reminders.reminder_figures(stack, options)
        if backend == "postgresql":  # production's database: a store this size runs there
            say(f"{backend}: staff list with {options.staff_leads} leads in {staff.STORE}")
            result["staff_list"] = staff.lead_list(stack, options)
        result["customers"] = customer_figures(stack, backend, options)
        if options.notify_seconds or options.inapp_rate:  # last: its channels and devices are then removed
            say(f"{backend}: notifications: {options.notify_rate:,.0f} deliveries a minute for "
                f"{options.notify_seconds:g} s; in-app push at {options.inapp_rate:g} leads/s")
            result["notifications"] = notifications.notification_figures(stack, options)
        # last: a million leads are then in its databases
        if backend == "postgresql" and options.dataset_leads:
            say(f"{backend}: analytics dashboard on a generated group of {options.dataset_leads:,} leads")
            result["analytics"] = analytics.analytics_figures(stack, options)
        say(f"{backend}: stopping the stack")
    best = max(result["intake"], key=lambda r: r["accepted_per_s"])
    result["ratios"] = {
        "accepted_vs_gateway_ceiling":
            round(best["accepted_per_s"] / result["ceilings"]["gateway"]["accepted_per_s"], 2),
        "fully_processed_vs_pipeline_drain":
            round(result["fully_processed_per_s"] / result["ceilings"]["pipeline"]["drain_per_s"], 2),
    }
    result["cpu_per_lead"] = cpu_per_lead(result)
    result["targets"] = targets(result, backend)
    return result


def cpu_per_lead(result: dict) -> dict:
    """The heaviest burst's CPU per fully processed lead, every process of
    the system counted (not the bench's client, not others' processes), and
    how many bare pipeline messages that is."""
    burst = max(result["intake"], key=lambda r: r["offered_per_s"])
    system = {k: v for k, v in burst["cpu_ms_per_lead"].items() if k not in ("bench client", "other")}
    hop = result["ceilings"]["pipeline"]["drain"]["cpu_ms_per_message"]
    hop_ms = sum(v for k, v in hop.items() if k not in ("bench client", "other"))
    total = round(sum(system.values()), 2)
    return {"total_ms": total, "by_process_ms": system, "bare_message_ms": round(hop_ms, 2),
            "bare_messages": round(total / hop_ms, 1) if hop_ms else None}


def customer_figures(stack, backend: str, options) -> dict:
    """Search first (PostgreSQL): an import still running when it gives up
    cannot then disturb the searches."""
    figures = {}
    if backend == "postgresql" and options.search_customers:
        say(f"{backend}: customer search with {options.search_customers:,} customers")
        figures["search"] = customers.search_figures(stack, options)
    if options.import_rows:
        say(f"{backend}: customer import of {options.import_rows:,} rows")
        figures["import"] = customers.import_figures(stack, options)
        say(f"{backend}: import: {customers.describe_import(figures['import'])}")
    return figures


def targets(result: dict, backend: str) -> dict:
    """The targets, each with what was measured and PASS or MISS."""
    if "intake" not in result:  # --only customers, reminders, notifications
        return {**customer_targets(result), **reminder_targets(result),
                **notifications.targets(result.get("notifications", {})), **analytics.targets(result)}
    return {
        **lead_targets(result, backend),
        **staff_targets(result),
        **customer_targets(result),
        **reminder_targets(result),
        **notifications.targets(result.get("notifications", {})),
        **analytics.targets(result),
    }


def lead_targets(result: dict, backend: str) -> dict:
    """Issue 13's: the cost of a lead, the burst, the rate, the second replica."""
    cpu, marks = result["cpu_per_lead"], {}
    marks[f"CPU per fully processed lead <= {CPU_TARGETS[backend]} ms, all processes"] = {
        "measured": f"{cpu['total_ms']} ms = {cpu['bare_messages']} bare pipeline messages of "
                    f"{cpu['bare_message_ms']} ms",
        "result": "PASS" if cpu["total_ms"] <= CPU_TARGETS[backend] else "MISS"}
    bursts = [r for r in result["intake"]
              if r["offered_per_s"] >= BURST["rate"] and r["requests"] >= BURST["rate"] * BURST["seconds"]]
    burst = max(result["intake"], key=lambda r: r["offered_per_s"])
    marks[f"a burst of {BURST['rate']}/s for {BURST['seconds']} s: every 202, p99 < {BURST['p99_ms']} ms"] = {
        "measured": f"{burst['accepted']} of {burst['requests']} accepted (offered {burst['offered_per_s']:g}/s), "
                    f"p99 {burst['latency_ms']['p99']} ms, others {burst['other_statuses'] or '-'}; "
                    f"drained {burst['processing']['drained_after_s']} s after the last 202",
        "result": "PASS" if bursts and all(r["accepted"] == r["requests"] and r["latency_ms"]["p99"] < BURST["p99_ms"]
                                           for r in bursts) else "MISS"}
    marks[f">= {PROCESSED_TARGETS[backend]} fully processed/s"] = {
        "measured": f"{result['fully_processed_per_s']:g}/s",
        "result": "PASS" if result["fully_processed_per_s"] >= PROCESSED_TARGETS[backend] else "MISS"}
    if "second_replica" in result:
        two = result["second_replica"]
        marks["a second replica of leads and followups: every count exact"] = {
            "measured": f"{two['processing']['fully_processed_per_s']:g} fully processed/s with two "
                        f"(one: {burst['processing']['fully_processed_per_s']:g}/s), CPU per lead "
                        f"{sum(v for k, v in two['cpu_ms_per_lead'].items() if k not in ('bench client', 'other')):.1f} "
                        f"ms; rows per lead {two['processing']['rows_per_lead']} for {two['accepted']} leads",
            "result": "PASS" if (two["processing"]["every_count_exact"]
                                 and burst["processing"]["every_count_exact"]) else "MISS"}
    return marks


def customer_targets(result: dict) -> dict:
    """The import (every backend) and search (PostgreSQL), each passing
    only if measured at the size the target names."""
    marks, figures = {}, result.get("customers", {})
    if "import" in figures:
        imported = figures["import"]
        total, peak = imported.get("total_s"), imported["memory_peak_mb"]
        marks["customer import of 100,000 rows < 60 s and < 500 MB"] = {
            "measured": f"{total} s ({imported['status']}"
                        + (f", gave up after {imported['budget_s']:g} s" if imported["gave_up"] else "")
                        + f"), customers service peak {peak} MB, {imported['file']['rows']:,} rows",
            "result": "PASS" if (imported["status"] == "done" and imported["file"]["rows"] >= 100_000
                                 and total is not None and total < 60 and peak is not None and peak < 500)
            else "MISS"}
    if "search" in figures:
        found = figures["search"]
        p99 = {kind: timed["latency_ms"]["p99"] for kind, timed in found["kinds"].items()}
        marks["customer search p99 < 30 ms at 1,000,000 customers (PostgreSQL)"] = {
            "measured": ", ".join(f"{kind} {value} ms" for kind, value in p99.items())
                        + f" with {found['customers']:,} customers",
            "result": "PASS" if (found["customers"] >= 1_000_000 and p99
                                 and all(v is not None and v < 30 for v in p99.values())) else "MISS"}
    return marks


def reminder_targets(result: dict) -> dict:
    """Every reminder fired once, on time, with two replicas (when measured)."""
    if "reminders" not in result:
        return {}
    fired = result["reminders"]
    p99 = fired["lateness_ms"]["p99"]
    once = fired["events"] == fired["distinct_tasks"] == fired["tasks"] == fired.get("published")  # all heard
    return {f"{fired['tasks']:,} reminders due within {fired['window_s']:g} s, two replicas: each once, "
            "lateness p99 < 1 s": {
                "measured": f"{fired['events']:,} events for {fired['distinct_tasks']:,} of {fired['tasks']:,} "
                            f"tasks, lateness p99 {p99} ms",
                "result": "PASS" if once and fired["tasks"] >= 100_000 and p99 is not None and p99 < 1000
                else "MISS"}}


def staff_targets(result: dict) -> dict:
    """Live push (every backend) and the staff list (PostgreSQL), each
    passing only if measured as the target says: at its rate with no event
    missing; with 100,000 leads in the store."""
    marks = {}
    for push in result["live_push"]:
        rate, p99 = push["offered_per_s"], push["lead_to_event_ms"]["p99"]
        if rate not in PUSH_TARGETS:
            continue
        marks[f"202 to lead_assigned on a manager's stream p99 < {PUSH_TARGETS[rate]} ms at {rate:g}/s"] = {
            "measured": f"p99 {p99} ms, {push['missing']} of {push['accepted']} missing",
            "result": "PASS" if push["missing"] == 0 and p99 is not None and p99 < PUSH_TARGETS[rate] else "MISS"}
    if "staff_list" in result:
        listed = result["staff_list"]
        p95 = {user: pages["latency_ms"]["p95"] for user, pages in listed["users"].items()}
        marks["staff list first page p95 < 100 ms with 100,000 leads (manager)"] = {
            "measured": f"{p95[staff.MANAGER]} ms ({staff.CONSULTANT} {p95[staff.CONSULTANT]} ms) "
                        f"with {listed['leads']:,} leads",
            "result": "PASS" if (listed["leads"] >= 100_000 and p95[staff.MANAGER] is not None
                                 and p95[staff.MANAGER] < 100) else "MISS"}
    return marks


def describe_push(push: dict) -> str:
    n = push["lead_to_event_ms"]
    return (f"{push['events']}/{push['accepted']} on the stream ({push['missing']} missing), "
            f"202->stream p50/p99/max {n['p50']}/{n['p99']}/{n['max']} ms, "
            f"others {push['other_statuses'] or '-'}")


def print_summary(report: dict) -> None:
    print("\n=== Dealerflow benchmark", report["date"], f"({report['duration_s']:.0f} s,",
          f"{report['machine']['cpus']} CPUs)")
    if "routing" in report:
        routed = report["routing"]
        mark = "PASS" if routed["p99_ms"] < 5 else "MISS"
        print(f"\n  {mark}  routing decision p99 < 5 ms (50 rules, 200 consultants): p50/p99 "
              f"{routed['p50_ms']}/{routed['p99_ms']} ms, CPU p99 {routed['cpu_p99_ms']} ms")
    for backend, r in report["backends"].items():
        print(f"\n--- {backend}")
        if "intake" not in r:  # --only customers, reminders, notifications
            print_customers(r.get("customers", {}))
            print_notifications(r.get("notifications", {}))
            print_analytics(r.get("analytics"))
            for name, target in r["targets"].items():
                print(f"  {target['result']}  {name}: {target['measured']}")
            continue
        gw, pipe = r["ceilings"]["gateway"], r["ceilings"]["pipeline"]
        for i in r["intake"]:
            print(f"  intake  offered {i['offered_per_s']:6g}/s  accepted {i['accepted_per_s']:7g}/s  "
                  f"202 p50/p99/max {i['latency_ms']['p50']}/{i['latency_ms']['p99']}/"
                  f"{i['latency_ms']['max']} ms  others {i['other_statuses'] or '-'}  "
                  f"client cpu {i['client_cpu']}")
        print(f"  fully processed {r['fully_processed_per_s']:g} leads/s")
        for s in r["steady"]:
            n, a = (s["processing"]["lead_to_step_ms"][step] for step in ("notifications", "leads"))
            print(f"  steady  offered {s['offered_per_s']:6g}/s  202->inbox p50/p99 {n['p50']}/{n['p99']} ms"
                  f"  202->assigned p50/p99 {a['p50']}/{a['p99']} ms"
                  f"  fully processed {s['processing']['fully_processed_per_s']:g}/s")
        print(f"  ceiling bare gateway {gw['accepted_per_s']:g} accepted/s (p99 {gw['p99_ms']} ms "
              f"at offered {gw['at_offered_per_s']:g}/s)")
        print(f"  ceiling nameko pipeline drain {pipe['drain_per_s']:g} messages/s; " + ", ".join(
            f"{p['offered_per_s']:g}/s: A->B p50/p99 {p['received_to_b_ms']['p50']}/"
            f"{p['received_to_b_ms']['p99']} ms, publish->B p99 {p['published_to_b_ms']['p99']} ms"
            for p in pipe["rates"]))
        heaviest = max(r["intake"], key=lambda i: i["offered_per_s"])
        print(f"  CPU ms per lead (burst {heaviest['offered_per_s']:g}/s): {r['cpu_per_lead']['total_ms']:g} "
              f"= {r['cpu_per_lead']['bare_messages']:g} bare pipeline messages; "
              + ", ".join(f"{k} {v:g}" for k, v in heaviest["cpu_ms_per_lead"].items()))
        gw_best = max(gw["rates"], key=lambda i: i["accepted_per_s"])
        print("  CPU ms per request, bare gateway: "
              + ", ".join(f"{k} {v:g}" for k, v in gw_best["cpu_ms_per_request"].items())
              + "; per message, pipeline: "
              + ", ".join(f"{k} {v:g}" for k, v in pipe["drain"]["cpu_ms_per_message"].items()))
        for push in r["live_push"]:
            print(f"  live push  offered {push['offered_per_s']:g}/s: {describe_push(push)}")
        if "second_replica" in r:
            print(f"  second replica of leads and followups: {system.describe(r['second_replica'])}")
        if "staff_list" in r:
            for user, pages in r["staff_list"]["users"].items():
                n = pages["latency_ms"]
                print(f"  staff list  {r['staff_list']['leads']:,} leads, {user}: first page p50/p95/p99 "
                      f"{n['p50']}/{n['p95']}/{n['p99']} ms ({pages['requests']} requests, "
                      f"{pages['items']} items, others {pages['other_statuses'] or '-'})")
        print_customers(r.get("customers", {}))
        print_notifications(r.get("notifications", {}))
        print_analytics(r.get("analytics"))
        print(f"  ratios  accepted/gateway ceiling {r['ratios']['accepted_vs_gateway_ceiling']}, "
              f"fully processed/pipeline drain {r['ratios']['fully_processed_vs_pipeline_drain']}")
        for name, target in r["targets"].items():
            print(f"  {target['result']}  {name}: {target['measured']}")
        others = max(p["cpu_cores"]["intake"].get("other", 0) for p in r["intake"] + r["steady"])
        if others >= 0.1:
            print(f"  note: other processes on this machine used up to {others:g} cores during a phase")


def print_customers(figures: dict) -> None:
    if "search" in figures:
        found = figures["search"]
        for kind, timed in found["kinds"].items():
            n = timed["latency_ms"]
            print(f"  customer search  {found['customers']:,} customers, {kind}: p50/p95/p99 "
                  f"{n['p50']}/{n['p95']}/{n['p99']} ms ({timed['requests']} requests, "
                  f"items mean {timed['items']['mean']}, others {timed['other_statuses'] or '-'}; "
                  f"{found['plans'][kind]['walking']}/{found['plans'][kind]['sampled']} planned as a walk "
                  f"by updated_at)")
    if "import" in figures:
        print(f"  customer import  {customers.describe_import(figures['import'])}")


def print_notifications(figures: dict) -> None:
    if "throughput" in figures:
        r = figures["throughput"]
        print(f"  notifications  {notifications.describe_throughput(r)}; per channel created->sent p99: "
              + ", ".join(f"{channel} {n['p99']} ms ({n['sent']:,})"
                          for channel, n in r["lateness_ms_by_channel"].items())
              + f"; event->inbox p99 {r['event_to_inbox_ms']['p99']} ms")
    if "inapp" in figures:
        print(f"  in-app push  {notifications.describe_inapp(figures['inapp'])}")


def print_analytics(figures: dict | None) -> None:
    for line in analytics.describe(figures) if figures else ():
        print(f"  {line}")


def main(argv=None) -> int:
    options = parse_args(argv if argv is not None else sys.argv[1:])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # clean up as on Ctrl-C
    started, date = time.monotonic(), datetime.now(timezone.utc)
    backends = ("sqlite", "postgresql") if options.backend == "both" else (options.backend,)
    report = {
        "date": date.isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "load_average": os.getloadavg()},
        "options": {k: v for k, v in vars(options).items()},
        "backends": {},
    }
    try:
        if options.routing_decisions and options.only == "all":
            say(f"routing: {options.routing_decisions:,} decisions with 50 rules and 200 consultants")
            report["routing"] = routing.routing_figures(options.routing_decisions)
            say(f"routing: p50/p99 {report['routing']['p50_ms']}/{report['routing']['p99_ms']} ms "
                f"(CPU p99 {report['routing']['cpu_p99_ms']} ms)")
        for backend in backends:
            report["backends"][backend] = bench_backend(backend, options)
    except KeyboardInterrupt:
        say("interrupted; everything started was stopped and removed")
        return 130
    report["duration_s"] = round(time.monotonic() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    path = RESULTS / f"{date.strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print_summary(report)
    print(f"\nwritten: {path.relative_to(ROOT)} and bench/results/latest.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
