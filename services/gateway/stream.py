"""Live push to the browser: one broker subscription per gateway process,
fanned out to its clients as server-sent events.

- The hub consumes the events a signed-in user may be told of (``EVENTS``)
  from a queue of its own (exclusive, deleted with its connection) and keeps
  the last ``BUFFER`` of them, so a client that reconnects with
  ``Last-Event-ID`` gets what it missed, from any gateway process: an
  event's id is its time and its event id, and every process sees every
  event.
- A stopping gateway (SIGTERM) ends every stream with a ``reconnect``
  event (``close``): the browser reconnects, after a short random wait,
  to a gateway that stays, and resumes from its last id.
- Each client has a bounded queue. A client too slow to keep up is dropped
  (its stream ends, the browser reconnects and resumes from its last id),
  so no client can make the process's memory grow.
- Who sees what: ``visible`` (a consultant their own leads, a manager and a
  group admin their stores), the same rule the services apply; an inbox
  message (``notification_created``, sent as ``notification``) only its
  own user.

Only the standard library's threads and queues: under gunicorn's gevent
workers they are green, and in tests they are plain threads.
"""
import json
import logging
import queue
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from kombu import Connection, Exchange, Queue

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.contracts import LEAD_ASSIGNED, LEAD_RECEIVED, assignment_of
from services.gateway.metrics import STREAM_CONNECTIONS

log = logging.getLogger(__name__)

# publisher -> the event types pushed to browsers
EVENTS = {"leads": ("lead_received", "lead_assigned", "lead_changed"), "notifications": ("notification_created",)}
BUFFER = 1000          # recent events kept per process for Last-Event-ID
CLIENT_QUEUE = 100     # events waiting for one client before it is dropped
HEARTBEAT_S = 15.0     # a comment line this often keeps proxies from closing the stream
FIELDS = ("lead_id", "store_code", "consultant_id", "customer_name", "assigned_at",
          "first_contact_due_at", "reason", "previous_consultant_id", "grade",  # lead_assigned
          "change", "status", "stage", "tell")                                # lead_changed
# a new inbox message: the stream calls it ``notification`` and tells only its user
NOTIFICATION = "notification"
NOTIFICATION_FIELDS = ("id", "user_id", "kind", "title", "body", "link", "lead_id", "created_at", "read_at")
STREAMED = {"notification_created": (NOTIFICATION, NOTIFICATION_FIELDS)}  # else: as named, FIELDS
# a stream's last words when its gateway stops: reconnect (the browser's own
# retry, for a client that does not know the event, after a second)
RECONNECT = b'retry: 1000\nevent: reconnect\ndata: {"reason": "the gateway is stopping"}\n\n'


@dataclass(frozen=True, order=True)
class StreamEvent:
    at_ms: int        # when it happened: the order every process agrees on
    event_id: str
    type: str = field(compare=False)
    data: dict = field(compare=False)

    @property
    def id(self) -> str:
        return f"{self.at_ms}-{self.event_id}"

    @classmethod
    def from_payload(cls, event_type: str, payload: dict) -> "StreamEvent":
        """The event the browser gets for a bus event: its stream name and
        only the fields a browser needs (never a phone number)."""
        at = datetime.fromisoformat(payload["occurred_at"])
        name, names = STREAMED.get(event_type, (event_type, FIELDS))
        return cls(int(at.timestamp() * 1000), payload["event_id"], name,
                   {field_name: payload.get(field_name) for field_name in names})

    @classmethod
    def from_bus(cls, event_type: str, payload: dict) -> "StreamEvent | None":
        """``from_payload`` for what the hub consumes: browsers hear of a new
        lead's first owner (its ``lead_received``) as ``lead_assigned``, and
        nothing of a lead stored without one."""
        if event_type == LEAD_RECEIVED:
            event_type, payload = LEAD_ASSIGNED, assignment_of(payload)
        return None if payload is None else cls.from_payload(event_type, payload)

    def encode(self) -> bytes:
        return (f"id: {self.id}\nevent: {self.type}\n"
                f"data: {json.dumps(self.data, ensure_ascii=False)}\n\n").encode()


def parse_event_id(value: str | None) -> tuple[int, str] | None:
    """``(at_ms, event_id)`` of an id this stream handed out, else None."""
    at_ms, _, event_id = (value or "").partition("-")
    return (int(at_ms), event_id) if at_ms.isascii() and at_ms.isdigit() and event_id else None


def visible(actor: Actor, event: StreamEvent) -> bool:
    """A consultant hears of their leads, of a lead taken from them, of
    what they are told (a mention, a warning) and of their store's pool;
    everyone of their own inbox messages alone."""
    data = event.data
    if event.type == NOTIFICATION:
        return data.get("user_id") == actor.user_id
    if data.get("store_code") not in actor.stores:
        return False
    return actor.role != CONSULTANT or actor.user_id in (
        data.get("consultant_id"), data.get("previous_consultant_id")) or actor.user_id in (
        data.get("tell") or ()) or data.get("status") == "pooled"


class Client:
    def __init__(self, actor: Actor):
        self.actor = actor
        self.queue: queue.Queue = queue.Queue(maxsize=CLIENT_QUEUE)
        self.dropped = False
        self.closed = False  # its gateway is stopping

    def close(self) -> None:
        self.closed = True
        try:
            self.queue.put_nowait(None)  # wakes its stream up
        except queue.Full:
            pass  # then its stream is not waiting

    def offer(self, event: StreamEvent) -> None:
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            self.dropped = True
            log.warning("stream client of %s dropped: %d events behind", self.actor.user_id,
                        CLIENT_QUEUE)


class StreamHub:
    def __init__(self, amqp_uri: str | None = None):
        self.amqp_uri = amqp_uri
        self.recent: deque[StreamEvent] = deque(maxlen=BUFFER)
        self.clients: set[Client] = set()
        self.lock = threading.Lock()
        self.started = False
        self.closing = False

    # -- the one subscription ------------------------------------------------

    def start(self) -> None:
        """Consume from the broker in the background (once per process)."""
        with self.lock:
            if self.started or self.amqp_uri is None:
                return
            self.started = True
        threading.Thread(target=self._consume_forever, name="stream-hub", daemon=True).start()

    def _consume_forever(self) -> None:
        pause = 1.0
        while True:
            try:
                self._consume()
            except Exception as exc:  # the broker went away: resubscribe
                log.warning("stream subscription lost (%r); again in %.0f s", exc, pause)
                time.sleep(pause)
                pause = min(pause * 2, 30.0)

    def _consume(self) -> None:
        with Connection(self.amqp_uri, heartbeat=10) as connection:
            queues = [Queue(f"gateway.stream.{uuid.uuid4().hex}", exchange=Exchange(
                f"{source}.events", type="topic", durable=True), routing_key=event_type,
                exclusive=True, auto_delete=True, durable=False)
                for source, types in EVENTS.items() for event_type in types]
            with connection.Consumer(queues, callbacks=[self._on_message], accept=["json"]):
                log.info("stream subscribed to %s", ", ".join(q.routing_key for q in queues))
                while True:
                    try:
                        connection.drain_events(timeout=1)
                    except TimeoutError:
                        connection.heartbeat_check()

    def _on_message(self, body, message) -> None:
        try:
            event = StreamEvent.from_bus(message.delivery_info["routing_key"], body)
            if event is not None:
                self.publish(event)
        except (KeyError, TypeError, ValueError) as exc:
            log.error("stream event not understood, skipped: %r", exc)
        message.ack()

    # -- fan-out ---------------------------------------------------------------

    def publish(self, event: StreamEvent) -> None:
        with self.lock:
            self.recent.append(event)
            clients = list(self.clients)
        for client in clients:
            if visible(client.actor, event):
                client.offer(event)

    def subscribe(self, actor: Actor, last_event_id: str | None = None) -> tuple[Client, list]:
        """A new client, and the events it missed after ``last_event_id``."""
        client, after = Client(actor), parse_event_id(last_event_id)
        STREAM_CONNECTIONS.inc()
        with self.lock:
            client.closed = self.closing
            self.clients.add(client)
            missed = [event for event in self.recent
                      if after is not None and (event.at_ms, event.event_id) > after
                      and visible(actor, event)]
        return client, sorted(missed)

    def unsubscribe(self, client: Client) -> None:
        with self.lock:
            subscribed = client in self.clients
            self.clients.discard(client)
        if subscribed:
            STREAM_CONNECTIONS.dec()

    def close(self) -> None:
        """End every stream, and every one opened from now on, with a
        ``reconnect`` event: this process is stopping."""
        with self.lock:
            self.closing = True
            clients = list(self.clients)
        for client in clients:
            client.close()

    def events(self, client: Client, missed: list):
        """The body of one client's stream: what it missed, then live
        events and heartbeats until it goes away or falls behind, or the
        gateway stops (then a ``reconnect`` event ends it)."""
        try:
            yield b"retry: 3000\n\n"
            for event in missed:
                yield event.encode()
            while not (client.dropped or client.closed):
                try:
                    event = client.queue.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    yield b": heartbeat\n\n"
                else:
                    if event is not None:  # None: woken up by close
                        yield event.encode()
            if client.closed:
                yield RECONNECT
        finally:
            self.unsubscribe(client)
