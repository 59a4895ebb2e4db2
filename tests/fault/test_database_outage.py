"""A service's database gone for longer than the whole retry schedule while
leads arrive: an outage is not a poison message, so nothing is parked, and
once the database is back every lead is handled once.

On PostgreSQL the leads service reaches its database through a TCP proxy
that the test cuts; on SQLite the test holds the database's write lock, long
past the (shortened) bound of the cooperative BEGIN."""
import json
import time
from contextlib import contextmanager

import pytest

from tests.conftest import make_lead
from tests.fault.test_faults import assert_each_handled_once
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

OUTAGE_S = 8  # the retry schedule (0.2, 0.5, 1 s) parks a failing message within about 3-6 s
BEFORE, DURING = 5, 8


@pytest.fixture
def stack(tmp_path, backend):
    running = Stack(tmp_path, backend, proxied_database="leads" if backend == "postgresql" else None,
                    extra_env={"DEALERFLOW_SQLITE_LOCK_WAIT": "0.3", "DEALERFLOW_OUTAGE_BACKOFF_MAX": "1"})
    running.setup()
    try:
        yield running.start()
    finally:
        running.stop()


@contextmanager
def leads_database_away(stack):
    if stack.backend == "postgresql":
        stack.database_proxy.cut()
        try:
            yield
        finally:
            stack.database_proxy.restore()
    else:
        with stack.locked("leads"):
            yield


def outage_lines(stack) -> list[str]:
    return [json.loads(line)["message"] for line in stack.log("leads").splitlines()
            if "an outage, not a bad message" in line]


def assert_nothing_parked(stack, when: str) -> None:
    listing = stack.cli("parked")
    assert listing.strip().splitlines()[-1] == "0 parked message(s)", \
        f"an outage parked messages ({when}):\n{listing}"


def post(stack, n: int) -> None:
    answer = stack.post_lead(make_lead(external_id=f"OUTAGE-{n:03d}",
                                       customer={"name": f"客户{n}", "phone": f"139{n:08d}"}))
    assert answer.status_code == 202, f"intake needs only the broker, not the leads database: {answer.text}"


def test_a_database_outage_longer_than_the_retries_parks_nothing_and_loses_nothing(stack):
    for n in range(BEFORE):
        post(stack, n)
    eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads") == BEFORE,
               message="the leads before the outage are stored")

    started = time.monotonic()
    with leads_database_away(stack):
        for n in range(BEFORE, BEFORE + DURING):  # one a second, through the outage
            post(stack, n)
            time.sleep(OUTAGE_S / DURING)
        assert time.monotonic() - started >= OUTAGE_S
    print(f"the leads database was away {time.monotonic() - started:.1f} s")
    assert_nothing_parked(stack, "through the outage")

    assert_each_handled_once(stack, BEFORE + DURING)
    print(f"every lead handled once {time.monotonic() - started:.1f} s after the outage began")
    assert_nothing_parked(stack, "once all was handled")
    waits = outage_lines(stack)
    assert waits, "the leads service saw the outage and said so"
    if stack.backend == "sqlite":
        assert any("database is locked" in line for line in waits), \
            f"the cooperative BEGIN gave up on the held lock at least once: {waits[:3]}"
