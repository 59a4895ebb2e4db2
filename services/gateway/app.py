"""The Falcon app. ``create_app`` is pure (tests give it what they like);
``get_app()`` reads the environment and is what gunicorn runs:
``gunicorn -c services/gateway/gunicorn_conf.py 'services.gateway.app:get_app()'``.
"""
import logging
import os
import threading
import uuid

import falcon
from sqlalchemy.orm import sessionmaker

from dealerflow import config
from dealerflow.db import make_engine
from dealerflow.logs import correlation_id, setup_logging
from dealerflow.outbox import Relay
from services.gateway import errors
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


def create_app(sessions, publisher, rpc, limiter, max_body: int) -> falcon.App:
    app = falcon.App(middleware=[RequestId()])
    errors.install(app)
    platforms = Platforms(sessions, limiter)
    app.add_route("/v1/leads", LeadCollection(sessions, platforms, publisher, max_body))
    app.add_route("/v1/leads/{lead_id}", LeadItem(sessions, platforms, rpc))
    app.add_route("/healthz", Health())
    app.add_route("/readyz", Ready(publisher, rpc))
    return app


def relay_forever(sessions, interval: float = 5.0) -> None:
    """Publish gateway events a crash or an outage left in the outbox."""
    relay, stop = Relay("gateway", OutboxMessage), threading.Event()
    while not stop.wait(interval):
        try:
            with sessions() as session:
                relay.publish_pending(session)
        except Exception:
            log.exception("gateway outbox relay failed; will try again")


def get_app() -> falcon.App:
    setup_logging("gateway", os.environ.get("LOG_LEVEL", "INFO"))
    sessions = sessionmaker(make_engine(config.database_url("gateway"), immediate=False),
                            expire_on_commit=False)
    threading.Thread(target=relay_forever, args=(sessions,), daemon=True).start()
    return create_app(
        sessions=sessions,
        publisher=IntakePublisher(config.amqp_uri()),
        rpc=RpcPool(config.amqp_uri(), timeout=config.env_int("RPC_TIMEOUT", 5)),
        limiter=RateLimiter(processes=config.env_int("WEB_CONCURRENCY", 2)),
        max_body=config.env_int("MAX_BODY_BYTES", 1024 * 1024),
    )
