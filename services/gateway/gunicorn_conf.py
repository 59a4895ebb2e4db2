"""gunicorn settings for the gateway, from the environment.

gevent workers: intake waits on the broker's publisher confirm, and a
greenlet per request keeps many such waits in flight per core.
"""
import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gevent"
worker_connections = 1000
timeout = 30
graceful_timeout = 25
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
