"""What staff wait for, on the running system: how soon a lead's assignment
reaches a signed-in manager's live stream, and how fast the first page of
the store's leads comes back once the store holds a hundred thousand."""
import http.client
import json
import os
import random
import socket
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from datetime import datetime, timedelta, timezone

import psycopg2
import requests

from bench.common import Leads, intake_summary, latency, say, settle
from bench.dataset import copy_rows, psycopg_url
from bench.loadgen import open_loop
from tests.conftest import make_lead

PASSWORD = os.environ.get("DEALERFLOW_DEMO_PASSWORD", "dealerflow-demo")  # as seed-demo takes it
STORE = "SH-PUDONG"
MANAGER, CONSULTANT = "manager.sh", "consultant.sh1"


def sign_in(stack, username: str) -> dict:
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"username": username, "password": PASSWORD},
                           timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


# -- live push -----------------------------------------------------------------

class Listener:
    """A signed-in user's ``/v1/stream``, read in a thread that notes when
    (``time.perf_counter``) each lead's event arrived. http.client rather
    than requests, so that ``close`` can shut the socket down and wake the
    thread at once instead of at the next heartbeat."""

    def __init__(self, stack, headers: dict):
        ticket = requests.post(f"{stack.url}/v1/stream/tickets", headers=headers, timeout=30).json()["ticket"]
        self.connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=60)
        self.connection.request("GET", f"/v1/stream?ticket={ticket}")
        answer = self.connection.getresponse()
        if answer.status != 200:
            raise RuntimeError(f"/v1/stream answered {answer.status}: {answer.read()[:300]!r}")
        self.arrived: dict[str, float] = {}
        self.thread = threading.Thread(target=self.read, args=(answer,), name="stream", daemon=True)
        self.thread.start()

    def read(self, answer) -> None:
        try:
            for line in answer:
                if line.startswith(b"data: "):
                    now = time.perf_counter()
                    self.arrived.setdefault(json.loads(line[6:])["lead_id"], now)
        except (OSError, http.client.HTTPException):  # closed, or the gateway went away: missing tells
            pass

    def close(self) -> None:
        """Shut the socket down, which ends the thread's read; close it once the thread is done."""
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=5)
        self.connection.close()


def subscribed(stack, listener: Listener, timeout: float = 30) -> float | None:
    """Seconds until a lead posted now shows on the stream, or None. The
    gateway process subscribes to the broker when its first stream opens,
    so events published just before that are never seen; one lead at a
    time is sent until one comes through."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        lead_id = stack.post_lead(make_lead()).json().get("id")  # none on a 503: try again
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if lead_id in listener.arrived:
                return round(time.monotonic() - started, 1)
            time.sleep(0.05)
    return None


def live_push(stack, rate: float, options) -> dict:
    """Leads at ``rate`` for ``--push-seconds`` (open loop), while the
    store's manager listens: from each lead's ``202`` to its ``lead_assigned``
    on the stream, waiting at most ``--process-timeout`` for the last."""
    listener = Listener(stack, sign_in(stack, MANAGER))
    try:
        ready_s = subscribed(stack, listener)
        leads = Leads(stack.port, stack.sh_key)
        batch = leads.requests(round(rate * options.push_seconds))
        settled = settle()
        # Answer.wall is perf_counter plus the offset open_loop takes as it
        # starts; the same offset taken here turns it back to perf_counter.
        offset = time.time() - time.perf_counter()
        run = open_loop("127.0.0.1", stack.port, batch, rate, options.connections)
        accepted = {json.loads(a.body)["id"]: a.wall - offset for a in run.answers if a.status == 202}
        deadline = time.monotonic() + options.process_timeout
        while (set(accepted) - set(listener.arrived) and listener.thread.is_alive()
               and time.monotonic() < deadline):
            time.sleep(0.2)
    finally:
        listener.close()
    seen = {i: listener.arrived[i] for i in accepted if i in listener.arrived}
    return dict(intake_summary(run), seconds=options.push_seconds, settled_s=settled,
                subscribed_after_s=ready_s, events=len(seen), missing=len(accepted) - len(seen),
                lead_to_event_ms=latency(((t - accepted[i]) * 1000 for i, t in seen.items()), (50, 99, 100)))


# -- the staff list at scale (PostgreSQL) ----------------------------------------

COLUMNS = ("id", "platform", "source", "external_id", "channel", "format", "status", "store_code",
           "consultant_id", "customer", "customer_name", "customer_phone", "interest", "received_at",
           "submitted_at", "created_at", "assigned_at", "first_contact_due_at", "first_contact_at")
SOURCES = {  # (platform, source, channel): weight; mostly listing sites, as at a real store
    ("autohome", "autohome", "third_party"): 40, ("dongchedi", "dongchedi", "third_party"): 25,
    ("yiche", "yiche", "third_party"): 15, ("oem", "byd.com", "website"): 10,
    ("store", "walk_in", "walk_in"): 6, ("store", "auto_show", "auto_show"): 4}
CARS = (("BYD", "Han EV"), ("BYD", "Seal"), ("BYD", "Song Plus DM-i"), ("Tesla", "Model Y"),
        ("NIO", "ET5"), ("Li Auto", "L7"), ("Xiaomi", "SU7"))
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周", ("磊", "芳", "伟", "静", "强", "敏", "洋", "丽", "军", "婷")
RESPONSE_MINUTES = 15   # the demo store's first-contact deadline
BATCH = 10_000          # rows per COPY
WARM_UP = 20            # requests before the timed ones
LIST_BUDGET_S = 120     # at most this long per user for the timed requests


def connect(stack, service: str):
    """A psycopg2 connection to the service's database, closed when the block ends."""
    return closing(psycopg2.connect(psycopg_url(stack.databases[service])))


def store_consultants(stack) -> list[str]:
    """The store's consultants' user ids, from the gateway, which owns the users."""
    with connect(stack, "gateway") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT u.id FROM users u JOIN user_stores s ON s.user_id = u.id "
                       "WHERE s.store_code = %s AND u.role = 'consultant' ORDER BY u.username", (STORE,))
        return [row[0] for row in cursor.fetchall()]


def lead_row(rng: random.Random, n: int, consultants: list[str], now: datetime) -> tuple:
    """One assigned lead, created within the last year, as the leads service
    would have stored it; the first consultant has the largest share (3:2:1
    for three), and most leads were contacted within two hours."""
    (platform, source, channel), = rng.choices(list(SOURCES), list(SOURCES.values()))
    consultant, = rng.choices(consultants, range(len(consultants), 0, -1))
    name, phone, (brand, model) = rng.choice(SURNAMES) + rng.choice(GIVEN), f"137{n:08d}", rng.choice(CARS)
    created = now - timedelta(seconds=rng.uniform(0, 365 * 86400))
    received = created - timedelta(minutes=rng.uniform(0, 30))  # the platform's own time
    submitted = created - timedelta(seconds=rng.uniform(0.01, 1))
    assigned = created + timedelta(seconds=rng.uniform(0.01, 0.2))
    contacted = assigned + timedelta(minutes=rng.uniform(1, 120)) if rng.random() < 0.9 else None
    customer = json.dumps({"name": name, "phone": phone, "city": "上海"}, ensure_ascii=False)
    return (str(uuid.uuid4()), platform, source, f"BENCH-{n}", channel, "json", "assigned", STORE,
            consultant, customer, name, phone, json.dumps({"brand": brand, "model": model}),
            received, submitted, created, assigned, assigned + timedelta(minutes=RESPONSE_MINUTES), contacted)


def fill_store(stack, total: int) -> dict:
    """Bring the store to ``total`` leads with rows COPYed straight into the
    leads service's database (posting them would take the system most of an
    hour), then ANALYZE, so the planner knows the table as it now is."""
    consultants, rng, now = store_consultants(stack), random.Random(2026), datetime.now(timezone.utc)
    started = time.monotonic()
    with connect(stack, "leads") as connection, connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM leads WHERE store_code = %s", (STORE,))
        existing = cursor.fetchone()[0]
        for first in range(0, max(0, total - existing), BATCH):
            copy_rows(cursor, "leads", COLUMNS, (lead_row(rng, n, consultants, now)
                                                 for n in range(first, min(first + BATCH, total - existing))))
        cursor.execute("ANALYZE leads")
        cursor.execute("SELECT count(*) FROM leads WHERE store_code = %s", (STORE,))
        leads = cursor.fetchone()[0]
        connection.commit()
    return {"leads": leads, "loaded": leads - existing, "consultants": len(consultants),
            "load_s": round(time.monotonic() - started, 1)}


def first_pages(stack, username: str, count: int) -> dict:
    """``count`` sequential requests (within ``LIST_BUDGET_S``) for the first
    page of the user's leads, on one keep-alive connection after a warm-up."""
    with requests.Session() as session:
        session.headers.update(sign_in(stack, username))
        url = f"{stack.url}/v1/leads?limit=50"
        for _ in range(WARM_UP):
            session.get(url, timeout=30)
        timings, others, items = [], Counter(), None
        deadline = time.monotonic() + LIST_BUDGET_S
        while len(timings) + others.total() < count and time.monotonic() < deadline:
            started = time.perf_counter()
            answer = session.get(url, timeout=30)
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status_code == 200:
                timings.append(elapsed)
                items = len(answer.json()["items"])
            else:
                others[str(answer.status_code)] += 1
    return {"requests": len(timings) + others.total(), "items": items, "other_statuses": dict(others),
            "latency_ms": latency(timings, (50, 95, 99, 100))}


def lead_list(stack, options) -> dict:
    """The first page of ``GET /v1/leads`` (default sort, 50 a page) with
    ``--staff-leads`` leads in the store: its manager's, then a consultant's."""
    result = fill_store(stack, options.staff_leads)
    say(f"  staff list: {result['leads']} leads in {STORE} ({result['loaded']} loaded "
        f"in {result['load_s']:g} s)")
    result["settled_s"], result["users"] = settle(), {}
    for username in (MANAGER, CONSULTANT):
        pages = result["users"][username] = first_pages(stack, username, options.staff_requests)
        say(f"  staff list {username}: {pages['requests']} requests, p50/p95/p99 "
            f"{pages['latency_ms']['p50']}/{pages['latency_ms']['p95']}/{pages['latency_ms']['p99']} ms, "
            f"others {pages['other_statuses'] or '-'}")
    return result
