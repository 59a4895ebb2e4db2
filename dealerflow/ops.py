"""The ops server every nameko service runs: health and metrics over HTTP.

Each service (the ``OpsServer`` dependency of ``messaging.Reliable``)
serves on ``OPS_HOST:OPS_PORT`` (``127.0.0.1``, as the gateway's ``BIND``:
on a developer's machine nobody else reads it; customers 9101, leads 9102,
followups 9103, notifications 9104; the image sets ``OPS_HOST=0.0.0.0``, as
probes and scrapes come to the pod's address, and in Kubernetes every pod
sets ``OPS_PORT=9100``, the port named ``metrics``):

- ``GET /healthz``, liveness: ``200 {"status": "ok"}`` when the process is
  not stuck, else ``503 {"status": "stuck", "problems": [...]}``. An answer
  at all proves the event loop runs (a wait in C, or a busy loop, would
  leave the probe unanswered: a timeout counts as a failure). Stuck also
  means a worker (an RPC, a delivery or a timer) has run longer than
  ``HUNG_WORKER_SECONDS`` (300) without progress, such as one waiting for
  a lock that is never released, or the queue consumer's green thread is
  dead. Long work that advances in steps (an import of a million rows,
  batch after batch) calls ``progress()`` at each step, and is not hung. A
  restart is what fixes those, and what Kubernetes does on repeated
  failures; a worker waiting out an outage finishes within seconds
  (``messaging.OutageBackoff``) and never counts as hung.
- ``GET /readyz``, readiness: ``200`` or ``503`` with
  ``{"status": "ok"|"unavailable", "checks": {"broker": ..., "database": ...}}``,
  each check ``"ok"`` or why not: the broker when the service's consumer
  connection is connected and consuming (``"disconnected"`` while it
  reconnects by itself), the database when a new connection to it
  answers ``SELECT 1`` within ``CHECK_TIMEOUT_S`` (``"unreachable:
  OperationalError"``, ``"no answer within 2 s"``). A service that is not
  ready takes no traffic anyway (it consumes from queues), so Kubernetes
  uses it to hold a rolling update until the new pod works.
- ``GET /metrics``: the Prometheus text format of the process's registry
  (``dealerflow.metrics`` lists every metric).

Decisions:

- **HTTP probes, not exec probes.** An exec probe starts a Python process
  in the container for every probe (CPU and seconds on a busy node) and
  can only ask the service from outside anyway; an HTTP endpoint answers
  from inside, from what the process knows (its workers, its consumer),
  costs a request, and is also what Prometheus scrapes.
- **Its own green thread, not a nameko worker.** The server runs on
  eventlet's WSGI server in a thread of the container (not in its worker
  pool), so a full pool (``MAX_WORKERS`` busy, RPCs queued) never keeps a
  probe or a scrape from being answered, and its requests never appear as
  workers.
- **A fresh database connection per check** (no pool): the check proves
  the database takes connections now, is never held up by workers that
  hold the service's pool, and cannot be fooled by a stale pooled
  connection; on PostgreSQL it connects with ``connect_timeout`` and
  ``statement_timeout`` set, and every check is cut at ``CHECK_TIMEOUT_S``.
  The scrape's outbox query (``metrics.ServiceGauges``) uses the same.
- **A port that cannot be bound stops the service** at start, with the
  port in the error: two processes given one ``OPS_PORT`` on a host is a
  deployment mistake, and a service without probes would be restarted
  for ever or, worse, never.
"""
import contextvars
import json
import logging
import os
import time

import eventlet
import eventlet.wsgi
from nameko.extensions import DependencyProvider
from nameko.messaging import QueueConsumer
from prometheus_client import REGISTRY
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import NullPool

from dealerflow import metrics
from dealerflow.config import env_int
from dealerflow.db import SQLITE_BLOCKING_WAIT_S

log = logging.getLogger(__name__)

DEFAULT_PORTS = {"customers": 9101, "leads": 9102, "followups": 9103, "notifications": 9104}
CHECK_TIMEOUT_S = 2.0


class OpsPortUnavailable(RuntimeError):
    """The ops server cannot listen on its port: the service does not start."""


_current = contextvars.ContextVar("dealerflow_ops_worker", default=None)  # (Workers, key) of this green thread


def progress() -> None:
    """Long work calls it at each step it completes (a batch committed): its
    worker is not hung, however long it has run, as long as it advances."""
    current = _current.get()
    if current is not None:
        workers, key = current
        workers.advanced(key)


class Workers:
    """The workers running now: since when, and when each last advanced
    (monotonic seconds; a worker advances when it begins and at each
    ``progress()``)."""

    def __init__(self):
        self.running = {}

    def begin(self, key, name: str) -> None:
        """Called in the worker's own green thread, where ``progress()`` finds it."""
        now = time.monotonic()
        self.running[key] = [now, name, now]
        _current.set((self, key))

    def advanced(self, key) -> None:
        if key in self.running:
            self.running[key][2] = time.monotonic()

    def end(self, key) -> float | None:
        """How long the worker ran (None: it was never begun)."""
        started, _, _ = self.running.pop(key, (None, None, None))
        return None if started is None else time.monotonic() - started

    def count(self) -> int:
        return len(self.running)

    def oldest(self) -> tuple[float, str] | None:
        """The longest a running worker has gone without advancing, and its name."""
        if not self.running:
            return None
        _, name, advanced = min(self.running.values(), key=lambda running: running[2])
        return time.monotonic() - advanced, name

    def oldest_age(self) -> float:
        oldest = self.oldest()
        return oldest[0] if oldest else 0.0


class Health:
    """What ``/healthz`` and ``/readyz`` answer. ``consumer_alive()`` tells
    whether the queue consumer's thread runs; ``checks`` name the callables
    readiness runs, each raising when what it checks is not ready."""

    def __init__(self, workers: Workers, hung_after: float, consumer_alive, checks: dict):
        self.workers, self.hung_after = workers, hung_after
        self.consumer_alive, self.checks = consumer_alive, checks

    def problems(self) -> list[str]:
        """Why the process is stuck; empty when it is live."""
        problems = []
        oldest = self.workers.oldest()
        if oldest is not None and oldest[0] > self.hung_after:
            problems.append(f"worker {oldest[1]} has run {oldest[0]:.0f} s without progress "
                            f"(HUNG_WORKER_SECONDS={self.hung_after:g})")
        if not self.consumer_alive():
            problems.append("the queue consumer's thread is dead")
        return problems

    def readiness(self) -> dict[str, str]:
        answers = {}
        for name, check in self.checks.items():
            try:
                with eventlet.Timeout(CHECK_TIMEOUT_S):
                    check()
                answers[name] = "ok"
            except eventlet.Timeout:
                answers[name] = f"no answer within {CHECK_TIMEOUT_S:g} s"
            except Exception as exc:
                answers[name] = str(exc) if isinstance(exc, NotReady) else f"unreachable: {type(exc).__name__}"
        return answers


class NotReady(Exception):
    """A readiness check's own verdict (its message is the answer)."""


def wsgi_app(health: Health, registry=REGISTRY):
    """The ops server's routes as a WSGI application."""
    def app(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
            return [generate_latest(registry)]
        if path == "/healthz":
            problems = health.problems()
            ok, body = not problems, {"status": "ok"} if not problems else {"status": "stuck", "problems": problems}
        elif path == "/readyz":
            checks = health.readiness()
            ok = all(answer == "ok" for answer in checks.values())
            body = {"status": "ok" if ok else "unavailable", "checks": checks}
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b'{"title": "404 Not Found"}']
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
    return app


def check_engine(url: str):
    """An engine without a pool, whose connections give up fast."""
    if make_url(url).get_backend_name() == "sqlite":
        connect_args = {"timeout": SQLITE_BLOCKING_WAIT_S, "check_same_thread": False}
    else:
        seconds = int(CHECK_TIMEOUT_S)
        connect_args = {"connect_timeout": seconds, "options": f"-c statement_timeout={seconds * 1000}"}
    return create_engine(url, poolclass=NullPool, connect_args=connect_args)


def database_check(engine):
    def check():
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    return check


def consumer_checks(queue_consumer: QueueConsumer):
    """``(alive, broker_check)`` of the container's queue consumer (nameko's,
    whose state lives in private attributes)."""
    def alive() -> bool:
        thread = queue_consumer._gt
        return thread is None or not thread.dead  # None: not started yet

    def broker():
        consumers = list(queue_consumer._consumers.values())
        if not queue_consumer._consumers_ready.ready() or not consumers:
            raise NotReady("not consuming yet")
        connection = consumers[0].channel.connection
        if connection is None or not connection.connected:
            raise NotReady("disconnected")
    return alive, broker


class OpsServer(DependencyProvider):
    """Serves ``/healthz``, ``/readyz`` and ``/metrics`` (see the module),
    and times every worker for them. ``extra_gauges(session, now)``: the
    service's own scrape-time metric families, read from its database."""

    def __init__(self, extra_gauges=None):
        self.extra_gauges = extra_gauges
        self.socket = self.server = self.gauges = self.engine = None

    def setup(self):
        service, config = self.container.service_cls, self.container.config
        host, port = os.environ.get("OPS_HOST", "127.0.0.1"), env_int("OPS_PORT", DEFAULT_PORTS.get(service.name, 0))
        try:
            self.socket = eventlet.listen((host, port))
        except OSError as exc:
            raise OpsPortUnavailable(
                f"the {service.name} service cannot serve its health and metrics on {host}:{port} "
                f"(OPS_PORT): {exc.strerror or exc}. Give every process on a host its own OPS_PORT.") from exc
        self.workers = Workers()
        self.engine = check_engine(config["DATABASE_URL"])
        consumer = next(ext for ext in self.container.subextensions if isinstance(ext, QueueConsumer))
        alive, broker = consumer_checks(consumer)
        self.health = Health(self.workers, float(os.environ.get("HUNG_WORKER_SECONDS") or 300), alive,
                             {"broker": broker, "database": database_check(self.engine)})
        from dealerflow.messaging import queues_of  # messaging imports this module for Reliable
        consumed = [queue.name for queue in queues_of(service)]
        self.gauges = metrics.ServiceGauges(
            config["AMQP_URI"], [f"rpc-{service.name}", *consumed], consumed, sessionmaker(self.engine),
            service.relay.outbox_model, self.workers, self.extra_gauges)
        REGISTRY.register(self.gauges)

    def start(self):
        log.info("health and metrics on http://%s:%d/ (healthz, readyz, metrics)", *self.socket.getsockname()[:2])
        self.server = self.container.spawn_managed_thread(self.serve, identifier="ops server")

    def serve(self):
        eventlet.wsgi.server(self.socket, wsgi_app(self.health), log=log, log_output=False, max_size=20)

    def stop(self):
        if self.server is not None:
            self.server.kill()
        if self.socket is not None:
            self.socket.close()
        if self.gauges is not None:
            REGISTRY.unregister(self.gauges)
            self.gauges = None
        if self.engine is not None:
            self.engine.dispose()

    kill = stop

    def worker_setup(self, worker_ctx):
        entrypoint = worker_ctx.entrypoint
        self.workers.begin(worker_ctx, f"{self.container.service_name}.{entrypoint.method_name}")
        if not getattr(entrypoint, "batching", False):  # a batch observes each delivery as it reads it
            metrics.observe_delivery_start(entrypoint, worker_ctx.context_data)

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        seconds = self.workers.end(worker_ctx)
        if seconds is not None:
            metrics.observe_worker(worker_ctx.entrypoint, seconds, exc_info)
