"""Delivery mechanics on top of nameko: retries with back-off, a parking
queue, the correlation id, and queues declared before any traffic.

nameko acks a message whose handler raised and drops it, or (with
``requeue_on_error``) redelivers it in a hot loop. Our entrypoints do neither:
a failed message is republished to ``<queue>.retry.<n>s``, a queue whose
messages expire after n seconds back into ``<queue>``; after the last delay
it goes to ``<queue>.parked``, where it waits for an admin
(``dealerflow parked``). Only then is the original acked.

That schedule is for messages that fail because of what they say. A
handler that failed because its database or the broker is unavailable
(``UNAVAILABLE``) says nothing about its message: such a message keeps its
retries and waits, requeued after a green sleep that doubles from 0.5 s up
to ``DEALERFLOW_OUTAGE_BACKOFF_MAX`` seconds (default 10), for as long as the
outage lasts; one message that succeeds brings the wait back to 0.5 s.
"""
import collections
import logging
import os
import sys
import time
import traceback
from functools import partial

from amqp.exceptions import AMQPError, ConnectionForced, PreconditionFailed
from eventlet.hubs import get_hub as eventlet_hub
from kombu import Connection, Exchange, Queue
from kombu import serialization as kombu_serialization
from kombu.exceptions import KombuError
from kombu.pools import producers
from kombu.utils import json as kombu_json
from nameko import messaging as nameko_messaging
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.events import EventHandler as NamekoEventHandler
from nameko.exceptions import ContainerBeingKilled, MalformedRequest, serialize
from nameko.extensions import DependencyProvider
from nameko.messaging import Consumer as NamekoConsumer
from nameko.timer import timer
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from dealerflow import once
from dealerflow.db import Database
from dealerflow.logs import correlation_id
from dealerflow.metrics import BATCH_SIZE, DELIVERIES, observe_delivery_start
from dealerflow.ops import OpsServer
from dealerflow.queues import durable_queue, queue_type, typed

log = logging.getLogger(__name__)

ATTEMPT_HEADER = "x-dealerflow-attempt"
ERROR_HEADER = "x-dealerflow-error"


def retry_delays() -> tuple[float, ...]:
    """Seconds to wait before each retry; ``DEALERFLOW_RETRY_DELAYS`` overrides."""
    value = os.environ.get("DEALERFLOW_RETRY_DELAYS", "1,5,30,120,600")
    return tuple(float(v) for v in value.split(","))


def retry_queue(queue_name: str, delay: float) -> Queue:
    return durable_queue(f"{queue_name}.retry.{delay:g}s", queue_arguments={
        "x-message-ttl": int(delay * 1000),
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": queue_name,
    })


def parking_queue(queue_name: str) -> Queue:
    return durable_queue(f"{queue_name}.parked")


def retry_or_park(amqp_uri: str, queue_name: str, message, exc_info) -> str:
    """Republish a failed message for a later attempt, or park it."""
    attempt = int(message.headers.get(ATTEMPT_HEADER, 0))
    delays = retry_delays()
    headers = dict(message.headers, **{ATTEMPT_HEADER: attempt + 1})
    if attempt < len(delays):
        target = retry_queue(queue_name, delays[attempt])
    else:
        target = parking_queue(queue_name)
        error = "".join(traceback.format_exception_only(*exc_info[:2])).strip()
        headers[ERROR_HEADER] = error[:2000]
    connection = Connection(amqp_uri, transport_options={"confirm_publish": True})
    with producers[connection].acquire(block=True) as producer:
        producer.publish(
            message.body, exchange="", routing_key=target.name, headers=headers,
            content_type=message.content_type, content_encoding=message.content_encoding,
            delivery_mode=2, declare=[target], retry=True, retry_policy={"max_retries": 2})
    return target.name


# What a connection that died under a worker raises.
CONNECTION_ERRORS = (OSError, AMQPError, KombuError)

# What a handler raises when its database or the broker is unavailable,
# whatever its message says: unreachable, cut, locked, out of connections.
UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout, *CONNECTION_ERRORS)


def is_outage(exc: BaseException) -> bool:
    """Did the handler fail because something it needs is unavailable (wait
    for it), rather than because of its message (retry, then park)?"""
    return isinstance(exc, UNAVAILABLE)


class OutageBackoff:
    """How long a message waits before it is requeued while what its handler
    needs is unavailable: 0.5 s, doubling with every such failure up to
    ``DEALERFLOW_OUTAGE_BACKOFF_MAX`` seconds, and 0.5 s again once a message
    succeeds. Shared by an entrypoint's workers, so that during an outage
    they all slow down together instead of hammering the database."""

    FIRST_S = 0.5

    def __init__(self):
        self.longest = float(os.environ.get("DEALERFLOW_OUTAGE_BACKOFF_MAX", "10"))
        self.reset()

    def reset(self) -> None:
        self.pause = min(self.FIRST_S, self.longest)

    def next(self) -> float:
        pause, self.pause = self.pause, min(self.pause * 2, self.longest)
        return pause


class QueueConsumer(nameko_messaging.QueueConsumer):
    """nameko's, with acks and requeues that survive the connection dying
    under them. nameko catches only amqp's ConnectionError; a BrokenPipeError
    then kills the whole container. The broker redelivers such a message
    anyway, and every handler is idempotent.

    With a stop that finishes what it started. On SIGTERM nameko cancels
    every consumer, and its consume loop then ends and closes the connection
    at once, while the workers still run: their acks find the connection
    closed and are skipped, so the broker hands every message in flight,
    already handled (and an RPC already answered), to the next instance
    (reliability.md, E9). Ours keeps the connection (and its heartbeats)
    until every message it handed out was acked or requeued; nothing new
    arrives meanwhile, the consumers being cancelled.

    And with a watchdog. After the broker's connection was cut, a service
    was seen (about one run in three, under load) to go on reading a
    connection the broker no longer counted any consumer of: it never
    noticed the cut, never reconnected, and stopped consuming for good while
    its process looked healthy. Every ``WATCH_S`` seconds the watchdog asks
    the broker, on a connection of its own, how many consumers the service's
    RPC queue has; when the answer is none twice in a row, it makes the
    consume loop fail as on a lost connection, and kombu reconnects and
    consumes again. (With several replicas the others' consumers hide one
    replica's deafness; the work still flows.) It rests once a stop began:
    the consumers are gone on purpose then, and a reconnection would hand
    the messages in flight to another instance."""

    WATCH_S = 10.0

    def __init__(self):
        super().__init__()
        self.unsettled = set()  # messages handed to a worker, neither acked nor requeued yet
        self.stopping = False

    @property
    def prefetch_count(self):
        """nameko's (``MAX_WORKERS``), or two batches' worth when the service
        takes batches (``Batching``): a batch holds its deliveries unacked
        until it commits, and the next should be waiting meanwhile."""
        batches = [2 * provider.LIMIT for provider in self._providers if getattr(provider, "batching", False)]
        return max([self.container.max_workers, *batches])

    def start(self):
        super().start()
        self.container.spawn_managed_thread(self.watch_consumers)

    def watch_consumers(self):
        queue, silent = f"rpc-{self.container.service_name}", 0
        while not self.stopping:
            time.sleep(self.WATCH_S)  # green under eventlet
            consumer = self._gt
            if self.stopping or consumer is None or consumer.dead or not self._consumers_ready.ready():
                continue
            try:
                with Connection(self.amqp_uri, connect_timeout=5) as connection:
                    _, _, consumers = connection.default_channel.queue_declare(queue, passive=True)
            except Exception as exc:  # the broker away: the consume loop notices that itself
                log.debug("consumer watchdog could not ask the broker: %r", exc)
                silent = 0
                continue
            silent = silent + 1 if consumers == 0 else 0
            if silent >= 2 and not self.stopping and waits_in_socket_read(consumer):
                log.error("the broker counts no consumer of %s for %.0f s: reconnecting", queue,
                          silent * self.WATCH_S)
                silent = 0
                eventlet_hub().schedule_call_global(
                    0, consumer.throw, ConnectionForced("the broker lost this service's consumers"))

    def unregister_provider(self, provider):
        self.stopping = True
        super().unregister_provider(provider)

    def handle_message(self, provider, body, message):
        self.unsettled.add(message)
        super().handle_message(provider, body, message)

    def on_iteration(self):
        """nameko's, but the loop (and the connection) ends only once no
        message is in flight: the last worker's ack still reaches the broker."""
        self._cancel_consumers_if_requested()
        if not self._consumers and not self.unsettled:
            self.should_stop = True

    def ack_message(self, message):
        try:
            super().ack_message(message)
        except CONNECTION_ERRORS as exc:
            log.warning("ack lost with the connection (%r); the broker redelivers", exc)
        finally:
            self.unsettled.discard(message)

    def requeue_message(self, message):
        try:
            super().requeue_message(message)
        except CONNECTION_ERRORS as exc:
            log.warning("requeue lost with the connection (%r); the broker redelivers", exc)
        finally:
            self.unsettled.discard(message)


def waits_in_socket_read(thread) -> bool:
    """Whether a suspended green thread waits for a socket to be readable
    (where an exception thrown into it unwinds cleanly)."""
    frame = thread.gr_frame
    while frame is not None:
        if frame.f_code.co_name == "_read_trampoline":
            return True
        frame = frame.f_back
    return False


class RpcConsumer(nameko_rpc.RpcConsumer):
    """nameko's, declaring ``rpc-<service>`` with the configured queue type,
    and carrying out each request to a writing RPC once (``dealerflow.once``):
    it marks the first commit of every RPC worker's session (of the
    service's ``Database``) with the request it serves."""
    queue_consumer = QueueConsumer()

    def __init__(self):
        super().__init__()
        self.requests = {}  # worker context -> once.Request, while the worker runs
        self.db = None

    def setup(self):
        if self.queue is None:
            super().setup()
            typed(self.queue)

    def start(self):
        databases = [provider for provider in self.container.dependencies if isinstance(provider, Database)]
        if len(databases) == 1:
            self.db = databases[0]
            event.listen(self.db.Session, "before_commit", self.mark_request)
            event.listen(self.db.Session, "after_commit", self.request_marked)

    def request_of(self, session) -> once.Request | None:
        sessions = self.db.sessions
        return next((request for worker_ctx, request in self.requests.items()
                     if sessions.get(worker_ctx) is session), None)

    def mark_request(self, session):
        request = self.request_of(session)
        if request is not None and not request.marked:
            once.mark(session, request)

    def request_marked(self, session):
        request = self.request_of(session)
        if request is not None:
            request.marked = True

    def keep_reply(self, worker_ctx, request, result, exc_info) -> None:
        """Keep the reply with the request's mark, before it is sent."""
        session = self.db.sessions[worker_ctx]
        payload = {"result": result, "error": serialize(exc_info[1]) if exc_info else None}
        try:
            session.rollback()  # whatever the method read after its last commit
            once.keep_reply(session, request, kombu_json.dumps(payload))
            session.commit()
        except Exception as exc:  # a redelivery of it would then get AlreadyDone
            session.rollback()
            log.warning("the reply to %s could not be kept: %r", request.id, exc)

    def reply_again(self, message, reply: str | None) -> None:
        """Send a request's kept reply, or ``AlreadyDone`` when none was kept."""
        payload = kombu_json.loads(reply) if reply else {"result": None, "error": serialize(
            once.AlreadyDone("carried out by an earlier delivery; its answer was lost"))}
        Publisher(self.container.config["AMQP_URI"]).publish(
            payload, serializer=kombu_serialization.registry.type_to_name[message.properties["content_type"]],
            exchange=nameko_rpc.get_rpc_exchange(self.container.config),
            routing_key=message.properties["reply_to"],
            correlation_id=message.properties.get("correlation_id"))

    def handle_result(self, message, result, exc_info):
        try:
            return super().handle_result(message, result, exc_info)
        except CONNECTION_ERRORS as exc:
            log.warning("RPC reply lost with the connection (%r); the call is redelivered", exc)
            self.queue_consumer.requeue_message(message)
            return result, exc_info


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()

    def handle_message(self, body, message):
        request_id = message.properties.get("correlation_id")
        if self.rpc_consumer.db is None or not request_id:
            return super().handle_message(body, message)
        request = once.Request(request_id, self.method_name)
        if message.delivery_info.get("redelivered"):
            self.container.spawn_managed_thread(partial(self.answer_again_or_run, body, message, request))
        else:
            self.run(body, message, request)

    def run(self, body, message, request):
        """nameko's ``handle_message``, noting which request the worker serves."""
        try:
            args, kwargs = body["args"], body["kwargs"]
        except KeyError:
            raise MalformedRequest("Message missing `args` or `kwargs`")
        self.check_signature(args, kwargs)
        try:
            worker_ctx = self.container.spawn_worker(self, args, kwargs,
                                                     context_data=self.unpack_message_headers(message),
                                                     handle_result=partial(self.handle_result, message))
        except ContainerBeingKilled:
            self.rpc_consumer.requeue_message(message)
            return
        # noted before the new worker runs: spawning it did not switch green threads
        self.rpc_consumer.requests[worker_ctx] = request

    def answer_again_or_run(self, body, message, request):
        """A redelivered request: answer it again if its work is done, else run it."""
        try:
            session = self.rpc_consumer.db.Session()
            try:
                done, reply = once.earlier_reply(session, request)
            finally:
                session.close()
        except UNAVAILABLE as exc:  # run it: should it be done, its first commit fails
            log.warning("could not look up redelivered request %s: %r", request.id, exc)
            done, reply = False, None
        try:
            if not done:
                self.run(body, message, request)
                return
            log.warning("request %s (%s) was carried out by an earlier delivery: answered again, "
                        "not run", request.id, request.handler)
            self.rpc_consumer.reply_again(message, reply)
            self.rpc_consumer.queue_consumer.ack_message(message)
        except Exception:
            self.rpc_consumer.handle_result(message, None, sys.exc_info())

    def handle_result(self, message, worker_ctx, result, exc_info):
        request = self.rpc_consumer.requests.pop(worker_ctx, None)
        if request is not None and request.marked:
            self.rpc_consumer.keep_reply(worker_ctx, request, result, exc_info)
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = Rpc.decorator


class RetryOnError:
    """Mixin for nameko consumer entrypoints: a message that failed because
    of its content is retried later and finally parked; one that failed
    because of an outage waits for the outage to end. None is dropped, none
    is hot-looped."""

    def setup(self):
        super().setup()
        typed(self.queue)
        self.outage_backoff = OutageBackoff()

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        """nameko tears a worker down only after this: a failed worker's
        database transaction (on SQLite, the write lock) is released first,
        so that waiting out a retry or an outage holds nothing others need."""
        if exc_info is not None:
            for provider in self.container.dependencies:
                release = getattr(provider, "release", None)
                if release is not None:
                    release(worker_ctx)
        return super().handle_result(message, worker_ctx, result, exc_info)

    def handle_message_processed(self, message, result=None, exc_info=None):
        """Ack, retry, park or requeue the message; each counts in
        ``dealerflow_deliveries_total`` (``dealerflow.metrics``)."""
        outcome = "ok"
        if exc_info is None:
            self.outage_backoff.reset()
        elif is_outage(exc_info[1]):
            DELIVERIES.labels(self.queue.name, "waited").inc()
            self.requeue_later([message], f"an outage, not a bad message: its database or the broker "
                                        f"is unavailable ({exc_info[1]!r:.300}); it keeps its retries")
            return
        else:
            try:
                target = retry_or_park(self.container.config["AMQP_URI"],
                                       self.queue.name, message, exc_info)
                log.warning("%s failed on its message (%s); sent to %s", self.method_name,
                            exc_info[1].__class__.__name__, target)
                outcome = "parked" if target == parking_queue(self.queue.name).name else "retried"
            except Exception as exc:
                DELIVERIES.labels(self.queue.name, "waited").inc()
                self.requeue_later([message], f"it failed ({exc_info[1].__class__.__name__}) and could "
                                            f"not be sent to its retry queue ({exc!r:.300})")
                return
        DELIVERIES.labels(self.queue.name, outcome).inc()
        self.queue_consumer.ack_message(message)

    def requeue_later(self, messages, why: str) -> None:
        """Requeue the messages, unchanged, after one outage back-off."""
        pause = self.outage_backoff.next()
        log.warning("%s could not run: %s; requeued in %.1f s", self.method_name, why, pause)
        time.sleep(pause)  # green under eventlet: only this worker waits
        for message in messages:
            self.queue_consumer.requeue_message(message)


class EventHandler(RetryOnError, NamekoEventHandler):
    queue_consumer = QueueConsumer()


class Consumer(RetryOnError, NamekoConsumer):
    queue_consumer = QueueConsumer()


event_handler = EventHandler.decorator


class Batch:
    """What a batching handler's method is given: the payloads of the
    deliveries it takes at once. Iterating it yields each payload with that
    delivery's correlation id set (for its log lines and the events it
    records) and its age observed (``dealerflow_delivery_age_seconds``)."""

    def __init__(self, entrypoint, deliveries: list):
        self.entrypoint, self.deliveries = entrypoint, deliveries
        self.worker_ctx = None  # the worker that handles it, once spawned

    def __len__(self):
        return len(self.deliveries)

    def __iter__(self):
        self.entrypoint.db.begin_batch(self.worker_ctx, len(self.deliveries))
        for body, message in self.deliveries:
            headers = self.entrypoint.unpack_message_headers(message)
            correlation_id.set(headers.get("correlation_id"))
            observe_delivery_start(self.entrypoint, headers)
            yield body


class Batching:
    """Mixin for the consumer entrypoints of a lead's hot path: the
    deliveries that arrive while a batch is handled wait, and the next
    worker takes them together (at most ``LIMIT``), in one database
    transaction (``Database`` gives a batching worker a session whose
    commits wait for the batch's), with one publish of all their events
    and then their acks. A quiet queue is handled a delivery at a time, as
    before; a busy one pays a worker, a transaction and a confirm wait for
    many deliveries (bench/README.md, issue 13's fifth round).

    The service method is given a ``Batch``. Nothing is acked before the
    batch's commit. When the batch fails, its transaction is rolled back
    and each of its deliveries is handled again alone, so that only the one
    at fault is retried and parked (``RetryOnError``); when it fails for an
    outage, all of it waits for the outage to end. A stopping service hands
    what waits back to the broker."""

    batching = True
    LIMIT = 20

    def setup(self):
        super().setup()
        self.waiting = collections.deque()  # (body, message) not handed to a worker yet
        self.alone = collections.deque()  # those of a failed batch, to be handled one at a time
        self.busy = self.stopping = False
        self.db = None

    def start(self):
        super().start()
        self.db = next(provider for provider in self.container.dependencies if isinstance(provider, Database))

    def stop(self):
        self.stopping = True
        super().stop()
        if not self.busy:
            self.hand_back()

    def hand_back(self):
        while self.alone or self.waiting:
            _, message = (self.alone or self.waiting).popleft()
            self.queue_consumer.requeue_message(message)

    def handle_message(self, body, message):
        self.waiting.append((body, message))
        if not self.busy:
            self.next_batch()

    def next_batch(self):
        """Hand what waits to a worker, if anything does."""
        if self.stopping:
            self.hand_back()
        if not (self.alone or self.waiting):
            self.busy = False
            return
        if self.alone:
            batch = [self.alone.popleft()]
        else:
            batch = [self.waiting.popleft() for _ in range(min(self.LIMIT, len(self.waiting)))]
        BATCH_SIZE.labels(self.queue.name).observe(len(batch))
        self.busy, deliveries = True, Batch(self, batch)
        try:
            # noted before the worker runs: spawning it did not switch green threads
            deliveries.worker_ctx = self.container.spawn_worker(
                self, (deliveries,), {}, context_data=self.unpack_message_headers(batch[0][1]),
                handle_result=partial(self.handle_batch, batch))
        except ContainerBeingKilled:
            for _, message in batch:
                self.queue_consumer.requeue_message(message)
            self.hand_back()
            self.busy = False

    def handle_batch(self, batch, worker_ctx, result=None, exc_info=None):
        """Commit the batch, then ack it; or see to each delivery of a
        failed one. Then the next batch."""
        try:
            exc_info = self.db.end_batch(worker_ctx, exc_info)
            if exc_info is None or len(batch) == 1:
                for _, message in batch:
                    self.handle_message_processed(message, result, exc_info)
            elif is_outage(exc_info[1]):
                DELIVERIES.labels(self.queue.name, "waited").inc(len(batch))
                self.requeue_later([message for _, message in batch],
                                   f"a batch of {len(batch)} met an outage ({exc_info[1]!r:.300})")
            else:
                log.warning("%s failed on a batch of %d (%s): each is handled again alone",
                            self.method_name, len(batch), exc_info[1].__class__.__name__)
                self.alone.extend(batch)
        finally:
            self.next_batch()
        return result, exc_info


class BatchEventHandler(Batching, EventHandler):
    pass


class BatchConsumer(Batching, Consumer):
    pass


batch_event_handler = BatchEventHandler.decorator
batch_consume = BatchConsumer.decorator


class Correlation(DependencyProvider):
    """Puts the message's correlation id into the logs of the worker."""

    def worker_setup(self, worker_ctx):
        correlation_id.set(worker_ctx.context_data.get("correlation_id"))

    def get_dependency(self, worker_ctx):
        return worker_ctx.context_data.get("correlation_id")


def queues_of(service_cls) -> list[Queue]:
    """The durable queues the service's consumers read, named as nameko names them."""
    queues = []
    for name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, NamekoEventHandler):
                queues.append(durable_queue(
                    f"evt-{entrypoint.source_service}-{entrypoint.event_type}"
                    f"--{service_cls.name}.{name}",
                    exchange=Exchange(f"{entrypoint.source_service}.events",
                                      type="topic", durable=True),
                    routing_key=entrypoint.event_type))
            elif isinstance(entrypoint, NamekoConsumer):
                queues.append(typed(entrypoint.queue))
    return queues


def rpc_queue(service_name: str) -> Queue:
    """The service's RPC queue, as ``RpcConsumer`` declares it."""
    return durable_queue(f"rpc-{service_name}", exchange=nameko_rpc.get_rpc_exchange({}),
                         routing_key=f"{service_name}.*")


class QueueTypeMismatch(Exception):
    """A queue exists with another type than ``QUEUE_TYPE`` asks for."""


def declare_queues(service_cls, amqp_uri: str) -> list[str]:
    """Declare (idempotently) every queue the service consumes, so events
    published before its first start wait for it instead of being dropped,
    and its RPC queue, so that a queue of the wrong type is found here
    rather than by a service that cannot start."""
    queues = [*queues_of(service_cls), rpc_queue(service_cls.name)]
    with Connection(amqp_uri, connect_timeout=5) as connection:
        for queue in queues:
            try:
                queue.bind(connection.default_channel).declare()
            except PreconditionFailed as exc:
                raise QueueTypeMismatch(
                    f"queue {queue.name} exists with other arguments than QUEUE_TYPE={queue_type()} "
                    f"asks for (RabbitMQ: {exc.reply_text}). A queue's type cannot change in place. "
                    f"Either set QUEUE_TYPE to the type the queues have, or: stop what publishes to "
                    f"and consumes {queue.name}, wait until it is empty (rabbitmqctl list_queues -p "
                    f"<vhost> name type messages), delete it (rabbitmqctl delete_queue -p <vhost> "
                    f"{queue.name}) and run `dealerflow migrate` again; or migrate into a new vhost "
                    f"(AMQP_URI) and move the services there") from exc
    return [queue.name for queue in queues]


class Reliable:
    """What every service has: ``ping`` for the gateway's /readyz, the relay
    timer that publishes outbox rows a crash or an outage left behind, and
    the ops server (health and metrics over HTTP: ``dealerflow.ops``)."""

    ops = OpsServer()

    @rpc
    def ping(self):
        return self.name

    @timer(interval=1)
    def relay_outbox(self):
        self.relay.publish_pending(self.db)


def parked_messages(amqp_uri: str, queue_names: list[str], replay: bool = False):
    """Yield ``(queue, description)`` for every parked message of these
    queues; with ``replay`` each goes back to its queue for a fresh set of
    attempts, else it stays parked."""
    with Connection(amqp_uri, connect_timeout=5) as connection:
        for name in queue_names:
            channel = connection.channel()
            parked = parking_queue(name).bind(channel)
            parked.declare()
            while (message := parked.get(no_ack=False)) is not None:
                yield name, (f"after {message.headers.get(ATTEMPT_HEADER, '?')} attempts: "
                             f"{message.headers.get(ERROR_HEADER, '?')} :: {message.body[:300]!r}")
                if replay:
                    headers = {k: v for k, v in message.headers.items()
                               if k not in (ATTEMPT_HEADER, ERROR_HEADER)}
                    channel.basic_publish(channel.prepare_message(
                        message.body, content_type=message.content_type,
                        content_encoding=message.content_encoding, headers=headers,
                        properties={"delivery_mode": 2}), exchange="", routing_key=name)
                    message.ack()
            channel.close()  # unacked (listed only) messages return to the parking queue
