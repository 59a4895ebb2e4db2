"""Log lines that carry the correlation id of the request that started the
work, and never a customer's phone number or email address.

The id lives in a context variable: the gateway sets it per HTTP request, a
nameko service per worker (from the ``nameko.correlation_id`` message header),
and greenlets keep their own copy, so concurrent workers never mix them up.

``LOG_FORMAT`` says how a line looks: ``json`` (the default, for production:
one JSON object a line, with ``time``, ``level``, ``logger``, ``service``,
``correlation_id`` and ``message``) or ``text`` (one readable line, what
``make run`` shows: time, level, service, correlation id, logger, message).

Code logs ids, never a customer's name, phone or email. ``Masking`` is the
safety net under that rule: every record's message (its arguments merged
in), its traceback and its stack have phone-like and email-like text
replaced, whatever put it there (an exception's text, a library's message).
Names cannot be recognised, so only the rule keeps them out.
"""
import contextvars
import logging
import logging.config
import os
import re

from pythonjsonlogger.json import JsonFormatter

correlation_id = contextvars.ContextVar("correlation_id", default=None)

LOG_FORMATS = ("json", "text")

PHONE_MASK, EMAIL_MASK = "[phone]", "[email]"
PHONE_DIGITS = 8   # fewer digits is a count, a port or a pid, not a customer's number
# digits, maybe a leading + and an area code in brackets, with spaces, dots,
# dashes or brackets between them; not inside a word, an id or a number
# with a decimal point, not a time's part (12:30), and not an ISO date
# (2026-11-26: a datetime's str() runs on into its time) nor a UUID of digits alone
PHONE_LIKE = re.compile(r"(?<![0-9A-Za-z_+.\-])(?<!\d:)(?!\d{4}-\d\d-\d\d|\d{8}-\d{4}-)\+?(?:\(\+?\d+\) ?)?\d[\d ().\-]*\d"
                        r"(?![0-9A-Za-z_\-])")
IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
EMAIL_LIKE = re.compile(r"[\w.%+\-]+@[\w\-]+(?:\.[\w\-]+)+")


def _phone(match: re.Match) -> str:
    text = match.group()
    if sum(char.isdigit() for char in text) < PHONE_DIGITS or IPV4.fullmatch(text):
        return text
    return PHONE_MASK


def mask(text: str) -> str:
    """``text`` with every email-like and phone-like part replaced."""
    return PHONE_LIKE.sub(_phone, EMAIL_LIKE.sub(EMAIL_MASK, text))


class Masking(logging.Filter):
    """Replaces phone-like and email-like text in the record's message
    (formatted here, its arguments merged in, so that a number inside a
    dict or an exception argument is caught too), its traceback and its
    stack. The record leaves with its message final and ``exc_info``
    turned into (masked) ``exc_text``, which every formatter prints."""

    def filter(self, record):
        record.msg, record.args = mask(record.getMessage()), ()
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class CorrelationFilter(logging.Filter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def filter(self, record):
        record.service = self.service
        record.correlation_id = correlation_id.get()
        return True


class TextFormatter(logging.Formatter):
    """``2026-11-26 09:30:00,123 INFO leads [<correlation id>] services.leads.handlers: lead ... stored``"""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(service)s [%(correlation_id)s] %(name)s: %(message)s")

    def format(self, record):
        if record.correlation_id is None:
            record.correlation_id = "-"
        return super().format(record)


def formatter(kind: str) -> logging.Formatter:
    if kind == "text":
        return TextFormatter()
    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(service)s %(correlation_id)s %(message)s",
        rename_fields={"levelname": "level", "asctime": "time", "name": "logger"})


def log_format() -> str:
    """``LOG_FORMAT``: ``json`` unless it says ``text``; anything else is a
    mistake worth stopping for."""
    kind = os.environ.get("LOG_FORMAT", "json").strip().lower() or "json"
    if kind not in LOG_FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}, not {kind!r}")
    return kind


def logging_config(service: str, level: str = "INFO") -> dict:
    """The ``logging.config.dictConfig`` of a process: one stdout handler
    that stamps the service and correlation id, masks, and formats as
    ``LOG_FORMAT`` says. gunicorn's master takes it as ``logconfig_dict``."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": CorrelationFilter, "service": service},
                    "mask": {"()": Masking}},
        "formatters": {"line": {"()": formatter, "kind": log_format()}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout",
                                "filters": ["context", "mask"], "formatter": "line"}},
        "root": {"handlers": ["stdout"], "level": level.upper()},
    }


def skip_unused_record_fields() -> None:
    """A record need not learn what no line shows: its thread, process and
    the caller's file and line (the logging HOWTO's "Optimization"). Under
    eventlet, asking for the current thread alone was a fifth of a log
    line's cost, and a lead costs a service one line."""
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging._srcfile = None


def setup_logging(service: str, level: str = "INFO") -> None:
    skip_unused_record_fields()
    logging.config.dictConfig(logging_config(service, level))
