"""Nothing blocks an event loop. While a request or a handler waits on the
database (a table locked on PostgreSQL, the write lock held on SQLite), the
rest of its process goes on: the gateway answers other requests, the
service answers RPCs and keeps its broker connection; and once the lock is
gone, what waited completes."""
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from nameko.exceptions import RpcTimeout
from nameko.standalone.rpc import ClusterRpcProxy

from services.gateway.models import IntakeRecord
from tests.conftest import make_lead
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration

HEARTBEAT_S = 2
HOLD_S = 4 * HEARTBEAT_S  # the broker drops a connection that missed two heartbeats
LEADS = 5  # under MAX_WORKERS (10): a worker waiting on the database holds its slot, ping needs one


@pytest.fixture(scope="module")
def stack(tmp_path_factory, backend):
    """One gateway worker, so that a stalled one cannot hide behind another,
    and a short broker heartbeat, so that a stalled service loses its
    connection within the hold."""
    running = Stack(tmp_path_factory.mktemp(f"cooperative-{backend}"), backend,
                    extra_env={"WEB_CONCURRENCY": "1", "AMQP_HEARTBEAT": str(HEARTBEAT_S)})
    running.setup()
    try:
        yield running.start()
    finally:
        running.stop()


def waits_on_a_lock(stack, service: str) -> bool:
    """A connection of the service's PostgreSQL database waits for a lock."""
    return stack.scalar(service, "SELECT count(*) FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0


def timed(call, what: str):
    """``call()`` and the seconds it took; a clear failure if it raised."""
    started = time.monotonic()
    try:
        return call(), time.monotonic() - started
    except (requests.RequestException, RpcTimeout) as exc:
        pytest.fail(f"{what} got no answer after {time.monotonic() - started:.1f} s "
                    f"while work of the same process waited on the database: {exc!r}")


def test_the_gateway_answers_while_a_request_waits_on_a_locked_table(stack, backend):
    """On SQLite the gateway's transactions wait for the write lock at BEGIN,
    with a green back-off; on PostgreSQL psycopg2 waits through psycogreen."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        with stack.locked("gateway", IntakeRecord.__tablename__):  # the intake ledger
            waiting = pool.submit(stack.post_lead, make_lead())
            if backend == "postgresql":
                eventually(lambda: waits_on_a_lock(stack, "gateway"), timeout=10,
                           message="the POST waits on the locked intake ledger")
            for _ in range(3):
                answer, _ = timed(lambda: requests.get(f"{stack.url}/healthz", timeout=3), "GET /healthz")
                assert answer.status_code == 200, f"/healthz answered {answer.status_code}"
            assert not waiting.done(), "the POST waited for the lock"
        accepted = waiting.result(timeout=15)
    assert accepted.status_code == 202, f"the POST completed once the lock was gone: {accepted.text}"


def test_a_service_answers_and_keeps_its_broker_while_its_handlers_wait(stack):
    pid = stack.processes["leads"].pid
    latencies = []
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=3) as rpc:
        with stack.locked("leads", "leads"):
            held_until = time.monotonic() + HOLD_S
            for n in range(LEADS):
                answer = stack.post_lead(make_lead(external_id=f"COOP-{n}"))
                assert answer.status_code == 202, answer.text
            if stack.backend == "postgresql":
                eventually(lambda: waits_on_a_lock(stack, "leads"), timeout=10,
                           message="the lead handler waits on the locked leads table")
            while time.monotonic() < held_until:
                name, seconds = timed(rpc.leads.ping, "the leads service's ping")
                assert name == "leads"
                latencies.append(seconds)
                time.sleep(0.5)
            if stack.backend == "sqlite":  # readers go on under WAL: nothing could be written
                assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE external_id LIKE 'COOP-%'") == 0
    print(f"ping while the lock was held {HOLD_S} s: {len(latencies)} answers, "
          f"slowest {max(latencies):.3f} s")

    eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads WHERE external_id LIKE 'COOP-%' "
                                             "AND status = 'assigned'") == LEADS,
               timeout=60, message=f"all {LEADS} waiting leads stored and assigned once the lock was gone")
    assert stack.scalar("leads", "SELECT count(*) FROM assignments JOIN leads ON leads.id = lead_id "
                                 "WHERE external_id LIKE 'COOP-%'") == LEADS, "each lead assigned once"
    assert stack.processes["leads"].poll() is None and stack.processes["leads"].pid == pid, \
        "the leads service ran on, never restarted"
    assert "Connection to broker lost" not in stack.log("leads"), \
        f"the leads service kept its broker connection through {HOLD_S} s (heartbeat {HEARTBEAT_S} s)"
