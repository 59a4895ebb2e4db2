"""The gateway's side of RabbitMQ: the intake publisher and the RPC pool.

Intake never waits on an RPC: a lead is published with a publisher confirm
into the durable ``leads.intake`` queue and the gateway answers as soon as
the broker has it on disk. Both objects are safe to share between the
greenlets or threads of one gunicorn worker and are made after the fork.
"""
import queue
import time
from contextlib import contextmanager

from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from dealerflow.contracts import INTAKE_QUEUE
from dealerflow.logs import correlation_id
from dealerflow.outbox import PUBLISHED_AT_HEADER
from dealerflow.publishing import CONNECTION_ERRORS, ConfirmedPublisher, Refused
from dealerflow.queues import durable_queue
from services.gateway.errors import Unavailable, from_remote
from services.gateway.metrics import INTAKE_PUBLISH


class IntakePublisher:
    """Each lead is published into ``leads.intake`` with a publisher
    confirm, on the worker's one channel; the confirms of leads published
    together are awaited together (``dealerflow.publishing``), and the
    broker confirms a persistent message once it is written.
    ``dealerflow_intake_publish_seconds`` is that wait, the wait for the
    batch before included."""

    def __init__(self, amqp_uri: str, timeout: float = 2.0, queue=None):
        """``timeout`` bounds connecting and each batch's wait for its confirms;
        ``queue``: ``leads.intake`` unless given (the bench's bare gateway)."""
        # the type QUEUE_TYPE asks, as the leads service declares it
        self.queue = queue or durable_queue(INTAKE_QUEUE)
        self.publisher = ConfirmedPublisher(amqp_uri, declare=[self.queue], timeout=timeout)
        self.amqp_uri, self.timeout = amqp_uri, timeout

    def publish(self, message: dict) -> None:
        """Return once the broker confirmed the message is safe; raise
        ``Unavailable`` when it cannot say so within the timeout."""
        headers = {"nameko.correlation_id": correlation_id.get() or "", PUBLISHED_AT_HEADER: time.time()}
        try:
            with INTAKE_PUBLISH.time():
                self.publisher.publish(message, routing_key=self.queue.name, headers=headers,
                                       mandatory=True)
        except (*CONNECTION_ERRORS, Refused) as exc:
            raise Unavailable("The lead could not be made safe; it was not accepted. "
                              "Send it again shortly.", headers={"Retry-After": "5"}) from exc

    def ping(self) -> None:
        with Connection(self.amqp_uri, connect_timeout=self.timeout) as connection:
            connection.ensure_connection(max_retries=1)


class RpcPool:
    """Started ``ClusterRpcProxy`` objects, one per concurrent caller: a
    standalone proxy must never be used by two callers at once."""

    def __init__(self, amqp_uri: str, timeout: float = 5.0):
        self.config = {"AMQP_URI": amqp_uri}
        self.timeout = timeout
        self.idle = queue.LifoQueue()

    @contextmanager
    def _proxy(self):
        try:
            runner, proxy, context = self.idle.get_nowait()
        except queue.Empty:
            context = {}
            runner = ClusterRpcProxy(self.config, context_data=context, timeout=self.timeout)
            proxy = runner.start()
        context["correlation_id"] = correlation_id.get()
        healthy = False
        try:
            yield proxy
            healthy = True
        except RemoteError:
            healthy = True  # the service answered; the proxy is fine
            raise
        finally:
            if healthy:
                self.idle.put((runner, proxy, context))
            else:
                try:
                    runner.stop()
                except Exception:
                    pass

    def call(self, service: str, method: str, *args, **kwargs):
        """The service's answer; its public errors (``REMOTE_ERRORS``) come
        back as the gateway's own, so resources can catch them."""
        try:
            with self._proxy() as proxy:
                return getattr(getattr(proxy, service), method)(*args, **kwargs)
        except RemoteError as exc:
            translated = from_remote(exc)
            if translated is exc:
                raise
            raise translated from exc
