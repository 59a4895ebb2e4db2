"""gunicorn settings for the gateway, from the environment.

gevent workers: intake waits on the broker's publisher confirm, and a
greenlet per request keeps many such waits in flight per core.

Metrics: every worker writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (default ``$DEALERFLOW_VAR/gateway-metrics``),
set here, in the master, before any worker imports prometheus_client (the
workers load the app after this file); the master empties it when it starts
(files of a previous run would be counted again), forgets a worker that
exits (``child_exit``), and serves the sum of all its workers on
``METRICS_PORT`` (default 9100, 0: none) at the host of ``BIND``, so that
a scrape sees the whole gateway, never one worker.
"""
import os
from pathlib import Path

from psycogreen.gevent import patch_psycopg

from dealerflow.config import env_int, var_dir  # not `config`: gunicorn has a setting of that name
from dealerflow.logs import logging_config

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(var_dir() / "gateway-metrics")
metrics_dir = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
metrics_port = env_int("METRICS_PORT", 9100)

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))  # open streams count (docs/scaling.md)
timeout = 30
# seconds a stopping worker waits for its requests; its live streams end at once
# with a reconnect event (app.close_streams_on_sigterm), so they do not hold it
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "25"))
# gunicorn 27 opens a control socket under $HOME by default; two gateways on
# one host (tests, benchmarks) would fight over it, and nothing here uses it.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def on_starting(server):
    metrics_dir.mkdir(parents=True, exist_ok=True)
    for stale in metrics_dir.glob("*.db"):
        stale.unlink()


def when_ready(server):
    """Serve the workers' metrics from the master, in a thread of its own.
    A port already taken is logged, not fatal: metrics are not worth
    refusing leads for."""
    if not metrics_port:
        return
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    host = bind.rpartition(":")[0].strip("[]") or "0.0.0.0"
    try:
        start_http_server(metrics_port, addr=host, registry=registry)
    except OSError as exc:
        server.log.error("metrics not served on %s:%s: %s", host, metrics_port, exc)


def child_exit(server, worker):
    """A dead worker's counters still count; its live gauges no longer do."""
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(worker.pid)


def post_fork(server, worker):
    """psycopg2 waits for PostgreSQL in C, which gevent's monkey-patching
    does not reach: one slow query would stall every request of the worker
    (and, past ``timeout``, get it killed). psycogreen's wait callback makes
    each such wait yield to the worker's other greenlets."""
    patch_psycopg()


# gunicorn's own lines go to the root handler: formatted (LOG_FORMAT) and
# masked like every other Dealerflow log line.
logconfig_dict = dict(logging_config("gateway", loglevel), loggers={
    name: {"handlers": [], "level": loglevel.upper(), "propagate": True}
    for name in ("gunicorn.error", "gunicorn.access")})
