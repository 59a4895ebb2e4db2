"""Publishing with confirms awaited per batch, on one channel a process.

Every message Dealerflow publishes itself (the gateway's intake, each
service's outbox events) must be confirmed by the broker before it counts
as sent: a persistent message is confirmed once the broker wrote it. Waited
for one message at a time, on a channel taken from kombu's pool for each
publish, that wait was most of a publish's cost: a pool checkout, kombu's
retry wrapper and one read of the socket a message, and under a burst the
pool's ten channels a process ran out while each waited 50-250 ms for its
confirm (bench/README.md).

``ConfirmedPublisher`` is group commit for a broker. Callers in any number
of green threads (gevent's in the gateway, eventlet's in the services) or
threads hand it messages; one of them at a time, the leader, publishes
every message that waits, in the order given, on the process's one channel
in confirm mode, then reads the broker's acks until all of them are
settled. Meanwhile new messages queue for the next leader. So a quiet
process waits for each message as before, and a busy one for each batch:
the more a process publishes, the fewer waits a message costs.

Each caller learns the fate of its own messages: confirmed (``publish``
returns), or refused (``Refused``: the broker nacked it, or could not
route a ``mandatory`` message), or unknown (a connection error or a
timeout: the broker may or may not have it). After a connection error the
batch is published once more on a new connection: a message may then
arrive twice, which every consumer dedupes (``dealerflow.outbox``), never
zero times unconfirmed. The module imports nothing of nameko, gevent or
eventlet: the green lock is ``threading``'s, patched by whichever runs.
"""
import collections
import json
import threading
import time
import uuid

from amqp import Message
from amqp.exceptions import AMQPError
from kombu import Connection
from kombu.exceptions import KombuError

# What a broken, cut or overloaded broker connection raises.
CONNECTION_ERRORS = (OSError, TimeoutError, KombuError, AMQPError)


class Refused(Exception):
    """The broker answered, and did not take the message."""


class Outgoing:
    """A message waiting for a leader, and then for its fate."""
    __slots__ = ("body", "exchange", "routing_key", "headers", "mandatory", "id", "tag", "error", "settled")

    def __init__(self, body, exchange: str, routing_key: str, headers: dict, mandatory: bool):
        self.body = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
        self.exchange, self.routing_key, self.headers, self.mandatory = exchange, routing_key, headers, mandatory
        self.id = uuid.uuid4().hex  # its message_id: how a returned message is told apart
        self.tag, self.error, self.settled = None, None, False


class ConfirmedPublisher:
    """Publishes persistent JSON messages with publisher confirms, batching
    the waits of concurrent callers (module docstring). ``declare``: the
    exchanges and queues to declare on each new connection. ``timeout``
    bounds connecting and each batch's wait for its confirms."""

    def __init__(self, amqp_uri: str, declare=(), timeout: float = 2.0):
        self.amqp_uri, self.declare, self.timeout = amqp_uri, list(declare), timeout
        self.waiting = collections.deque()  # appended and popped atomically, lock or not
        self.lock = threading.Lock()
        self.connection = self.channel = None
        self.sent = 0  # messages published on this channel: the delivery tag of the last
        self.batches = 0  # batches published: fewer than messages once callers overlap

    def publish(self, body, exchange: str = "", routing_key: str = "", headers: dict | None = None,
                mandatory: bool = False) -> None:
        """Return once the broker confirmed the message; raise ``Refused``
        or a connection error (``CONNECTION_ERRORS``) otherwise."""
        [error] = self.publish_many([(body, exchange, routing_key, headers or {})], mandatory=mandatory)
        if error is not None:
            raise error

    def publish_many(self, messages, mandatory: bool = False) -> list[Exception | None]:
        """Publish ``(body, exchange, routing_key, headers)`` tuples, in
        order; for each, ``None`` once confirmed, or the error that stopped
        it. A body that is not bytes or str is sent as JSON."""
        mine = [Outgoing(*message, mandatory=mandatory) for message in messages]
        self.waiting.extend(mine)
        with self.lock:
            if not all(outgoing.settled for outgoing in mine):
                self._lead()
        return [outgoing.error for outgoing in mine]

    def _lead(self) -> None:
        """Publish what waits, its own messages among it, and settle all of
        it: a connection error is tried once more on a new connection, a
        timeout or anything else settles what is left with that error."""
        batch = []
        while self.waiting:
            batch.append(self.waiting.popleft())
        self.batches += 1
        for attempt in (1, 2):
            try:
                self._publish(batch)
                return
            except Exception as exc:
                self.close()
                if attempt == 1 and isinstance(exc, CONNECTION_ERRORS) and not isinstance(exc, TimeoutError):
                    continue
                for outgoing in batch:
                    if not outgoing.settled:
                        outgoing.error, outgoing.settled = exc, True

    def _publish(self, batch: list[Outgoing]) -> None:
        channel = self._channel()
        unsettled, returned = {}, set()

        def settle(tag, multiple, error=None):
            for settled_tag in [t for t in unsettled if t <= tag] if multiple else [tag]:
                outgoing = unsettled.pop(settled_tag, None)
                if outgoing is not None:
                    outgoing.error = error or (Refused(f"the broker could not route the message to "
                                                       f"{outgoing.routing_key!r}") if outgoing.id in returned
                                               else None)
                    outgoing.settled = True

        channel.events["basic_ack"] = {lambda tag, multiple: settle(tag, multiple)}
        channel.events["basic_nack"] = {lambda tag, multiple: settle(tag, multiple, Refused("the broker nacked it"))}
        channel.events["basic_return"] = {lambda exc, exchange, routing_key, message:
                                          returned.add(message.properties.get("message_id"))}
        for outgoing in batch:
            if outgoing.settled:
                continue
            self.sent += 1
            outgoing.tag = self.sent
            unsettled[outgoing.tag] = outgoing
            channel.basic_publish(Message(
                outgoing.body, content_type="application/json", content_encoding="utf-8",
                application_headers=outgoing.headers, delivery_mode=2, message_id=outgoing.id),
                exchange=outgoing.exchange, routing_key=outgoing.routing_key, mandatory=outgoing.mandatory)
        deadline = time.monotonic() + self.timeout
        while unsettled:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"the broker confirmed {len(batch) - len(unsettled)} of {len(batch)} "
                                   f"messages in {self.timeout:g} s")
            self.connection.drain_events(timeout=left)

    def _channel(self):
        if self.channel is None:
            connection = Connection(self.amqp_uri, connect_timeout=self.timeout,
                                    transport_options={"read_timeout": self.timeout,
                                                       "write_timeout": self.timeout})
            try:
                channel = connection.channel()
                for entity in self.declare:
                    entity(channel).declare()
                channel.confirm_select()
            except BaseException:
                connection.release()
                raise
            self.connection, self.channel, self.sent = connection, channel, 0
        return self.channel

    def close(self) -> None:
        """Drop the connection (the next publish opens another)."""
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None:
            try:
                connection.release()
            except Exception:  # a broken connection may fail to close: it is gone either way
                pass
