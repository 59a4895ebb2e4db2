"""Notifications at scale (issue 10), against local fakes run in this process.

**Setup, through the real API.** The fake WeCom, DingTalk, Feishu, webhook
and Web Push receivers (``tests.support.fake_receivers.Receivers``, their
vendors' rate limits on) and an SMTP sink (aiosmtpd, with a login) start
here. ``manager.sh`` adds SH-PUDONG's channels pointing at them (``POST
/v1/admin/stores/SH-PUDONG/channels``): two signed webhooks (every kind), the
SMTP server (every kind), and five robots (two WeCom, two signed DingTalk, a
signed Feishu) carrying ``sla_warning`` only, then sends each a test message.
The group admin gives the bench's 20 consultants an email address (``PATCH
/v1/admin/users/{id}``); each of them signs in, chooses ``lead_update`` by
Web Push and email and ``sla_warning`` by Web Push and the robots, with a
mobile number to be @-ed by, and subscribes one "browser" of the fake push
service (``POST /v1/me/push-subscriptions``).

**Throughput.** ``lead_changed`` events, as the leads service publishes them
(its schema, JSON, persistent), go to the notifications service's own queue
at an open-loop rate for ``--notify-seconds``: comments that tell two
consultants (``lead_update``: two pushes, two emails and one POST to each
webhook = 6 deliveries), and one ``sla_warning`` every 4 s telling one
consultant (a push, five robots, two webhooks = 8), the mix set so that the
deliveries offered make ``--notify-rate`` a minute. A robot takes 20
messages a minute (WeCom, DingTalk), so they carry 75 of them; the volume
goes through Web Push, email and webhooks. The events go to the queue and
not to the ``leads.events`` exchange because that exchange also feeds the
customers and follow-ups services, which would retry and park events of
leads they have never heard of; and not as real leads because a lead costs
the whole system about 40 ms of CPU (README: about 45 leads/s on 2 cores),
while 10,000 deliveries a minute need about 28 events a second on top of
the deliveries' own work. The events' lead ids start with ``nb-``.

Counted: at the fakes every message that arrived for a ``nb-`` lead, each
with its identity (a webhook's ``X-Dealerflow-Id``, an email's Message-ID,
a push per browser and link, a robot message per robot, lead and mention),
so duplicates show; in the notifications database every delivery's status
(lost: pending or dead at the end, when all should have been sent) and its
lateness (``created_at`` to ``sent_at``). The rate sustained is the
deliveries sent per minute from 10 s after the first event to the last
event (the ramp left out; a system that falls behind shows a lower rate and
a growing lateness), and overall from the first event to the last sent.

**In-app push.** Every consultant of SH-PUDONG signs in and opens ``GET
/v1/stream`` (a ticket from ``POST /v1/stream/tickets``), read in a thread
each; leads are posted (the real path: gateway, leads, routing,
notifications, the gateway's stream) at ``--inapp-rate`` for
``--inapp-seconds``, open loop, and each lead's ``notification`` event on its
consultant's stream is timed from the lead's ``lead_assigned`` event
(``occurred_at`` in the leads service's outbox), from the inbox message's
``created_at`` and from the ``202``. Target: p99 from the event under 200 ms,
none missing.
"""
import http.client
import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone

import requests
from kombu import Connection
from sqlalchemy import text

from bench.common import Leads, cores_used, cpu_snapshot, intake_summary, latency, say, settle, to_epoch
from bench.loadgen import open_loop
from bench.staff import PASSWORD as DEMO_PASSWORD
from bench.system import labels, rows
from dealerflow.contracts import LeadChanged, schema
from tests.conftest import make_lead
from tests.support.fake_receivers import Receivers, SmtpSink

STORE = "SH-PUDONG"
BENCH_PASSWORD = "bench-password"  # staff_the_store's consultants
QUEUE = "evt-leads-lead_changed--notifications.handle_lead_changed"  # as nameko names it
PREFIX = "nb-"  # the bench's lead ids; lead_id >= 'nb-' AND < 'nb.' uses the column's index
IN_RANGE = "lead_id >= 'nb-' AND lead_id < 'nb.'"
SMTP_LOGIN = ("dealer", "s3cret")
WEBHOOKS = 2
ROBOTS = ("wecom", "wecom", "dingtalk", "dingtalk", "feishu")
ROBOT_EVERY_S = 4.0    # one sla_warning (to the robots) this often: 15 a minute, under WeCom's 20
TELL = 2               # consultants a comment tells
RAMP_S = 10            # left out of the sustained rate (a quarter of a shorter run)
LEAD = re.compile(r"/leads/(nb-[0-9a-f]{32})")
MENTION = re.compile(r"1380013\d{4}")


# -- the API ---------------------------------------------------------------------

def token(stack, username: str, password: str) -> dict:
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"username": username, "password": password},
                           timeout=30)
    answer.raise_for_status()
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def call(stack, method: str, path: str, headers: dict, body=None, ok=(200, 201, 204)):
    answer = requests.request(method, f"{stack.url}{path}", json=body, headers=headers, timeout=60)
    if answer.status_code not in ok:
        raise RuntimeError(f"{method} {path} answered {answer.status_code}: {answer.text[:300]}")
    return answer.json() if answer.content else None


def store_consultants(stack) -> list[tuple[str, str]]:
    """(user id, username) of the store's active consultants, from the gateway's database."""
    return [(row[0], row[1]) for row in rows(stack, "gateway", (
        "SELECT u.id, u.username FROM users u JOIN user_stores s ON s.user_id = u.id "
        f"WHERE s.store_code = '{STORE}' AND u.role = 'consultant' AND u.active ORDER BY u.username"))]


def password_of(username: str) -> str:
    return BENCH_PASSWORD if username.startswith("bench.") else DEMO_PASSWORD


def configure(stack, fakes: Receivers, sink: SmtpSink) -> dict:
    """The store's channels, the bench consultants' email, preferences and
    devices, all through the API (see the module's doc)."""
    admin, manager = token(stack, "admin", DEMO_PASSWORD), token(stack, "manager.sh", DEMO_PASSWORD)
    channels, endpoints = [], {}

    def add(kind: str, endpoint, body: dict) -> None:
        made = call(stack, "POST", f"/v1/admin/stores/{STORE}/channels", manager, body)
        channels.append(made)
        if endpoint is not None:
            endpoints[made["id"]] = endpoint

    for n in range(WEBHOOKS):
        secret = f"whsec-bench-{n}"
        hook = fakes.webhook(secret=secret)
        add("webhook", hook, {"type": "webhook", "name": f"bench CRM {n}", "url": hook.url, "secret": secret})
    add("email", None, {"type": "email", "name": "bench SMTP", "secret": SMTP_LOGIN[1],
                        "settings": sink.settings(sender="Dealerflow <noreply@bench.example.com>")})
    for n, kind in enumerate(ROBOTS):
        secret = None if kind == "wecom" else f"SECbench{n}{uuid.uuid4().hex}"
        robot = getattr(fakes, kind)(**({} if kind == "wecom" else {"secret": secret}))
        add(kind, robot, {"type": kind, "name": f"bench {kind} {n}", "url": robot.url, "secret": secret,
                          "kinds": ["sla_warning"]})
    tests = {}
    for channel in channels:
        if channel["type"] != "email":  # an email test goes to the admin's own address (the demo's have none)
            tests[f"{channel['type']} {channel['name']}"] = call(
                stack, "POST", f"/v1/admin/channels/{channel['id']}/test", manager)["outcome"]

    people = [(user_id, name) for user_id, name in store_consultants(stack) if name.startswith("bench.")]
    for user_id, name in people:
        call(stack, "PATCH", f"/v1/admin/users/{user_id}", admin, {"email": f"{name}@bench.example.com"})
    users, devices = {}, {}
    for n, (user_id, name) in enumerate(people):
        headers = token(stack, name, BENCH_PASSWORD)
        call(stack, "PUT", "/v1/me/notification-preferences", headers, {
            "channels": {"lead_update": ["inapp", "webpush", "email"],
                         "sla_warning": ["inapp", "webpush", "robot"]},
            "quiet_start": None, "quiet_end": None, "mention": f"1380013{n:04d}"})
        device = fakes.push_subscription()
        call(stack, "POST", "/v1/me/push-subscriptions", headers, json.loads(device.subscription))
        users[user_id], devices[user_id] = headers, device
    deadline = time.monotonic() + 60  # the users' email reaches the service as user_saved
    while stack.scalar("notifications", "SELECT count(*) FROM users WHERE email LIKE '%@bench.example.com'") \
            < len(people):
        if time.monotonic() > deadline:
            raise RuntimeError("the notifications service did not learn the consultants' email in 60 s")
        time.sleep(0.5)
    for endpoint in [*endpoints.values(), *devices.values()]:  # the tests' messages are not the bench's
        endpoint.received.clear()
    sink.messages.clear()
    return {"manager": manager, "channels": channels, "endpoints": endpoints, "users": users,
            "devices": devices, "tests": tests}


def unconfigure(stack, setup: dict) -> None:
    """Channels and devices away before the fakes go (a later phase must
    not keep retrying receivers that are gone)."""
    for channel in setup["channels"]:
        call(stack, "DELETE", f"/v1/admin/channels/{channel['id']}", setup["manager"])
    for user_id, headers in setup["users"].items():
        requests.delete(f"{stack.url}/v1/me/push-subscriptions", params={"endpoint": setup["devices"][user_id].url},
                        headers=headers, timeout=30)


# -- throughput -------------------------------------------------------------------

def machine_ticks() -> tuple[float, int, int]:
    """(now, all CPU ticks, idle and iowait ticks) of the whole machine:
    ``cpu_snapshot`` misses processes that start and end between two
    snapshots (someone else's test run), this does not."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:]]
    return time.monotonic(), sum(values), values[3] + values[4]


def machine_cores(before: tuple, after: tuple) -> float:
    """Cores the whole machine kept busy between two ``machine_ticks``."""
    _, total, idle = (a - b for a, b in zip(after, before))
    return round((total - idle) / total * (os.cpu_count() or 1), 2) if total else 0.0


def lead_changed(change: str, tell: list[str], details: dict) -> tuple[str, dict]:
    """(lead id, payload) of a ``lead_changed`` as ``services/leads/changes.announce`` records it."""
    lead_id = PREFIX + uuid.uuid4().hex
    payload = schema(LeadChanged).dump({
        "event_id": str(uuid.uuid4()), "occurred_at": datetime.now(timezone.utc), "version": LeadChanged.VERSION,
        "lead_id": lead_id, "store_code": STORE, "change": change, "actor_id": None, "reason": None,
        "status": "assigned", "stage": "new", "grade": "B", "consultant_id": tell[0], "customer_id": None,
        "customer_name": "王磊", "details": details, "tell": tell})
    return lead_id, payload


def schedule(rate_per_min: float, seconds: float, setup: dict):
    """The events' due offsets and kinds: sla_warnings every ``ROBOT_EVERY_S``,
    comments for the rest of the offered deliveries. Also the deliveries
    each kind makes."""
    webhooks = sum(1 for c in setup["channels"] if c["type"] == "webhook")
    robots = sum(1 for c in setup["channels"] if c["type"] in ("wecom", "dingtalk", "feishu"))
    per = {"lead_update": TELL * 2 + webhooks, "sla_warning": 1 + robots + webhooks}
    warnings = int(seconds // ROBOT_EVERY_S)
    comments_per_s = max(0.0, rate_per_min / 60 - per["sla_warning"] / ROBOT_EVERY_S) / per["lead_update"]
    due = [(i / comments_per_s, "lead_update") for i in range(round(comments_per_s * seconds))]
    due += [(ROBOT_EVERY_S * (i + 0.5), "sla_warning") for i in range(warnings)]
    return sorted(due), per


def publish_events(stack, due: list, users: list[str]) -> tuple[list, dict, float]:
    """Publish each event at its due time (open loop, with publisher
    confirms); returns (published epoch seconds, {lead id: kind}, the most
    the publisher fell behind its schedule, ms)."""
    leads, when, behind = {}, [], 0.0
    with Connection(stack.amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer(serializer="json")
        t0, last_said = time.perf_counter() + 0.05, 0
        for n, (offset, kind) in enumerate(due):
            wait = t0 + offset - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            behind = max(behind, -wait)
            if kind == "sla_warning":
                told = [users[n % len(users)]]
                lead_id, payload = lead_changed("sla_warning", told, {
                    "due_at": (datetime.now(timezone.utc) + timedelta(minutes=3)).isoformat()})
            else:
                first = n % len(users)
                told = [users[first], users[(first + 1 + n // len(users)) % len(users)]]
                if told[0] == told[1]:
                    told[1] = users[(first + 1) % len(users)]
                lead_id, payload = lead_changed("comment", told, {"excerpt": f"客户问了置换补贴 #{n}",
                                                                  "mentions": []})
            producer.publish(payload, exchange="", routing_key=QUEUE, delivery_mode=2)
            when.append(time.time())
            leads[lead_id] = kind
            if offset - last_said >= 15:
                last_said = offset
                say(f"  notifications: {n + 1:,} events published in {offset:.0f} s")
    return when, leads, round(behind * 1000, 1)


def deliveries_by_status(stack) -> dict:
    return dict(rows(stack, "notifications",
                     f"SELECT status, count(*) FROM deliveries WHERE {IN_RANGE} GROUP BY status"))


def received(setup: dict, sink: SmtpSink) -> dict:
    """Per channel type: (messages for the bench's leads, distinct of them)."""
    keys = defaultdict(list)
    for endpoint in setup["endpoints"].values():
        for got in list(endpoint.received):
            text = got.body.decode(errors="replace")
            lead = LEAD.search(text)
            if lead is None:
                continue
            if endpoint.kind == "webhook":
                keys["webhook"].append(got.headers.get("X-Dealerflow-Id"))
            else:
                mention = MENTION.search(text)
                keys[endpoint.kind].append((endpoint.key, lead.group(1), mention and mention.group(0)))
    for device in setup["devices"].values():
        for got in list(device.received):
            link = (got.json or {}).get("link") or ""
            if LEAD.search(link):
                keys["webpush"].append((device.key, link, (got.json or {}).get("kind")))
    for mail in list(sink.messages):
        text = mail.message.get_body(("plain",)).get_content()  # base64 or quoted-printable on the wire
        lead = LEAD.search(text)
        if lead:  # not by Message-ID: the sender's is cut at the dedupe key's first ':' (the same for all of an event)
            keys["email"].append((tuple(mail.rcpt_tos), lead.group(1)))
    return {channel: {"received": len(found), "distinct": len(set(found))} for channel, found in keys.items()}


def throughput(stack, setup: dict, sink: SmtpSink, options) -> dict:
    due, per = schedule(options.notify_rate, options.notify_seconds, setup)
    kinds = Counter(kind for _, kind in due)
    expected = sum(per[kind] * count for kind, count in kinds.items())
    say(f"  notifications: {len(due):,} events in {options.notify_seconds:g} s ({kinds['lead_update']:,} "
        f"comments x {per['lead_update']} deliveries, {kinds['sla_warning']} sla_warnings x "
        f"{per['sla_warning']}): {expected:,} deliveries, {expected / options.notify_seconds * 60:,.0f} a minute")
    settled = settle()
    who = labels(stack)
    cpu, machine = [cpu_snapshot(who)], [machine_ticks()]
    published, leads, behind_ms = publish_events(stack, due, list(setup["users"]))
    cpu.append(cpu_snapshot(who))
    machine.append(machine_ticks())
    first, last = published[0], published[-1]
    deadline = time.monotonic() + options.notify_drain
    while True:
        statuses = deliveries_by_status(stack)
        if statuses.get("sent", 0) >= expected or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    drained_s = round(time.time() - last, 1)
    cpu.append(cpu_snapshot(who))
    machine.append(machine_ticks())
    time.sleep(1)  # the last answers reach the fakes' lists (a receiver answers before it is recorded)
    found = rows(stack, "notifications",
                 f"SELECT channel, status, created_at, sent_at, attempts FROM deliveries WHERE {IN_RANGE}")
    inbox = rows(stack, "notifications", f"SELECT lead_id, created_at FROM inbox_messages WHERE {IN_RANGE}")
    statuses = Counter(status for _, status, *_ in found)
    sent = [(channel, to_epoch(created), to_epoch(done)) for channel, status, created, done, _ in found
            if status == "sent"]
    ramp = min(RAMP_S, (last - first) / 4)  # a short run keeps most of its window
    window = [done for _, _, done in sent if first + ramp <= done <= last]
    last_sent = max((done for *_, done in sent), default=last)
    span = (last_sent - first) or 1
    backlog = [done for _, _, done in sent if done > last]  # sent after the last event: delivery alone
    buckets = Counter(int((done - first) // 10) for *_, done in sent)
    by_channel = defaultdict(list)
    for channel, created, done in sent:
        by_channel[channel].append((done - created) * 1000)
    at_fakes = received(setup, sink)
    first_inbox = {}
    for lead_id, created in inbox:
        first_inbox[lead_id] = min(first_inbox.get(lead_id, 1e18), to_epoch(created))
    published_at = dict(zip(leads, published))
    handled_ms = [(first_inbox[lead] - published_at[lead]) * 1000 for lead in leads if lead in first_inbox]
    result = {
        "seconds": options.notify_seconds, "offered_per_min": round(expected / options.notify_seconds * 60),
        "events": dict(kinds), "deliveries_per_event": per, "expected": expected, "settled_s": settled,
        "publisher_behind_ms": behind_ms,
        "inbox_messages": len(inbox), "events_handled": len(first_inbox),
        "statuses": dict(statuses), "sent": len(sent),
        "lost": expected - len(sent),  # not sent when the bench stopped waiting:
        "dead": statuses.get("dead", 0), "unsent_at_deadline": statuses.get("pending", 0) + statuses.get("sending", 0),
        "never_made": expected - len(found),
        "retried": sum(1 for *_, attempts in found if attempts),
        "sustained_per_min": round(len(window) / max(last - first - ramp, 1) * 60),
        "overall_per_min": round(len(sent) / span * 60),
        "backlog_drained_per_min": round(len(backlog) / (last_sent - last) * 60) if last_sent - last >= 5 else None,
        "per_10s": [buckets.get(i, 0) for i in range(max(buckets, default=-1) + 1)],
        "drained_after_last_event_s": drained_s,
        "lateness_ms": latency((late for lates in by_channel.values() for late in lates), (50, 99, 100)),
        "lateness_ms_by_channel": {channel: dict(latency(lates, (50, 99, 100)), sent=len(lates))
                                   for channel, lates in sorted(by_channel.items())},
        "event_to_inbox_ms": latency(handled_ms, (50, 99, 100)),
        "at_fakes": at_fakes,
        "received": sum(c["received"] for c in at_fakes.values()),
        "duplicates": sum(c["received"] - c["distinct"] for c in at_fakes.values()),
        "cpu_cores": {"publishing": cores_used(cpu[0], cpu[1]), "draining": cores_used(cpu[1], cpu[2])},
        "machine_busy_cores": {"publishing": machine_cores(machine[0], machine[1]),
                               "draining": machine_cores(machine[1], machine[2])},
        "cpu_ms_per_delivery": cores_used(cpu[0], cpu[2], per=len(sent)) if sent else {},
    }
    say(f"  notifications: {describe_throughput(result)}")
    return result


def describe_throughput(r: dict) -> str:
    n = r["lateness_ms"]
    lost = (f"{r['lost']} lost: {r['dead']} dead, {r['unsent_at_deadline']} unsent after "
            f"{r['drained_after_last_event_s']} s, {r['never_made']} never made" if r["lost"] else "0 lost")
    return (f"{r['sent']:,}/{r['expected']:,} sent ({lost}, {r['duplicates']} duplicates, "
            f"{r['received']:,} at the fakes), sustained {r['sustained_per_min']:,}/min "
            f"(offered {r['offered_per_min']:,}), created->sent p50/p99/max {n['p50']}/{n['p99']}/{n['max']} ms, "
            f"drained {r['drained_after_last_event_s']} s after the last event; the machine "
            f"{r['machine_busy_cores']['publishing']} cores busy, of which notifications "
            f"{r['cpu_cores']['publishing'].get('notifications')}")


# -- in-app push latency ---------------------------------------------------------------

class Stream:
    """One signed-in user's ``/v1/stream``, read in a thread that notes the
    wall clock (``time.time``) at which each ``notification`` arrives, and
    each ``lead_assigned`` (the leads service's own event, which the stream
    also carries to the lead's consultant: when it was published)."""

    def __init__(self, stack, headers: dict):
        ticket = requests.post(f"{stack.url}/v1/stream/tickets", headers=headers, timeout=30).json()["ticket"]
        self.connection = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=120)
        self.connection.request("GET", f"/v1/stream?ticket={ticket}")
        answer = self.connection.getresponse()
        if answer.status != 200:
            raise RuntimeError(f"/v1/stream answered {answer.status}: {answer.read()[:300]!r}")
        self.arrived: dict[str, tuple[float, dict]] = {}  # lead id -> (when, the notification)
        self.assigned: dict[str, float] = {}  # lead id -> when its lead_assigned arrived
        self.duplicates = 0
        self.thread = threading.Thread(target=self.read, args=(answer,), name="notification-stream", daemon=True)
        self.thread.start()

    def read(self, answer) -> None:
        event = None
        try:
            for line in answer:
                if line.startswith(b"event: "):
                    event = line[7:].strip()
                elif line.startswith(b"data: ") and event == b"notification":
                    now, data = time.time(), json.loads(line[6:])
                    if data.get("lead_id") in self.arrived:
                        self.duplicates += 1
                    else:
                        self.arrived[data.get("lead_id")] = (now, data)
                elif line.startswith(b"data: ") and event == b"lead_assigned":
                    self.assigned.setdefault(json.loads(line[6:]).get("lead_id"), time.time())
                elif not line.strip():
                    event = None
        except (OSError, http.client.HTTPException, ValueError):  # closed by close(), or the gateway went
            pass

    def close(self) -> None:
        try:
            self.connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(timeout=5)
        self.connection.close()


def arrived(streams: dict, lead_id: str):
    for stream in streams.values():
        if lead_id in stream.arrived:
            return stream.arrived[lead_id]
    return None


def warm_up(stack, streams: dict, in_a_row: int = 10, timeout: float = 60) -> float | None:
    """Post single leads until ``in_a_row`` reach their consultant's stream,
    each within 5 s: every gateway process subscribes to the broker when its
    first stream opens, and an event published before that is never seen."""
    started, streak = time.monotonic(), 0
    while time.monotonic() - started < timeout:
        lead_id = stack.post_lead(make_lead()).json().get("id")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not arrived(streams, lead_id):
            time.sleep(0.02)
        streak = streak + 1 if arrived(streams, lead_id) else 0
        if streak >= in_a_row:
            return round(time.monotonic() - started, 1)
    return None


def assigned_at(stack, since: float) -> dict:
    """{lead id: (occurred_at epoch, consultant id)} of the ``lead_assigned``
    events the leads service recorded since ``since``."""
    since_at = datetime.fromtimestamp(since - 5, timezone.utc)
    if stack.backend == "sqlite":  # stored as naive UTC text
        since_at = since_at.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S")
    rows(stack, "leads", "SELECT 1")  # the engine
    with stack.engines["leads"].connect() as connection:
        found_rows = connection.execute(text(
            "SELECT payload FROM outbox WHERE event_type = 'lead_assigned' AND created_at >= :since"),
            {"since": since_at}).all()
    found = {}
    for payload, in found_rows:
        event = payload if isinstance(payload, dict) else json.loads(payload)
        found.setdefault(event["lead_id"], (datetime.fromisoformat(event["occurred_at"]).timestamp(),
                                            event["consultant_id"]))
    return found


def inapp_latency(stack, setup: dict, options) -> dict:
    people = store_consultants(stack)
    streams = {}
    try:
        for user_id, name in people:
            headers = setup["users"].get(user_id) or token(stack, name, password_of(name))
            streams[user_id] = Stream(stack, headers)
        ready_s = warm_up(stack, streams)
        leads = Leads(stack.port, stack.sh_key)
        batch = leads.requests(round(options.inapp_rate * options.inapp_seconds))
        settled = settle()
        who = labels(stack)
        cpu, machine = [cpu_snapshot(who)], [machine_ticks()]
        started = time.time()
        run = open_loop("127.0.0.1", stack.port, batch, options.inapp_rate, options.connections)
        cpu.append(cpu_snapshot(who))
        machine.append(machine_ticks())
        accepted = {json.loads(a.body)["id"]: a.wall for a in run.answers if a.status == 202}
        deadline = time.monotonic() + options.process_timeout
        while time.monotonic() < deadline:
            events = assigned_at(stack, started)
            waiting = [lead for lead in accepted if lead not in events or not arrived(streams, lead)]
            if not waiting:
                break
            time.sleep(0.5)
    finally:
        for stream in streams.values():
            stream.close()
    events = assigned_at(stack, started)
    from_event, from_inbox, from_202, missing, unassigned = [], [], [], 0, 0
    published, handled = [], []  # event -> its lead_assigned on the stream -> the notification on it
    assigned_seen = {}
    for stream in streams.values():
        assigned_seen.update(stream.assigned)
    for lead_id, answered in accepted.items():
        if lead_id not in events:
            unassigned += 1  # pooled: nobody to tell
            continue
        got = arrived(streams, lead_id)
        if got is None:
            missing += 1
            continue
        when, data = got
        from_event.append((when - events[lead_id][0]) * 1000)
        from_inbox.append((when - datetime.fromisoformat(data["created_at"]).timestamp()) * 1000)
        from_202.append((when - answered) * 1000)
        if lead_id in assigned_seen:
            published.append((assigned_seen[lead_id] - events[lead_id][0]) * 1000)
            handled.append((when - assigned_seen[lead_id]) * 1000)
    result = dict(intake_summary(run), seconds=options.inapp_seconds, settled_s=settled, streams=len(streams),
                  subscribed_after_s=ready_s, assigned=len(accepted) - unassigned, unassigned=unassigned,
                  cpu_cores=cores_used(cpu[0], cpu[1]), machine_busy_cores=machine_cores(*machine),
                  notifications=len(from_event), missing=missing,
                  duplicates=sum(stream.duplicates for stream in streams.values()),
                  event_to_stream_ms=latency(from_event, (50, 90, 99, 100)),
                  inbox_to_stream_ms=latency(from_inbox, (50, 90, 99, 100)),
                  event_to_lead_assigned_on_stream_ms=latency(published, (50, 90, 99, 100)),
                  lead_assigned_to_notification_on_stream_ms=latency(handled, (50, 90, 99, 100)),
                  lead_to_stream_ms=latency(from_202, (50, 90, 99, 100)))
    say(f"  in-app push: {describe_inapp(result)}")
    return result


def describe_inapp(r: dict) -> str:
    e, i, n = r["event_to_stream_ms"], r["inbox_to_stream_ms"], r["lead_to_stream_ms"]
    p, h = r["event_to_lead_assigned_on_stream_ms"], r["lead_assigned_to_notification_on_stream_ms"]
    return (f"{r['notifications']}/{r['assigned']} on {r['streams']} streams ({r['missing']} missing, "
            f"{r['duplicates']} twice), lead_assigned->stream p50/p99/max {e['p50']}/{e['p99']}/{e['max']} ms "
            f"(the event itself on the stream p99 {p['p99']} ms, then its notification p99 {h['p99']} ms), "
            f"inbox->stream p50/p99 {i['p50']}/{i['p99']} ms, 202->stream p50/p99 {n['p50']}/{n['p99']} ms "
            f"(offered {r['offered_per_s']:g}/s, accepted {r['accepted_per_s']:g}/s; the machine "
            f"{r['machine_busy_cores']} cores busy)")


# -- both ------------------------------------------------------------------------------

def notification_figures(stack, options) -> dict:
    figures = {}
    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd warns at every login of a deprecated field
    with Receivers() as fakes, SmtpSink(login=SMTP_LOGIN) as sink:
        fakes.server.socket.listen(512)  # its default backlog of 5 drops connections the 50 senders open at once
        began = time.monotonic()
        setup = configure(stack, fakes, sink)
        figures["setup"] = {"seconds": round(time.monotonic() - began, 1), "channel_tests": setup["tests"],
                            "channels": Counter(c["type"] for c in setup["channels"]),
                            "consultants_with_email_and_push": len(setup["users"])}
        say(f"  notifications: set up in {figures['setup']['seconds']} s; test messages: "
            + ", ".join(f"{name} {outcome}" for name, outcome in setup["tests"].items()))
        if options.notify_seconds:
            extra = [str(n) for n in range(2, options.notify_replicas + 1)]
            for replica in extra:  # deliveries and events are shared across replicas (SKIP LOCKED, dedupe keys)
                stack.start_process("notifications", replica=replica)
                deadline = time.monotonic() + 60
                while "Connected to amqp" not in stack.log(f"notifications-{replica}") \
                        and time.monotonic() < deadline:
                    time.sleep(0.5)
            try:
                figures["throughput"] = throughput(stack, setup, sink, options)
            finally:
                for replica in extra:
                    stack.kill(f"notifications-{replica}")
            figures["throughput"]["replicas"] = options.notify_replicas
        if options.inapp_rate:
            say(f"  in-app push: {options.inapp_rate:g} leads/s for {options.inapp_seconds:g} s, "
                "every consultant of the store listening")
            figures["inapp"] = inapp_latency(stack, setup, options)
        unconfigure(stack, setup)
    return figures


def targets(figures: dict) -> dict:
    marks = {}
    if "throughput" in figures:
        r = figures["throughput"]
        marks["10,000 notifications/min across channels, none lost, none twice"] = {
            "measured": f"{r['sustained_per_min']:,}/min sustained (offered {r['offered_per_min']:,}; "
                        f"{r['sent']:,} of {r['expected']:,} sent, {r['dead']} dead, {r['unsent_at_deadline']} unsent "
                        f"{r['drained_after_last_event_s']} s after the last event, {r['duplicates']} duplicates "
                        f"at the fakes; created->sent p99 {r['lateness_ms']['p99']} ms)",
            "result": "PASS" if (r["sustained_per_min"] >= 10_000 and r["lost"] == 0 and r["duplicates"] == 0
                                 and r["received"] == r["sent"]) else "MISS"}
    if "inapp" in figures:
        r = figures["inapp"]
        p99 = r["event_to_stream_ms"]["p99"]
        marks["in-app push p99 < 200 ms from lead_assigned to the stream"] = {
            "measured": f"p99 {p99} ms, {r['missing']} of {r['assigned']} missing "
                        f"(offered {r['offered_per_s']:g} leads/s)",
            "result": "PASS" if (r["missing"] == 0 and r["assigned"] and p99 is not None and p99 < 200)
            else "MISS"}
    return marks
