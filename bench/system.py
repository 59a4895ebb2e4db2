"""Dealerflow itself under load: leads sent to the real gateway, then
followed through the databases until each is fully processed."""
import json
import os
import signal
import time

import requests
from sqlalchemy import create_engine, text

from bench.common import Leads, cores_used, cpu_snapshot, intake_summary, latency, say, settle, to_epoch
from bench.loadgen import open_loop
from tests.support.stack import LEAD_NOTICES
from tests.support.waiting import eventually

# A lead is fully processed when all of these hold.
COUNTS = {
    "customers": "SELECT count(*) FROM customer_leads",
    "leads": "SELECT count(*) FROM leads WHERE status = 'assigned'",
    "followups": "SELECT count(*) FROM tasks",
    "notifications": f"SELECT count(*) FROM inbox_messages WHERE {LEAD_NOTICES}",
}
ROWS = {  # (lead id, when) of each step
    "customers": "SELECT lead_id, linked_at FROM customer_leads",
    "leads": "SELECT id, assigned_at FROM leads WHERE status = 'assigned'",
    "followups": "SELECT lead_id, created_at FROM tasks",
    "notifications": f"SELECT lead_id, created_at FROM inbox_messages WHERE {LEAD_NOTICES}",
}
COMPLETED_BY = ("customers", "followups", "notifications")  # the latest of these is completion
# What a lead handled twice would leave twice: each must grow by exactly the leads accepted.
ONCE = {
    **{service: (service, sql) for service, sql in COUNTS.items()},
    "graded": ("leads", "SELECT count(*) FROM lead_events WHERE change = 'graded'"),
    "assignments": ("leads", "SELECT count(*) FROM assignments"),
}
SECOND_REPLICAS = ("leads", "followups")  # what ``make run REPLICAS=2`` doubles


def labels(stack) -> dict:
    """Our processes for ``cpu_snapshot``: the stack's by session, this one by pid."""
    names = {process.pid: name for name, process in stack.processes.items()}
    return {**names, os.getpid(): "bench client"}


def rows(stack, service: str, sql: str) -> list:
    if service not in stack.engines:
        stack.engines[service] = create_engine(stack.databases[service])
    with stack.engines[service].connect() as connection:
        return connection.execute(text(sql)).all()


def counts(stack) -> dict:
    return {service: stack.scalar(service, sql) for service, sql in COUNTS.items()}


def once_counts(stack) -> dict:
    return {name: stack.scalar(service, sql) for name, (service, sql) in ONCE.items()}


def wait_processed(stack, accepted: dict, baseline: dict, timeout: float) -> dict:
    """Wait (at most ``timeout`` s) until every accepted lead is fully
    processed; returns {lead id: {step: epoch seconds}} (the steps of
    ``ROWS``) for those that are."""
    deadline = time.monotonic() + timeout
    while True:
        now = counts(stack)
        ready = all(now[s] >= baseline[s] + len(accepted) for s in COUNTS)
        if ready or time.monotonic() > deadline:
            steps = {s: {row[0]: to_epoch(row[1]) for row in rows(stack, s, sql)}
                     for s, sql in ROWS.items()}
            done = {lead_id: {s: steps[s][lead_id] for s in ROWS}
                    for lead_id in accepted if all(lead_id in steps[s] for s in ROWS)}
            if len(done) == len(accepted) or time.monotonic() > deadline:
                return done
        time.sleep(0.5)


def since_202(accepted: dict, reached: dict) -> dict:
    """p50/p99/max ms from each lead's 202 to when it ``reached`` a step."""
    return latency(((at - accepted[lead_id]) * 1000 for lead_id, at in reached.items()), (50, 99, 100))


def phase(stack, leads: Leads, rate: float, seconds: float, connections: int,
          timeout: float) -> dict:
    """Send leads at ``rate`` for ``seconds``, then wait until they are
    fully processed: intake numbers, processing numbers, CPU per process."""
    requests = leads.requests(round(rate * seconds))
    settled = settle()
    baseline, who, before = counts(stack), labels(stack), once_counts(stack)
    cpu = [cpu_snapshot(who)]
    run = open_loop("127.0.0.1", stack.port, requests, rate, connections)
    cpu.append(cpu_snapshot(who))
    result = dict(intake_summary(run), settled_s=settled)
    accepted = {json.loads(a.body)["id"]: a.wall for a in run.answers if a.status == 202}
    done = wait_processed(stack, accepted, baseline, timeout)
    cpu.append(cpu_snapshot(who))
    completed = {lead_id: max(at[s] for s in COMPLETED_BY) for lead_id, at in done.items()}
    first, last = min(accepted.values(), default=0), max(completed.values(), default=0)
    grown = {name: count - before[name] for name, count in once_counts(stack).items()}
    result["processing"] = {
        "fully_processed": len(done),
        "not_processed": len(accepted) - len(done),
        "span_s": round(last - first, 2),
        # from the last 202 to the last lead fully processed: how long the backlog took to drain
        "drained_after_s": round(last - max(accepted.values()), 2) if done else None,
        "rows_per_lead": grown,
        "every_count_exact": all(count == len(accepted) for count in grown.values()),
        "fully_processed_per_s": round(len(done) / (last - first), 1) if done else 0,
        "lead_to_done_ms": since_202(accepted, completed),
        # where a lead waits: the 202 to each service's row (``ROWS``; leads: its assignment,
        # notifications: its inbox message)
        "lead_to_step_ms": {s: since_202(accepted, {i: at[s] for i, at in done.items()}) for s in ROWS},
    }
    result["cpu_cores"] = {"intake": cores_used(cpu[0], cpu[1]), "processing": cores_used(cpu[1], cpu[2])}
    result["cpu_ms_per_lead"] = cores_used(cpu[0], cpu[2], per=len(done)) if done else {}
    return result


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).ok
    except requests.RequestException:
        return False


def second_replica(stack, leads: Leads, options) -> dict:
    """The heaviest burst again with a second replica of leads and of
    followups (as ``make run REPLICAS=2``), which are then stopped."""
    for name in SECOND_REPLICAS:
        stack.start_process(name, replica="2")
    for name in SECOND_REPLICAS:
        eventually(lambda: answers(f"{stack.ops_url(f'{name}-2')}/readyz"), timeout=60,
                   message=f"{name}-2 is ready")
    try:
        return phase(stack, leads, max(options.rates), options.burst_seconds, options.connections,
                     options.process_timeout)
    finally:
        for name in SECOND_REPLICAS:
            stack.kill(f"{name}-2", signal.SIGTERM)


def describe(result: dict) -> str:
    p = result["processing"]
    return (f"offered {result['offered_per_s']:g}/s: accepted {result['accepted_per_s']:g}/s, "
            f"202 p99 {result['latency_ms']['p99']} ms, others {result['other_statuses'] or '-'}; "
            f"{p['fully_processed']}/{result['accepted']} fully processed at "
            f"{p['fully_processed_per_s']}/s (drained {p['drained_after_s']} s after the last 202), "
            f"202->inbox p99 {p['lead_to_step_ms']['notifications']['p99']} ms, "
            f"every count exact: {p['every_count_exact']}")


def measure(stack, options) -> dict:
    """Bursts, then steady rates, on a started stack."""
    leads = Leads(stack.port, stack.sh_key)
    say("  warm-up: 50 leads/s for 1 s")
    phase(stack, leads, 50, 1, options.connections, options.process_timeout)
    bursts, steady = [], []
    for rate in options.rates:
        say(f"  burst: {rate:g} leads/s for {options.burst_seconds:g} s, then until processed")
        bursts.append(phase(stack, leads, rate, options.burst_seconds, options.connections,
                            options.process_timeout))
        say(f"  burst done: {describe(bursts[-1])}")
    for rate in options.steady_rates:
        say(f"  steady: {rate:g} leads/s for {options.steady_seconds:g} s")
        steady.append(phase(stack, leads, rate, options.steady_seconds, options.connections,
                            options.process_timeout))
        say(f"  steady done: {describe(steady[-1])}")
    processed = sum(b["processing"]["fully_processed"] for b in bursts)
    span = sum(b["processing"]["span_s"] for b in bursts)
    result = {"intake": bursts, "fully_processed_per_s": round(processed / span, 1) if span else 0,
              "steady": steady}
    if options.replicas == 2:
        say(f"  second replica of {' and '.join(SECOND_REPLICAS)}: burst of {max(options.rates):g} leads/s "
            f"for {options.burst_seconds:g} s")
        result["second_replica"] = second_replica(stack, leads, options)
        say(f"  second replica done: {describe(result['second_replica'])}")
    return result
