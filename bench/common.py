"""What every part of the benchmark shares: progress lines, the store's
staff and the leads sent, child processes that cannot outlive the run,
percentiles, and which processes used the CPU."""
import itertools
import json
import math
import os
import signal
import subprocess
import time
from collections import Counter, defaultdict
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from bench.loadgen import Run, post_request
from tests.conftest import make_lead

ROOT = Path(__file__).resolve().parents[1]
STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


BENCH_CONSULTANTS = 20
BENCH_CAPACITY = 1000  # the most a consultant may take a day


def staff_the_store(stack, store: str = "SH-PUDONG") -> None:
    """Give the store the staff a bench's tens of thousands of leads a day
    need: the demo's three consultants take 100 a day each, after which
    routing pools every lead. Created in the gateway's database, announced
    by its relay; waits until the leads service routes to them."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from services.gateway.org import ALL_HOURS, create_user
    engine = create_engine(stack.databases["gateway"])
    with Session(engine) as session:
        for n in range(BENCH_CONSULTANTS):
            create_user(session, f"bench.c{n:02d}", "bench-password", "consultant", [store],
                        shift=ALL_HOURS, daily_capacity=BENCH_CAPACITY)
        session.commit()
    engine.dispose()
    deadline = time.monotonic() + 60
    while stack.scalar("leads", "SELECT count(*) FROM roster WHERE display_name LIKE 'bench.c%'") \
            < BENCH_CONSULTANTS:
        if time.monotonic() > deadline:
            raise RuntimeError("the leads service did not hear of the bench's consultants in 60 s")
        time.sleep(0.5)


class Leads:
    """Request bytes of JSON leads (``make_lead``), each with its own
    external id, phone and email, so every one is a new lead of a new customer."""

    serial = itertools.count(1)

    def __init__(self, port: int, api_key: str):
        self.port, self.headers = port, {"X-Api-Key": api_key, "Content-Type": "application/json"}

    def requests(self, count: int) -> list[bytes]:
        return [self.request() for _ in range(count)]

    def request(self) -> bytes:
        n = next(self.serial)
        lead = make_lead()
        lead["customer"].update(phone=f"139{n:08d}", email=f"bench{n}@example.com")
        body = json.dumps(lead, ensure_ascii=False).encode()
        return post_request("127.0.0.1", self.port, "/v1/leads", body, self.headers)


@contextmanager
def child(command: list[str], env: dict, log_path: Path):
    """A process in its own session; it and its children are stopped
    (TERM, then KILL) however the block is left."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield process
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        except ProcessLookupError:
            return
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=10)


# -- numbers -------------------------------------------------------------------

def percentile(values, p: float):
    """Nearest-rank percentile; ``None`` for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def latency(values, points=(50, 90, 99, 100)) -> dict:
    """Percentiles of milliseconds, ``max`` for the 100th."""
    values = list(values)
    return {("max" if p == 100 else f"p{p}"): (round(percentile(values, p), 1) if values else None)
            for p in points}


def intake_summary(run: Run, accepted_status: int = 202) -> dict:
    """Offered, sent and accepted per second, the other answers, and the
    latency of the accepted ones. A rate is counted over the scheduled
    span, or until the last answer if that came later."""
    span = (len(run.answers) + run.unanswered) / run.rate
    accepted = [a for a in run.answers if a.status == accepted_status]
    others = Counter(str(a.status) for a in run.answers if a.status != accepted_status)
    if run.unanswered:
        others["unanswered"] = run.unanswered
    return {
        "offered_per_s": run.rate,
        "requests": len(run.answers) + run.unanswered,
        "sent_per_s": round(len(run.answers) / max(span, max((a.sent for a in run.answers), default=0)), 1),
        "accepted": len(accepted),
        "accepted_per_s": round(len(accepted) / max(span, max((a.done for a in accepted), default=0)), 1),
        "other_statuses": dict(others),
        "latency_ms": latency(a.latency_ms for a in accepted),
        # time a request waited in the client for a free connection
        "client_wait_ms": latency((a.latency_ms - (a.done - a.sent) * 1000 for a in run.answers),
                                  (50, 99, 100)),
        "client_cpu": run.client_cpu,
    }


def to_epoch(value) -> float:
    """A database timestamp (SQLite: naive UTC text; PostgreSQL: aware) as epoch seconds."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


# -- where the CPU went --------------------------------------------------------

BROKER = ("beam.smp", "erl_child_setup", "epmd", "inet_gethost")


def cpu_snapshot(labels: dict[int, str]) -> tuple[float, dict]:
    """(now, CPU seconds used so far per group of processes). ``labels``
    names our processes by pid or session id; the broker and PostgreSQL
    are named by command, kernel threads are ``kernel``; any other process
    on the machine (someone else's tests, say) is ``other``."""
    tick, totals = os.sysconf("SC_CLK_TCK"), defaultdict(float)
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        command = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        group = (labels.get(int(entry.name)) or labels.get(int(fields[3]))
                 or ("rabbitmq" if command in BROKER else
                     "postgres" if command.startswith("postgres") else
                     "kernel" if fields[1] in ("0", "2") else "other"))
        totals[group] += (int(fields[11]) + int(fields[12])) / tick
    return time.monotonic(), totals


def cores_used(before: tuple, after: tuple, per: float = 0) -> dict:
    """Cores each group kept busy between two snapshots, busiest first; with
    ``per``, CPU milliseconds per item instead (``per`` items were handled)."""
    seconds = after[0] - before[0]
    used = {group: cpu - before[1].get(group, 0) for group, cpu in after[1].items()}
    scaled = {group: cpu * 1000 / per if per else cpu / seconds for group, cpu in used.items()
              if cpu / seconds >= 0.01}
    return {group: round(value, 2) for group, value in sorted(scaled.items(), key=lambda kv: -kv[1])}


def settle(timeout: float = 20, busy: float = 0.15, iowait: float = 0.05) -> float:
    """Wait until the machine is quiet (over one second: under ``busy`` of
    its CPU in use and under ``iowait`` waiting on the disk), so that one
    phase's leftovers (a checkpoint, a flush) do not land in the next;
    returns the seconds waited. Gives up quietly after ``timeout``."""
    def ticks():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3], values[4]  # total, idle, iowait
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        before = ticks()
        time.sleep(1)
        total, idle, wait = (now - then for now, then in zip(ticks(), before))
        if (total - idle - wait) / total < busy and wait / total < iowait:
            break
    else:
        say(f"  the machine is still busy after {timeout:g} s (see cpu_cores 'other'); measuring anyway")
    return round(time.monotonic() - started, 1)
