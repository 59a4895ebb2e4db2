"""JSON logs that carry the correlation id of the request that started the work.

The id lives in a context variable: the gateway sets it per HTTP request, a
nameko service per worker (from the ``nameko.correlation_id`` message header),
and greenlets keep their own copy, so concurrent workers never mix them up.
"""
import contextvars
import logging
import sys

from pythonjsonlogger.json import JsonFormatter

correlation_id = contextvars.ContextVar("correlation_id", default=None)


class CorrelationFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record):
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


def setup_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(CorrelationFilter(service))
    handler.setFormatter(JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(service)s %(correlation_id)s %(message)s",
        rename_fields={"levelname": "level", "asctime": "time", "name": "logger"},
    ))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
