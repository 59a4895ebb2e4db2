"""Faults a dealer group will meet: a service killed mid-flight, the broker
gone for a while. Nothing accepted may be lost or done twice."""
import json
import os
import signal
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
import requests
from kombu import Connection, Exchange, Queue
from nameko.standalone.rpc import ClusterRpcProxy
from sqlalchemy import text

from dealerflow.actor import Actor
from dealerflow.config import WORKERS
from dealerflow.contracts import FOLLOWUP_REMINDER
from tests.conftest import make_lead
from tests.support.stack import BROKER, LEAD_NOTICES, Stack
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
        "tasks": stack.scalar("followups", "SELECT count(*) FROM tasks"),
        "inbox": stack.scalar("notifications", f"SELECT count(*) FROM inbox_messages WHERE {LEAD_NOTICES}"),
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
               message=lambda: f"every lead stored, assigned, matched, tasked and notified once: {counts(stack)}")
    assert stack.scalar("leads", "SELECT count(DISTINCT lead_id) FROM assignments") == total
    assert stack.scalar("followups", "SELECT count(DISTINCT lead_id) FROM tasks") == total
    assert stack.scalar("notifications", "SELECT count(DISTINCT lead_id) FROM inbox_messages "
                                         f"WHERE {LEAD_NOTICES}") == total


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


def reminders_due_soon(stack, count: int, within: float) -> None:
    """``count`` leads whose first-contact tasks remind their consultant at
    moments spread over the next ``within`` seconds (as if rescheduled so)."""
    for i in range(count):
        answer = stack.post_lead(make_lead(external_id=f"REMIND-{i:03d}",
                                           customer={"name": f"提醒{i}", "phone": f"137{i:08d}"}))
        assert answer.status_code == 202, answer.text
    eventually(lambda: stack.scalar("followups", "SELECT count(*) FROM tasks") == count, timeout=60,
               message="every lead has its first-contact task")
    with stack.engines["followups"].connect() as connection:  # made by the scalar above
        task_ids = connection.execute(text("SELECT id FROM tasks ORDER BY id")).scalars().all()
    start = datetime.now(timezone.utc)
    for i, task_id in enumerate(task_ids):
        moment = start + timedelta(seconds=2 + within * i / count)
        stack.execute("followups", "UPDATE tasks SET remind_at = :at WHERE id = :id", id=task_id,
                      at=moment if stack.backend == "postgresql" else moment.replace(tzinfo=None))


def assert_each_reminded_once(stack, count: int) -> None:
    reminded = lambda: stack.scalar("notifications", "SELECT count(*) FROM inbox_messages "  # noqa: E731
                                                     "WHERE kind = 'reminder'")
    eventually(lambda: reminded() >= count, timeout=120, message=f"{count} reminders in the inboxes")
    assert stack.scalar("followups", "SELECT count(*) FROM tasks WHERE reminded_at IS NOT NULL") == count
    assert stack.scalar("followups", "SELECT count(*) FROM outbox WHERE event_type = :t",
                        t=FOLLOWUP_REMINDER) == count, "each reminder fired once"
    assert reminded() == count, "each reminder reached its consultant's inbox once"
    assert stack.scalar("notifications", "SELECT count(DISTINCT lead_id) FROM inbox_messages "
                                         "WHERE kind = 'reminder'") == count


def test_a_rolling_restart_of_every_service_loses_and_duplicates_nothing(fresh_stack):
    """SIGTERM, as a deploy sends it, to each service in turn while leads arrive
    and reminders fall due."""
    reminders_due_soon(fresh_stack, 40, within=20)
    services = ("leads", *(name for name in WORKERS if name != "leads"))  # intake's first
    accepted = submit_while_restarting(fresh_stack, 300, [(n / 5, service, signal.SIGTERM)
                                                          for n, service in enumerate(services, start=1)])
    assert len(set(accepted)) == 300
    assert_each_handled_once(fresh_stack, 340)
    assert_each_reminded_once(fresh_stack, 40)


# -- a rollout stops a service in the middle of a writing RPC ---------------------------------

def rpc_queue(stack, service: str) -> dict:
    """The broker's count of the service's RPC requests: ready, unacked, consumers."""
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "name", "messages_ready",
                          "messages_unacknowledged", "consumers"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    for line in out.splitlines():
        name, *numbers = line.split()
        if name == f"rpc-{service}":
            return dict(zip(("ready", "unacked", "consumers"), map(int, numbers)))
    raise AssertionError(f"no queue rpc-{service} in {out}")


def stop_with_sigterm(stack, service: str) -> subprocess.Popen:
    """SIGTERM the service and wait until it stopped taking messages."""
    process = stack.processes.pop(service)
    os.killpg(process.pid, signal.SIGTERM)
    eventually(lambda: rpc_queue(stack, service)["consumers"] == 0, timeout=30,
               message=f"{service} cancelled its consumer on SIGTERM")
    return process


def redelivered(stack, service: str, method: str, args: list, correlation_id: str, reply_to: str) -> None:
    """Put a request in the (stopped) service's queue as the broker redelivers one:
    published, taken, and given back unacked (``redelivered`` set)."""
    with Connection(stack.direct_amqp_uri) as connection:
        connection.default_channel.basic_publish(connection.default_channel.prepare_message(
            json.dumps({"args": args, "kwargs": {}}), content_type="application/json",
            content_encoding="utf-8", properties={"correlation_id": correlation_id, "reply_to": reply_to,
                                                  "delivery_mode": 2}),
            exchange="nameko-rpc", routing_key=f"{service}.{method}")
        channel = connection.channel()
        taken = eventually(lambda: Queue(f"rpc-{service}").bind(channel).get(no_ack=False))
        assert not taken.delivery_info["redelivered"]
        channel.close()  # unacked: back in the queue, marked redelivered


@pytest.fixture
def patient_stack(tmp_path, backend):
    """A stack whose services wait up to 60 s for a SQLite lock (a test holds it)."""
    stack = Stack(tmp_path, backend, extra_env={"DEALERFLOW_SQLITE_LOCK_WAIT": "60"})
    stack.setup()
    try:
        yield stack.start()
    finally:
        stack.stop()


# on PostgreSQL only, as in production: the drain and the mark are the broker's and the
# inbox's, which every other test exercises on both databases
@pytest.mark.parametrize("backend", ["postgresql"])
def test_a_writing_rpc_in_flight_at_sigterm_is_done_once_and_a_redelivered_request_is_answered_again(
        patient_stack):
    """The comment is held (its table locked) when the deploy's SIGTERM comes: the
    service finishes it, acks it and exits 0, and nothing is left to run again.
    The same request redelivered gets the kept reply, not a second comment.
    A call still held when the grace period ends is left, unacked, to the next
    instance, which does it once."""
    stack = patient_stack
    lead_id = stack.post_lead(make_lead()).json()["id"]
    eventually(lambda: stack.get_lead(lead_id).json()["status"] == "assigned")
    admin = Actor(kind="user", user_id="admin-of-the-test", role="group_admin",
                  stores=("SH-PUDONG", "BJ-CHAOYANG")).dump()
    comments = lambda: stack.scalar("leads", "SELECT count(*) FROM lead_comments WHERE lead_id = :id",  # noqa: E731
                                    id=lead_id)

    def comment(body):
        with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=60) as services:
            return services.leads.comment_lead(admin, lead_id, {"body": body, "mentions": []})

    with ThreadPoolExecutor(max_workers=2) as pool:
        # 1. SIGTERM mid-call: the call ends, is answered and acked, the process exits 0
        with stack.locked("leads", "lead_comments"):
            call = pool.submit(comment, "first")
            eventually(lambda: rpc_queue(stack, "leads")["unacked"] == 1, message="the call is in flight")
            draining = stop_with_sigterm(stack, "leads")
            assert draining.poll() is None, "leads drains its call in flight (held by the lock)"
        assert [c["body"] for c in call.result(timeout=60)["discussion"]] == ["first"]
        assert draining.wait(timeout=30) == 0
        assert rpc_queue(stack, "leads") == {"ready": 0, "unacked": 0, "consumers": 0}, \
            "the call was acked before the connection closed: nothing for the next instance to run again"
        assert comments() == 1

        # 2. the same request (its correlation id) redelivered: answered from the kept reply
        request_id = stack.scalar("leads", "SELECT message_id FROM processed_messages "
                                           "WHERE handler = 'rpc:comment_lead'")
        with Connection(stack.direct_amqp_uri) as connection:
            replies = Queue(f"test-replies-{request_id}", exchange=Exchange("nameko-rpc", type="topic", durable=True),
                            routing_key=f"test-replies-{request_id}", auto_delete=True).bind(connection.default_channel)
            replies.declare()
            redelivered(stack, "leads", "comment_lead", [admin, lead_id, {"body": "first", "mentions": []}],
                        request_id, replies.name)
            stack.env["STOP_GRACE_SECONDS"] = "1"  # for step 3
            stack.start_process("leads")
            reply = eventually(lambda: replies.get(no_ack=True), timeout=60, message="a reply to the redelivery")
        assert reply.properties["correlation_id"] == request_id
        assert reply.payload["error"] is None
        assert [c["body"] for c in reply.payload["result"]["discussion"]] == ["first"]
        assert "answered again, not run" in stack.log("leads")
        assert comments() == 1

        # 3. the grace period ends first: the call is left to the next instance, done once
        with stack.locked("leads", "lead_comments"):
            call = pool.submit(comment, "second")
            eventually(lambda: rpc_queue(stack, "leads")["unacked"] == 1, message="the call is in flight")
            assert stop_with_sigterm(stack, "leads").wait(timeout=30) == 1
        assert "still running after 1 s" in stack.log("leads") and "comment_lead" in stack.log("leads")
        stack.start_process("leads")
        assert [c["body"] for c in call.result(timeout=60)["discussion"]] == ["first", "second"]
    assert comments() == 2
