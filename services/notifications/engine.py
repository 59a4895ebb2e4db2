"""The delivery timer: every replica, every half second, sends what is due
through Web Push, email, robots and webhooks, each delivery once.

A tick (``deliver_due``) has three steps, and no transaction is open while
a receiver is being called:

1. **Claim** (one transaction). Lock the store channels that have due
   deliveries, skipping those another replica holds (``FOR UPDATE SKIP
   LOCKED`` on PostgreSQL; on SQLite every service transaction is ``BEGIN
   IMMEDIATE``, one writer at a time); then take due deliveries of those
   channels and of Web Push (no channel), at most ``BATCH``, again
   skipping locked rows. A channel's deliveries are only ever claimed by the
   replica holding its lock, so its rate limit and circuit are decided by
   one replica at a time. Each claimed row becomes ``sending`` with this
   replica as ``lease_owner`` until ``next_attempt_at`` (``LEASE``): a
   replica that dies mid-send leaves rows that come due again.
2. **Send**, concurrently (an eventlet ``GreenPool`` of ``POOL`` green
   threads; ``channels.send`` makes one attempt with a timeout).
3. **Settle** (one transaction), only the rows this replica still holds:

   - ``SENT``: ``sent_at``.
   - ``RETRY`` (a transient failure: a timeout, a 5xx, a robot's "busy"):
     ``attempts`` + 1 and a back-off with full jitter (``timing.backoff``:
     2 s doubling to 10 min); dead after ``MAX_ATTEMPTS`` (8).
   - ``RATE_LIMITED``: the receiver said "too many": the delivery and every
     other of its channel wait ``retry_after``, else the receiver's window
     (``PAUSE``: DingTalk throttles for 10 minutes), and no attempt is used.
   - ``REFUSED`` (permanent: a wrong key, a bad address): dead at once; a
     Web Push subscription the push service says is gone is deleted.

Per channel, at claim time:

- **Rate limit** (``RATE_LIMITS``: WeCom and DingTalk robots 20 a minute,
  Feishu bots 100 a minute and 5 a second): the channel's deliveries sent
  in the window, plus those in flight, from the database, so the limit
  holds across replicas. Over it, the rest wait until the oldest of the
  window ages out: queued, never dropped.
- **Circuit breaker**: ``CIRCUIT_FAILURES`` (5) failures in a row open it for
  ``CIRCUIT_OPEN`` (60 s); its deliveries wait meanwhile without using
  attempts. Then it is half open: one delivery goes as a probe while the
  others wait; the probe's success closes it, its failure opens it again.
  Any answer but a transient failure (sent, refused, rate limited) shows
  the receiver is there, and closes it.
- A channel that was disabled or deleted: its deliveries are dead (an admin
  can resend them once it works again).
"""
import json
import logging
import os
import socket
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import eventlet
from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import delete, func, select, update

from dealerflow.db import utcnow
from dealerflow.metrics import count_on_commit
from services.notifications import channels, crypto, timing
from services.notifications.channels import REFUSED, RETRY, SENT, Message, Outcome, Target
from services.notifications.models import Delivery, PushSubscription, StoreChannel

log = logging.getLogger(__name__)

OWNER = f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
BATCH = 200                     # deliveries one tick claims at most
POOL = 50                       # sends in flight at once per replica
SEND_TIMEOUT_S = 10.0           # one attempt's limit (connect and answer)
LEASE = timedelta(seconds=60)   # a claim's life: longer than any one attempt
WINDOW = timedelta(seconds=60)
RATE_LIMITS = {  # (messages, window) a receiver takes: WeCom's and DingTalk's robots, Feishu's bots
    "wecom": ((20, WINDOW),), "dingtalk": ((20, WINDOW),), "feishu": ((100, WINDOW), (5, timedelta(seconds=1)))}
PAUSE = {"dingtalk": timedelta(minutes=10)}  # a receiver's throttle when it does not say; else WINDOW
CIRCUIT_FAILURES = 5
CIRCUIT_OPEN = timedelta(seconds=60)
PROBE_WAIT = timedelta(seconds=2)  # how often the others look again while a probe or a slot is pending

# dealerflow.metrics lists them all: an inbox message counts as channel "inapp", outcome "created"
# (fanout.py); a delivery's attempt by its channel and outcome once it is settled
NOTIFICATIONS = Counter("dealerflow_notifications", "Notifications: inbox messages made and delivery "
                        "attempts settled, by channel and outcome", ["channel", "outcome"])


@dataclass
class Job:
    """One claimed delivery, ready to send (``ready``: an outcome decided
    without sending, such as a secret the key cannot open)."""
    id: str
    channel: str
    target: Target | None
    message: Message
    ready: Outcome | None = None


def rate_of(channel_type: str) -> int | None:
    """A receiver's messages a minute (None: no limit we know of)."""
    return next((count for count, window in RATE_LIMITS.get(channel_type, ()) if window == WINDOW), None)


def app_url(link: str | None) -> str | None:
    """The app's link as an absolute URL (``NOTIFICATIONS_APP_URL``, the
    address staff open the app at)."""
    if not link:
        return None
    return os.environ.get("NOTIFICATIONS_APP_URL", "http://127.0.0.1:8000").rstrip("/") + link


def circuit_state(channel: StoreChannel, now) -> str:
    """What the circuit is at ``now``: an open one whose rest is over is half open."""
    if channel.circuit == "open" and channel.open_until is not None and channel.open_until <= now:
        return "half_open"
    return channel.circuit or "closed"


def admit(channel: StoreChannel, due: int, sent: list, in_flight: int, now):
    """How many of the channel's ``due`` deliveries may go now, and until
    when the others wait (None: none waits). ``sent``: when its deliveries
    of the last minute were sent, oldest first."""
    if channel.paused_until is not None and channel.paused_until > now:
        return 0, channel.paused_until
    state = circuit_state(channel, now)
    if state == "open":
        return 0, channel.open_until
    if state == "half_open":
        return (0 if in_flight else 1), now + PROBE_WAIT
    admitted, wait = due, None
    for count, window in RATE_LIMITS.get(channel.type, ()):
        recent = [moment for moment in sent if moment > now - window]
        room = max(0, count - len(recent) - in_flight)
        if room < admitted:  # the rest wait until the oldest of the window ages out
            admitted = room
            frees = recent[0] + window if recent else now + PROBE_WAIT
            wait = frees if wait is None else max(wait, frees)
    return admitted, wait


def usage(session, channel_ids, now) -> tuple[dict, dict]:
    """Per channel: when its deliveries of the last minute were sent (oldest
    first), and how many are in flight."""
    sent = defaultdict(list)
    for channel_id, sent_at in session.execute(
            select(Delivery.channel_id, Delivery.sent_at)
            .where(Delivery.channel_id.in_(channel_ids), Delivery.sent_at > now - WINDOW)
            .order_by(Delivery.sent_at)):
        sent[channel_id].append(sent_at)
    flying = dict(session.execute(
        select(Delivery.channel_id, func.count())
        .where(Delivery.channel_id.in_(channel_ids), Delivery.status == "sending", Delivery.next_attempt_at > now)
        .group_by(Delivery.channel_id)).all())
    return sent, flying


def bury(session, condition, answer: str) -> None:
    """Make the due deliveries matching ``condition`` dead letters, with why."""
    session.execute(update(Delivery).where(condition).values(
        status="dead", next_attempt_at=None, lease_owner=None, last_answer=answer)
        .execution_options(synchronize_session=False))


def claim(session, owner: str, now) -> list[Job]:
    """Take what this replica may send now (see the module's doc); the transaction is ended."""
    due_channels = sorted(filter(None, session.scalars(
        select(Delivery.channel_id).where(Delivery.next_attempt_at <= now).distinct())))
    locked = {channel.id: channel for channel in session.scalars(
        select(StoreChannel).where(StoreChannel.id.in_(due_channels)).order_by(StoreChannel.id)
        .with_for_update(skip_locked=True))} if due_channels else {}
    existing = set(session.scalars(select(StoreChannel.id).where(StoreChannel.id.in_(due_channels)))) \
        if due_channels else set()
    gone = [channel_id for channel_id in due_channels if channel_id not in existing]
    if gone:
        bury(session, Delivery.channel_id.in_(gone) & (Delivery.next_attempt_at <= now), "the channel was deleted")
    for channel in locked.values():
        if not channel.enabled:
            bury(session, (Delivery.channel_id == channel.id) & (Delivery.next_attempt_at <= now),
                 "the channel is disabled")
    usable = [channel_id for channel_id, channel in locked.items() if channel.enabled]
    rows = session.scalars(
        select(Delivery).where(Delivery.next_attempt_at <= now,
                               Delivery.channel_id.is_(None) | Delivery.channel_id.in_(usable))
        .order_by(Delivery.next_attempt_at).limit(BATCH).with_for_update(skip_locked=True)).all()
    groups = defaultdict(list)
    for row in rows:
        groups[row.channel_id].append(row)
    limited = [channel_id for channel_id in groups.keys() - {None} if locked[channel_id].type in RATE_LIMITS]
    sent, flying = usage(session, limited, now) if limited else ({}, {})  # webhooks and email have no limit
    claimed = list(groups.pop(None, []))
    for channel_id, group in groups.items():
        channel = locked[channel_id]
        admitted, wait = admit(channel, len(group), sent.get(channel_id, []), flying.get(channel_id, 0), now)
        if circuit_state(channel, now) != channel.circuit:
            channel.circuit = "half_open"
        claimed += group[:admitted]
        if wait is not None:  # every due delivery of the channel waits, not only this batch's
            taken = [row.id for row in group[:admitted]]
            session.execute(update(Delivery).where(Delivery.channel_id == channel_id, Delivery.next_attempt_at <= now,
                                                   Delivery.id.not_in(taken))
                            .values(status="pending", lease_owner=None, next_attempt_at=wait)
                            .execution_options(synchronize_session=False))
    for row in claimed:
        row.status, row.lease_owner, row.next_attempt_at = "sending", owner, now + LEASE
    session.commit()
    jobs = [job_for(session, row, locked.get(row.channel_id)) for row in claimed]
    session.commit()  # ends the reads (on SQLite a transaction holds the write lock) before the sends
    return jobs


def job_for(session, row: Delivery, channel: StoreChannel | None) -> Job:
    """What sending this delivery needs: where to (secrets opened) and what."""
    message = Message(kind=row.kind, title=row.title, body=row.body, language=row.language,
                      link=app_url(row.link), mention=row.mention, event_id=row.dedupe_key,
                      calendar=row.calendar)
    try:
        if row.channel == "webpush":
            device = session.get(PushSubscription, row.subscription_id)
            if device is None:
                return Job(row.id, row.channel, None, message, Outcome(REFUSED, "the push subscription is gone"))
            return Job(row.id, row.channel, webpush_target(session, device), message)
        return Job(row.id, row.channel, Target(url=channel.url, secret=crypto.unseal(channel.secret),
                                                settings=dict(channel.settings or {}), to=row.address), message)
    except crypto.SecretUnreadable as exc:
        return Job(row.id, row.channel, None, message, Outcome(REFUSED, str(exc)))


def webpush_target(session, device: PushSubscription) -> Target:
    """A browser's subscription (``to``, as ``PushSubscription.toJSON()``)
    and the VAPID key and subject that sign for it."""
    return Target(to=json.dumps({"endpoint": device.endpoint, "keys": {"p256dh": device.p256dh,
                                                                       "auth": device.auth}}),
                  secret=crypto.vapid_private_key(session),
                  settings={"subject": os.environ.get("NOTIFICATIONS_VAPID_SUBJECT",
                                                      "mailto:notifications@dealerflow.invalid")})


def attempt(send, job: Job) -> Outcome:
    """One attempt; a sender that raises (a bug) counts as a transient failure."""
    if job.ready is not None:
        return job.ready
    try:
        return send(job.channel, job.target, job.message, SEND_TIMEOUT_S)
    except Exception as exc:  # the tick goes on with the other deliveries
        log.exception("delivery %s: the %s sender failed", job.id, job.channel)
        return Outcome(RETRY, f"{type(exc).__name__}: {exc}"[:500])


def send_all(jobs: list[Job], send, pool_size: int = POOL) -> list[Outcome]:
    """Every job attempted once, ``pool_size`` at a time (green threads)."""
    pool = eventlet.GreenPool(pool_size)
    return list(pool.imap(lambda job: attempt(send, job), jobs))


def settle(session, owner: str, jobs: list[Job], outcomes: list[Outcome], now) -> dict:
    """Store what came of each attempt (see the module's doc), for the rows
    this replica still holds; how many of each outcome."""
    rows = {row.id: row for row in session.scalars(
        select(Delivery).where(Delivery.id.in_([job.id for job in jobs]), Delivery.status == "sending",
                               Delivery.lease_owner == owner).with_for_update())}
    channel_ids = sorted({row.channel_id for row in rows.values() if row.channel_id})
    held = {channel.id: channel for channel in session.scalars(
        select(StoreChannel).where(StoreChannel.id.in_(channel_ids)).order_by(StoreChannel.id)
        .with_for_update())} if channel_ids else {}
    counts = defaultdict(int)
    for job, outcome in zip(jobs, outcomes):
        row = rows.get(job.id)
        if row is None:
            log.info("delivery %s: the claim was taken over; its outcome (%s) is dropped", job.id, outcome.status)
            continue
        counts[outcome.status] += 1
        count_on_commit(session, NOTIFICATIONS.labels(row.channel, outcome.status).inc)
        apply(session, row, held.get(row.channel_id), outcome, now)
    session.commit()
    return dict(counts)


def apply(session, row: Delivery, channel: StoreChannel | None, outcome: Outcome, now) -> None:
    row.last_answer, row.lease_owner = (outcome.answer or "")[:500], None
    if outcome.status == SENT:
        row.status, row.sent_at, row.next_attempt_at = "sent", now, None
    elif outcome.status == RETRY:
        row.attempts += 1
        if row.attempts >= timing.MAX_ATTEMPTS:
            row.status, row.next_attempt_at = "dead", None
        else:
            wait = max(timing.backoff(row.attempts), outcome.retry_after or 0)
            row.status, row.next_attempt_at = "pending", now + timedelta(seconds=wait)
    elif outcome.status == REFUSED:
        row.status, row.next_attempt_at = "dead", None
        if row.channel == "webpush" and row.subscription_id:
            session.execute(delete(PushSubscription).where(PushSubscription.id == row.subscription_id))
    else:  # RATE_LIMITED: wait without using an attempt
        pause = (timedelta(seconds=outcome.retry_after) if outcome.retry_after
                 else PAUSE.get(row.channel, WINDOW))
        row.status, row.next_attempt_at = "pending", now + pause
        if channel is not None:
            channel.paused_until = max(channel.paused_until or now, now + pause)
    if channel is not None:
        trip(channel, outcome, now)


def trip(channel: StoreChannel, outcome: Outcome, now) -> None:
    """The circuit after an answer: a transient failure counts (the fifth
    in a row, or a failed probe, opens it); any other answer closes it."""
    channel.last_answer = (outcome.answer or "")[:500]
    if outcome.status != RETRY:
        channel.failures, channel.circuit, channel.open_until = 0, "closed", None
        return
    channel.failures += 1
    if channel.circuit == "half_open" or channel.failures >= CIRCUIT_FAILURES:
        channel.circuit, channel.open_until = "open", now + CIRCUIT_OPEN


def circuit_gauges(session, now):
    """``dealerflow_channel_circuit_open{channel,store}`` at scrape time: 1
    while an enabled channel of that type in that store has its circuit
    open (the ops server's ``extra_gauges``)."""
    gauge = GaugeMetricFamily("dealerflow_channel_circuit_open", "1 while a store's channel of this type has "
                              "its circuit open", labels=["channel", "store"])
    open_ = defaultdict(int)
    for channel in session.scalars(select(StoreChannel).where(StoreChannel.enabled.is_(True))):
        key = (channel.type, channel.store_code)
        open_[key] = max(open_[key], int(circuit_state(channel, now) == "open"))
    for labels, value in sorted(open_.items()):
        gauge.add_metric(list(labels), value)
    yield gauge


def deliver_due(session, owner: str = OWNER, now=None, send=None, pool_size: int = POOL) -> dict:
    """One tick: claim, send, settle; how many deliveries came to each
    outcome. ``now`` (tests) stands for the clock at every step."""
    jobs = claim(session, owner, now or utcnow())
    if not jobs:
        return {}
    outcomes = send_all(jobs, send or channels.send, pool_size)
    return settle(session, owner, jobs, outcomes, now or utcnow())
