"""Faults a dealer group will meet: a service killed mid-flight, the broker
gone for a while. Nothing accepted may be lost or done twice."""
import signal
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from dealerflow.config import WORKERS
from tests.conftest import make_lead
from tests.support.stack import BROKER, Stack
from tests.support.tcp_proxy import TcpProxy
from tests.support.waiting import eventually

pytestmark = pytest.mark.fault

LEADS = 1000


def counts(stack) -> dict:
    return {
        "leads": stack.scalar("leads", "SELECT count(*) FROM leads"),
        "assigned": stack.scalar("leads", "SELECT count(*) FROM leads WHERE status = 'assigned'"),
        "assignments": stack.scalar("leads", "SELECT count(*) FROM assignments"),
        "customers": stack.scalar("customers", "SELECT count(*) FROM customers"),
        "customer_leads": stack.scalar("customers", "SELECT count(*) FROM customer_leads"),
        "linked": stack.scalar("leads", "SELECT count(*) FROM leads WHERE customer_id IS NOT NULL"),
        "tasks": stack.scalar("followups", "SELECT count(*) FROM tasks"),
        "inbox": stack.scalar("notifications", "SELECT count(*) FROM inbox_messages"),
    }


@pytest.fixture
def fresh_stack(tmp_path, backend):
    stack = Stack(tmp_path, backend)
    stack.setup()
    try:
        yield stack.start()
    finally:
        stack.stop()


def submit_while_restarting(stack, total: int, restarts) -> list[str]:
    """Post ``total`` new leads; each ``(share, service, signal)`` of
    ``restarts`` stops that service with the signal once that share of the
    leads was accepted, and starts it again. Returns the accepted ids. Fails
    when a restart it was asked for did not happen: a fault test whose fault
    never came proves nothing."""
    accepted, done, restarted, failures = [], threading.Event(), [], []

    def submit(i):
        answer = stack.post_lead(make_lead(external_id=f"FAULT-{i:05d}",
                                           customer={"name": f"客户{i}", "phone": f"139{i:08d}"}))
        assert answer.status_code == 202, answer.text
        accepted.append(answer.json()["id"])

    def restart():
        try:
            for share, service, sig in restarts:
                eventually(lambda: len(accepted) >= total * share or done.is_set(), timeout=120)
                stack.kill(service, sig)
                stack.start_process(service)
                restarted.append(service)
        except Exception as exc:  # raised in the test's own thread below
            failures.append(exc)

    thread = threading.Thread(target=restart)
    thread.start()
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(submit, range(total)))
    done.set()
    thread.join(timeout=180)
    if failures:
        raise failures[0]
    assert restarted == [service for _, service, _ in restarts], \
        f"asked to restart {[s for _, s, _ in restarts]}, restarted only {restarted}"
    return accepted


def assert_each_handled_once(stack, total: int) -> None:
    expected = {key: total for key in counts(stack)}
    eventually(lambda: counts(stack) == expected, timeout=180,
               message=f"every lead stored, assigned, matched, tasked and notified once: {counts(stack)}")
    assert stack.scalar("leads", "SELECT count(DISTINCT lead_id) FROM assignments") == total
    assert stack.scalar("followups", "SELECT count(DISTINCT lead_id) FROM tasks") == total
    assert stack.scalar("notifications", "SELECT count(DISTINCT lead_id) FROM inbox_messages") == total


def test_killing_the_leads_service_twice_loses_and_duplicates_nothing(fresh_stack):
    accepted = submit_while_restarting(fresh_stack, LEADS, [(0.3, "leads", signal.SIGKILL),
                                                            (0.65, "leads", signal.SIGKILL)])
    assert len(set(accepted)) == LEADS
    assert_each_handled_once(fresh_stack, LEADS)


@pytest.fixture
def proxied_stack(tmp_path, backend):
    proxy = TcpProxy(*BROKER)
    stack = Stack(tmp_path, backend, broker_port=proxy.port)
    stack.setup()
    try:
        yield stack.start(), proxy
    finally:
        proxy.close()
        stack.stop()


def test_a_broker_outage_answers_503_loses_nothing_and_heals_itself(proxied_stack):
    stack, proxy = proxied_stack
    before = [stack.post_lead(make_lead()) for _ in range(20)]
    assert {answer.status_code for answer in before} == {202}

    proxy.cut()
    during = [stack.post_lead(make_lead()) for _ in range(5)]
    assert {answer.status_code for answer in during} == {503}
    assert all(answer.headers.get("Retry-After") for answer in during)
    assert requests.get(f"{stack.url}/readyz", timeout=30).status_code == 503
    proxy.restore()

    def accepted_again():
        answer = stack.post_lead(make_lead())
        return answer if answer.status_code == 202 else None
    after = eventually(accepted_again, timeout=30, message="the gateway accepts leads again")
    stack.wait_ready(timeout=120)
    assert all(process.poll() is None for process in stack.processes.values()), \
        "every service survived the outage without a restart"

    ids = [answer.json()["id"] for answer in before] + [after.json()["id"]]
    eventually(lambda: stack.scalar("notifications", "SELECT count(DISTINCT lead_id) FROM inbox_messages")
               == len(ids), timeout=120, message="every accepted lead reached a consultant's inbox")
    assert stack.scalar("leads", "SELECT count(*) FROM leads") == len(ids)
    assert stack.scalar("leads", "SELECT count(*) FROM assignments") == len(ids)


def test_a_rolling_restart_of_every_service_loses_and_duplicates_nothing(fresh_stack):
    """SIGTERM, as a deploy sends it, to each service in turn while leads arrive."""
    services = ("leads", *(name for name in WORKERS if name != "leads"))  # intake's first
    accepted = submit_while_restarting(fresh_stack, 300, [(n / 5, service, signal.SIGTERM)
                                                          for n, service in enumerate(services, start=1)])
    assert len(set(accepted)) == 300
    assert_each_handled_once(fresh_stack, 300)
