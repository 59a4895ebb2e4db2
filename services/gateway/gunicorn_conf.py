"""gunicorn settings for the gateway, from the environment.

gevent workers: intake waits on the broker's publisher confirm, and a
greenlet per request keeps many such waits in flight per core.
"""
import os

from psycogreen.gevent import patch_psycopg

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = int(os.environ.get("WORKER_CONNECTIONS", "1000"))  # open streams count (docs/scaling.md)
timeout = 30
# seconds a stopping worker waits for its requests; a live stream lasts until its
# client goes, so a stop waits this long whenever a browser is connected
graceful_timeout = int(os.environ.get("GRACEFUL_TIMEOUT", "25"))
# gunicorn 27 opens a control socket under $HOME by default; two gateways on
# one host (tests, benchmarks) would fight over it, and nothing here uses it.
control_socket_disable = True
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def post_fork(server, worker):
    """psycopg2 waits for PostgreSQL in C, which gevent's monkey-patching
    does not reach: one slow query would stall every request of the worker
    (and, past ``timeout``, get it killed). psycogreen's wait callback makes
    each such wait yield to the worker's other greenlets."""
    patch_psycopg()

# gunicorn's own lines as JSON too, like every other Dealerflow log line.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {
        "()": "pythonjsonlogger.json.JsonFormatter",
        "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        "rename_fields": {"levelname": "level", "asctime": "time", "name": "logger"},
        "static_fields": {"service": "gateway"},
    }},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json",
                            "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["stdout"], "level": loglevel.upper()},
    "loggers": {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
    },
}
