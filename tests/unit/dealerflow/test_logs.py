"""dealerflow.logs: no phone-like or email-like text survives a log record
(message, arguments, traceback), while ids, times, addresses and counts do;
LOG_FORMAT's two shapes."""
import io
import json
import logging
import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow import logs
from dealerflow.logs import correlation_id, mask

SEPARATORS = st.sampled_from(["", " ", "-", ".", " - "])


@st.composite
def phones(draw) -> tuple[str, str]:
    """A phone number as people write it, and its digits."""
    digits = draw(st.text("0123456789", min_size=8, max_size=15))
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) - 1), max_size=4)))
    parts = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)])]
    written = parts[0] if len(parts) == 1 or not draw(st.booleans()) else f"({parts[0]}) " + parts[1]
    rest = parts[1:] if written == parts[0] else parts[2:]
    for part in rest:
        written += draw(SEPARATORS) + part
    return draw(st.sampled_from(["", "+"])) + written, digits


emails = st.builds(lambda user, domain, tld: f"{user}@{domain}.{tld}",
                   st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,15}", fullmatch=True),
                   st.from_regex(r"[A-Za-z0-9][A-Za-z0-9-]{0,15}", fullmatch=True),
                   st.sampled_from(["com", "cn", "com.cn", "example"]))
# what sits around a number in a log line: Chinese text, punctuation, a word
# (one written against a number, ASCII letters or digits, makes an id: kept)
before = st.sampled_from(["", " ", "call ", "电话", "：", "(", "'", "=", " / ", ", ", "\n"])
after = st.sampled_from(["", " ", " now", "号", "。", ")", "'", "&", ", ", ".", "\n"])


@given(phones(), emails, before, after)
def test_no_phone_or_email_survives_in_any_surroundings(phone, email, before, after):
    written, digits = phone
    masked = mask(f"{before}{written}{after} {before}{email}{after}")
    assert digits not in "".join(char for char in masked if char.isdigit())
    assert email not in masked and "@" not in masked


@given(st.uuids(), st.datetimes(timezones=st.just(timezone.utc)), st.integers(0, 9_999_999))
def test_ids_times_and_counts_are_left_alone(an_id, moment, count):
    line = (f"lead {an_id} due {moment.isoformat()} ({moment}) on 10.244.12.130:8000, "
            f"{count} events behind, pid {count}")
    assert mask(line) == line


def record_of(handler_stream, fmt: str, monkeypatch) -> str:
    monkeypatch.setenv("LOG_FORMAT", fmt)
    logs.setup_logging("leads")
    handler = logging.getLogger().handlers[0]
    handler.setStream(handler_stream)
    correlation_id.set("req-1")
    log = logging.getLogger("services.leads.handlers")
    log.info("lead %s of %s stored", "L-1", {"phone": "+86 138 0013 8000", "email": "wl@example.com"})
    try:
        raise ValueError("customer 13800138000 <wl@example.com> refused")
    except ValueError:
        log.exception("failed for %s", "L-1")
    return handler_stream.getvalue()


def test_json_lines_carry_the_service_and_correlation_id_and_nothing_personal(monkeypatch):
    out = record_of(io.StringIO(), "json", monkeypatch)
    first, second = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert (first["service"], first["correlation_id"], first["level"]) == ("leads", "req-1", "INFO")
    assert first["message"] == "lead L-1 of {'phone': '[phone]', 'email': '[email]'} stored"
    assert "ValueError: customer [phone] <[email]> refused" in second["exc_info"]
    assert "13800138000" not in out and "0013" not in out and "wl@" not in out


def test_text_lines_are_one_readable_line(monkeypatch):
    out = record_of(io.StringIO(), "text", monkeypatch)
    first = out.splitlines()[0]
    datetime.strptime(first[:19], "%Y-%m-%d %H:%M:%S")
    assert first[23:] == (" INFO leads [req-1] services.leads.handlers: "
                          "lead L-1 of {'phone': '[phone]', 'email': '[email]'} stored")
    assert "ValueError: customer [phone] <[email]> refused" in out and "13800138000" not in out


def test_a_record_does_not_ask_for_what_no_line_shows(monkeypatch):
    record_of(io.StringIO(), "json", monkeypatch)
    seen = []
    handler = logging.Handler()
    handler.emit = seen.append
    logging.getLogger("services.leads.handlers").addHandler(handler)
    try:
        logging.getLogger("services.leads.handlers").info("lead %s stored", "L-1")
    finally:
        logging.getLogger("services.leads.handlers").removeHandler(handler)
    [record] = seen
    assert (record.thread, record.threadName, record.process, record.processName) == (None, None, None, None)
    assert record.lineno == 0  # the caller's frame was not looked up


def test_an_unknown_log_format_is_refused(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        logs.logging_config("leads")


def test_a_lead_id_is_never_masked():
    for _ in range(1000):
        text = f"lead {uuid.uuid4()} stored"
        assert mask(text) == text
