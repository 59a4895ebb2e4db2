"""The Falcon app. ``create_app`` is pure (tests give it what they like);
``get_app()`` reads the environment and is what gunicorn runs:
``gunicorn -c services/gateway/gunicorn_conf.py 'services.gateway.app:get_app()'``.
"""
import logging
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass, field

import falcon
import gevent
from falcon.routing import CompiledRouter
from sqlalchemy.orm import sessionmaker

from dealerflow import config
from dealerflow.db import for_reads, for_single_writes, make_engine, utcnow
from dealerflow.logs import correlation_id, setup_logging
from dealerflow.outbox import Relay
from services.gateway import authn, errors, intake, metrics, openapi
from services.gateway.auth import prune_sign_ins
from services.gateway.bus import IntakePublisher, RpcPool
from services.gateway.clients import Clients
from services.gateway.models import OutboxMessage
from services.gateway.ratelimit import RateLimiter
from services.gateway.resources import (
    admin,
    analytics,
    auth,
    customers,
    followups,
    health,
    lead_actions,
    leads,
    me,
    notifications,
    routing,
    stream,
    test_drives,
    web,
)
from services.gateway.storable import text_problem
from services.gateway.stream import StreamHub

log = logging.getLogger(__name__)


class RequestId:
    """Takes ``X-Request-Id`` (or makes one) as the correlation id that
    follows the request through every RPC, event and log line."""

    def process_request(self, req, resp):
        value = (req.get_header("X-Request-Id") or "")[:64] or uuid.uuid4().hex
        correlation_id.set(value)
        resp.set_header("X-Request-Id", value)


@dataclass
class Gateway:
    """What the resources work with; tests build one from fakes."""
    sessions: object               # sessionmaker of the gateway's own database
    publisher: object              # IntakePublisher: leads into the durable intake queue
    clients: Clients               # one typed RPC client per service
    limiter: RateLimiter = field(default_factory=RateLimiter)
    max_body: int = 1024 * 1024
    offload: object = None         # runs CPU work off the event loop (None: inline)
    hub: StreamHub = field(default_factory=StreamHub)  # live push: one per process
    reads: object = None           # sessionmaker for reads only (``db.for_reads``); None: ``sessions``
    single_writes: object = None   # sessionmaker for one write a transaction (``db.for_single_writes``); None: ``sessions``

    def __post_init__(self):
        self.reads = self.reads or self.sessions
        self.single_writes = self.single_writes or self.sessions


class StorableQuery:
    """Refuses (400) a query string no database could take: PostgreSQL
    refuses NUL in text, and no codec a lone surrogate. Bodies are checked
    where they are loaded (``intake``, ``resources.auth.load_json``)."""

    def process_request(self, req, resp):
        for name, value in req.params.items():
            for text in (name, *(value if isinstance(value, list) else [value])):
                problem = text_problem(text)
                if problem:
                    raise errors.BadRequest(f"Query parameter {name.encode('utf-8', 'replace').decode()!r}: "
                                            f"{problem}")


def create_app(gateway: Gateway) -> falcon.App:
    """The app: each area adds its routes (``resources/<area>.py``)."""
    router = CompiledRouter()
    app = falcon.App(router=router, middleware=[
        metrics.HttpMetrics(router), RequestId(), StorableQuery(),
        authn.Authentication(gateway.reads, gateway.limiter)])
    errors.install(app)
    for area in (health, leads, lead_actions, customers, followups, test_drives, notifications, analytics, auth,
                 me, admin, routing, stream, web, openapi):
        area.add_routes(app, gateway)
    return app


def housekeeping_forever(sessions, interval: float = 5.0, prune_every: float = 600.0) -> None:
    """Publish gateway events a crash or an outage left in the outbox, and
    now and then forget intake records older than the dedupe retention and
    sign-in records that can no longer matter."""
    relay, stop = Relay("gateway", OutboxMessage), threading.Event()
    pruned_at = time.monotonic() - prune_every
    while not stop.wait(interval):
        try:
            with sessions() as session:
                relay.publish_pending(session)
                if time.monotonic() - pruned_at >= prune_every:
                    pruned_at = time.monotonic()
                    intake.prune(session, config.dedupe_retention())
                    prune_sign_ins(session, utcnow())
                    session.commit()
        except Exception:
            log.exception("gateway housekeeping failed; will try again")


def in_thread(function, *args):
    """Run CPU work in a thread of gevent's pool: the worker's event loop
    keeps serving the other requests meanwhile."""
    return gevent.get_hub().threadpool.apply(function, args)


def close_streams_on_sigterm(hub: StreamHub) -> None:
    """A stopping gunicorn worker (SIGTERM) stops accepting and waits up to
    ``graceful_timeout`` for its requests, but a live stream never ends by
    itself and would be cut when that time runs out. So the worker also
    tells its streams to end (``StreamHub.close``) with a reconnect hint: the
    browsers reconnect to another worker or replica, and the stop takes no
    longer than the last ordinary request. gunicorn installs its own handler
    before it loads the app (``Worker.init_process``), so this one runs
    first and then hands over. gevent runs a signal handler in its event
    loop, where nothing may wait (not even for a thread to start): the
    closing runs in a greenlet of its own."""
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        gevent.spawn(hub.close)
        if callable(previous):
            previous(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)


def get_app() -> falcon.App:
    """The app gunicorn runs. On SQLite the gateway's transactions take the
    write lock at BEGIN, where a wait is green and bounded (``dealerflow.db``):
    a deferred transaction would meet the lock at its first write, where
    SQLite can only fail. They are all short."""
    setup_logging("gateway", os.environ.get("LOG_LEVEL", "INFO"))
    config.jwt_secret(), config.jwt_previous_secrets()  # a missing or short key: fail at start, not at sign-in
    engine = make_engine(config.database_url("gateway"))
    sessions = sessionmaker(engine, expire_on_commit=False)
    threading.Thread(target=housekeeping_forever, args=(sessions,), daemon=True).start()
    hub = StreamHub(config.amqp_uri())
    close_streams_on_sigterm(hub)
    return create_app(Gateway(
        sessions=sessions,
        publisher=IntakePublisher(config.amqp_uri()),
        clients=Clients(RpcPool(config.amqp_uri(), timeout=config.env_int("RPC_TIMEOUT", 5))),
        limiter=RateLimiter(processes=config.env_int("WEB_CONCURRENCY", 2)),
        max_body=config.env_int("MAX_BODY_BYTES", 1024 * 1024),
        offload=in_thread,
        hub=hub,
        reads=sessionmaker(for_reads(engine), expire_on_commit=False),  # a key, a sign-in, a lead's store
        single_writes=sessionmaker(for_single_writes(engine), expire_on_commit=False),  # an accepted lead's row
    ))
