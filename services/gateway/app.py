"""The Falcon app. ``create_app`` is pure (tests give it what they like);
``get_app()`` reads the environment and is what gunicorn runs:
``gunicorn -c services/gateway/gunicorn_conf.py 'services.gateway.app:get_app()'``.
"""
import logging
import os
import threading
import time
import uuid

import falcon
import gevent
from sqlalchemy.orm import sessionmaker

from dealerflow import config
from dealerflow.db import make_engine
from dealerflow.logs import correlation_id, setup_logging
from dealerflow.outbox import Relay
from services.gateway import errors, intake
from services.gateway.bus import IntakePublisher, RpcPool
from services.gateway.models import OutboxMessage
from services.gateway.ratelimit import RateLimiter
from services.gateway.resources.health import Health, Ready
from services.gateway.resources.leads import LeadCollection, LeadItem, Platforms

log = logging.getLogger(__name__)


class RequestId:
    """Takes ``X-Request-Id`` (or makes one) as the correlation id that
    follows the request through every RPC, event and log line."""

    def process_request(self, req, resp):
        value = (req.get_header("X-Request-Id") or "")[:64] or uuid.uuid4().hex
        correlation_id.set(value)
        resp.set_header("X-Request-Id", value)


def create_app(sessions, publisher, rpc, limiter, max_body: int, offload=None) -> falcon.App:
    app = falcon.App(middleware=[RequestId()])
    errors.install(app)
    platforms = Platforms(sessions, limiter)
    app.add_route("/v1/leads", LeadCollection(sessions, platforms, publisher, max_body, offload))
    app.add_route("/v1/leads/{lead_id}", LeadItem(sessions, platforms, rpc))
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(sessions, publisher, rpc))
    return app


def housekeeping_forever(sessions, interval: float = 5.0, prune_every: float = 600.0) -> None:
    """Publish gateway events a crash or an outage left in the outbox, and
    now and then forget intake records older than the dedupe retention."""
    relay, stop = Relay("gateway", OutboxMessage), threading.Event()
    pruned_at = time.monotonic() - prune_every
    while not stop.wait(interval):
        try:
            with sessions() as session:
                relay.publish_pending(session)
                if time.monotonic() - pruned_at >= prune_every:
                    pruned_at = time.monotonic()
                    intake.prune(session, config.dedupe_retention())
        except Exception:
            log.exception("gateway housekeeping failed; will try again")


def in_thread(function, *args):
    """Run CPU work in a thread of gevent's pool: the worker's event loop
    keeps serving the other requests meanwhile."""
    return gevent.get_hub().threadpool.apply(function, args)


def get_app() -> falcon.App:
    setup_logging("gateway", os.environ.get("LOG_LEVEL", "INFO"))
    sessions = sessionmaker(make_engine(config.database_url("gateway"), immediate=False),
                            expire_on_commit=False)
    threading.Thread(target=housekeeping_forever, args=(sessions,), daemon=True).start()
    return create_app(
        sessions=sessions,
        publisher=IntakePublisher(config.amqp_uri()),
        rpc=RpcPool(config.amqp_uri(), timeout=config.env_int("RPC_TIMEOUT", 5)),
        limiter=RateLimiter(processes=config.env_int("WEB_CONCURRENCY", 2)),
        max_body=config.env_int("MAX_BODY_BYTES", 1024 * 1024),
        offload=in_thread,
    )
