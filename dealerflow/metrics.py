"""Prometheus metrics of the four nameko services, served by each one's ops
server (``dealerflow.ops``) on ``GET /metrics``.

No metric has a ``service`` label: Prometheus' own job, pod and container
labels tell the processes apart. Every process exposes the metrics below
that it has something to say about; each is a plain prometheus-client
metric in the process's default registry.

Counted as things happen (a counter increment, no SQL):

- ``dealerflow_rpc_requests_total{method,outcome}``: RPCs answered;
  ``outcome`` is ``ok``, ``refused`` (the method raised one of its
  ``expected_exceptions``: not found, not allowed, invalid input) or
  ``error`` (anything else: a bug or an outage).
- ``dealerflow_rpc_duration_seconds{method}``: from the worker's start to
  its result, reply not included.
- ``dealerflow_deliveries_total{queue,outcome}``: messages of the event and
  intake queues handled; ``ok``, ``retried`` (sent to ``<queue>.retry.<n>s``),
  ``parked`` (sent to ``<queue>.parked`` after the last retry) or ``waited``
  (requeued unchanged after the outage back-off: its database or the broker
  was unavailable, or its retry could not be published).
- ``dealerflow_delivery_duration_seconds{queue}``: how long a delivery held
  a worker, its retry publish or its outage back-off included; on a queue
  handled in batches (``messaging.Batching``: ``leads.intake`` and
  ``lead_received``'s), how long a batch held its worker.
- ``dealerflow_batch_deliveries{queue}``: how many deliveries each batch
  took, on those queues: 1 while the queue is quiet, more as it backs up.
- ``dealerflow_delivery_age_seconds{queue}``: from its publication to the
  moment a worker starts on it, for messages Dealerflow stamps
  (``outbox.PUBLISHED_AT_HEADER``: every outbox event, the gateway's
  intake message); a retried message keeps its stamp, so its retry delays
  count (and a replayed one its time parked). Hosts' clocks must agree (NTP): the two moments are read on
  different machines.

Asked at scrape time (``ServiceGauges``), at most every ``CACHE_S`` seconds
however many scrapers ask:

- ``dealerflow_queue_depth{queue}``: ready messages in the service's own
  queues (``rpc-<service>`` and every queue it consumes), asked of the
  broker with a passive ``queue_declare`` on a connection of its own;
  ``dealerflow_parked_messages{queue}``: ready messages in
  ``<queue>.parked`` (0 when that queue was never needed). Absent while
  the broker does not answer (``/readyz`` says why).
- ``dealerflow_outbox_backlog``: the service's outbox rows not yet marked
  sent (a few are normal: rows are marked in a batch every second);
  ``dealerflow_outbox_oldest_age_seconds``: the oldest one's age (0 when
  none). Absent while the database does not answer.
- ``dealerflow_workers_in_flight`` and ``dealerflow_oldest_worker_age_seconds``
  (RPCs, deliveries and timers; the longest one has gone since it began or
  last called ``ops.progress()``: what ``/healthz`` judges hung).

The domain's own, defined where they are counted, and counted only once
their transaction commits (``count_on_commit``: a message handled again
after a rollback counts once):

- leads (``services/leads/assignment.py``):
  ``dealerflow_assignment_latency_seconds`` (from the gateway's accepting
  the lead to its first owner), ``dealerflow_sla_warnings_total{store}``,
  ``dealerflow_sla_breaches_total{store}``;
- followups (``services/followups/tasks.py``):
  ``dealerflow_reminders_fired_total{kind}`` (``reminder`` before a task is
  due, ``escalation`` once it is missed) and
  ``dealerflow_reminder_lateness_seconds`` (the commit that fires it minus
  the moment it was due to fire);
- notifications: ``dealerflow_notifications_total{channel,outcome}``
  (``inapp``/``created`` for an inbox message, in ``fanout.py``; for a
  delivery its channel, ``webpush``, ``email``, ``wecom``, ``dingtalk``,
  ``feishu`` or ``webhook``, and the attempt's ``sent``, ``retry``,
  ``rate_limited`` or ``refused``, in ``engine.py``), and at scrape
  ``dealerflow_channel_circuit_open{channel,store}`` (1 while a store's
  enabled channel of that type has its circuit open, else 0; read from
  ``store_channels``).
"""
import logging
import threading
import time
from datetime import datetime, timezone

from amqp.exceptions import NotFound
from kombu import Connection
from nameko.messaging import Consumer as NamekoConsumer
from nameko.rpc import Rpc as NamekoRpc
from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from dealerflow.db import BATCH, PENDING_COUNTS, run_counts
from dealerflow.outbox import PUBLISHED_AT_HEADER

log = logging.getLogger(__name__)

CACHE_S = 5.0  # how long one ask of the broker and the database answers scrapes
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)  # waits that retries stretch

RPC_REQUESTS = Counter("dealerflow_rpc_requests", "RPCs answered, by method and outcome (ok, refused, error)",
                       ["method", "outcome"])
RPC_DURATION = Histogram("dealerflow_rpc_duration_seconds", "Time an RPC's worker ran", ["method"])
DELIVERIES = Counter("dealerflow_deliveries", "Messages handled, by queue and outcome "
                     "(ok, retried, parked, waited)", ["queue", "outcome"])
DELIVERY_DURATION = Histogram("dealerflow_delivery_duration_seconds", "Time a delivery held a worker",
                              ["queue"])
BATCH_SIZE = Histogram("dealerflow_batch_deliveries", "Deliveries a batch took (queues handled in batches)",
                       ["queue"], buckets=(1, 2, 5, 10, 20, 50))
DELIVERY_AGE = Histogram("dealerflow_delivery_age_seconds", "From a message's publication to its handling's start",
                         ["queue"], buckets=WAIT_BUCKETS)


def count_on_commit(session, count) -> None:
    """Call ``count()`` when the session's transaction commits, never if it
    rolls back: a metric then agrees with the database, and a message
    handled again after a failure counts once. A batch's session counts
    when the batch commits (``Database.end_batch``), not at each of its
    handlers' commits."""
    session.info.setdefault(PENDING_COUNTS, []).append(count)


@event.listens_for(Session, "after_commit")
def _count_committed(session):
    if BATCH not in session.info:
        run_counts(session)


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop(PENDING_COUNTS, None)


def observe_worker(entrypoint, seconds: float, exc_info) -> None:
    """What a finished worker tells: an RPC's outcome and duration, a
    delivery's duration (timers tell nothing here)."""
    if isinstance(entrypoint, NamekoRpc):
        if exc_info is None:
            outcome = "ok"
        elif isinstance(exc_info[1], entrypoint.expected_exceptions):
            outcome = "refused"
        else:
            outcome = "error"
        RPC_REQUESTS.labels(entrypoint.method_name, outcome).inc()
        RPC_DURATION.labels(entrypoint.method_name).observe(seconds)
    elif isinstance(entrypoint, NamekoConsumer):
        DELIVERY_DURATION.labels(entrypoint.queue.name).observe(seconds)


def observe_delivery_start(entrypoint, context_data: dict) -> None:
    """A delivery's age as its worker starts, if its publisher stamped it."""
    published_at = context_data.get(PUBLISHED_AT_HEADER)
    if isinstance(entrypoint, NamekoConsumer) and isinstance(published_at, (int, float)):
        DELIVERY_AGE.labels(entrypoint.queue.name).observe(max(0.0, time.time() - published_at))


class ServiceGauges(Collector):
    """What ``/metrics`` asks at scrape time: queue depths of the broker,
    the outbox of the database, the workers of the process, and the
    service's own gauges (``extra(session, now)``, yielding metric
    families). The broker and the database are asked at most every
    ``CACHE_S`` seconds; a scrape meanwhile gets the last answer."""

    def __init__(self, amqp_uri: str, queues: list[str], consumed: list[str], database, outbox_model,
                 workers, extra=None):
        """``queues``: every queue whose depth counts; ``consumed``: those
        with a parking queue. ``database``: a sessionmaker; ``workers``:
        what ``dealerflow.ops.Workers`` is (``count()``, ``oldest_age()``)."""
        self.amqp_uri, self.queues, self.consumed = amqp_uri, queues, consumed
        self.database, self.outbox_model, self.workers, self.extra = database, outbox_model, workers, extra
        self.lock = threading.Lock()  # green under eventlet: concurrent scrapes wait for one ask
        self.asked_at, self.answer = None, []

    def describe(self):
        return []  # registering asks nothing; the names are this module's doc

    def collect(self):
        yield GaugeMetricFamily("dealerflow_workers_in_flight", "Workers running now", value=self.workers.count())
        yield GaugeMetricFamily("dealerflow_oldest_worker_age_seconds", "The longest a running worker has gone without progress",
                                value=self.workers.oldest_age())
        with self.lock:
            if self.asked_at is None or time.monotonic() - self.asked_at >= CACHE_S:
                self.answer = [*self.ask_broker(), *self.ask_database()]
                self.asked_at = time.monotonic()
            yield from self.answer

    def ask_broker(self) -> list:
        depth = GaugeMetricFamily("dealerflow_queue_depth", "Ready messages in the service's queue", labels=["queue"])
        parked = GaugeMetricFamily("dealerflow_parked_messages", "Ready messages in the queue's parking queue",
                                   labels=["queue"])
        try:
            with Connection(self.amqp_uri, connect_timeout=2) as connection:
                channel = connection.channel()

                def ready(name: str) -> int:
                    nonlocal channel
                    try:
                        return channel.queue_declare(name, passive=True).message_count
                    except NotFound:  # not declared (a parking queue never needed yet): the 404 closed the channel
                        channel = connection.channel()
                        return 0

                for name in self.queues:
                    depth.add_metric([name], ready(name))
                for name in self.consumed:
                    parked.add_metric([name], ready(f"{name}.parked"))
        except Exception as exc:
            log.warning("metrics: the broker did not say its queue depths: %r", exc)
            return []
        return [depth, parked]

    def ask_database(self) -> list:
        model = self.outbox_model
        try:
            with self.database() as session:
                backlog, oldest = session.execute(select(func.count(), func.min(model.created_at))
                                                  .where(model.sent_at.is_(None))).one()
                now = datetime.now(timezone.utc)
                extra = list(self.extra(session, now)) if self.extra else []
        except Exception as exc:
            log.warning("metrics: the database did not say the outbox's backlog: %r", exc)
            return []
        return [GaugeMetricFamily("dealerflow_outbox_backlog", "Outbox rows not yet marked sent", value=backlog),
                GaugeMetricFamily("dealerflow_outbox_oldest_age_seconds", "Age of the oldest unsent outbox row",
                                  value=(now - oldest).total_seconds() if oldest else 0.0),
                *extra]
