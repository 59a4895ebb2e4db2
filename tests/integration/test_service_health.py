"""Every service's ops server on the running system (``dealerflow.ops``):
live, ready, its metrics in Prometheus' text format and moving with the
leads that flow, and a worker stuck on a lock seen as a stuck process."""
import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from dealerflow.config import WORKERS
from dealerflow.contracts import INTAKE_QUEUE
from tests.support.stack import Stack
from tests.support.waiting import eventually

HUNG_AFTER_S = 5  # below the 10 s a SQLite writer waits for a lock before it gives up


@pytest.fixture(scope="module")
def stack(tmp_path_factory, backend):
    running = Stack(tmp_path_factory.mktemp(f"health-{backend}"), backend,
                    extra_env={"HUNG_WORKER_SECONDS": str(HUNG_AFTER_S)})
    running.setup()
    try:
        yield running.start()
    finally:
        running.stop()


def scrape(stack, service: str) -> list:
    """Every sample of the service's /metrics, parsed as Prometheus parses it."""
    answer = requests.get(f"{stack.ops_url(service)}/metrics", timeout=10)
    assert answer.status_code == 200
    return [sample for family in text_string_to_metric_families(answer.text) for sample in family.samples]


def value(samples: list, name: str, **labels) -> float:
    """The sum of the samples of ``name`` that carry ``labels``."""
    return sum(sample.value for sample in samples
               if sample.name == name and labels.items() <= sample.labels.items())


def test_every_service_is_live_ready_and_counts_the_leads_that_flow(stack, lead_factory):
    for service in WORKERS:
        assert requests.get(f"{stack.ops_url(service)}/healthz", timeout=10).json() == {"status": "ok"}
        eventually(lambda: requests.get(f"{stack.ops_url(service)}/readyz", timeout=10).status_code == 200,
                   timeout=20, message=f"{service} is ready")
        assert requests.get(f"{stack.ops_url(service)}/readyz", timeout=10).json() == {
            "status": "ok", "checks": {"broker": "ok", "database": "ok"}}

    def counts():
        leads, notifications = scrape(stack, "leads"), scrape(stack, "notifications")
        return (value(leads, "dealerflow_deliveries_total", queue=INTAKE_QUEUE, outcome="ok"),
                value(leads, "dealerflow_delivery_age_seconds_count", queue=INTAKE_QUEUE),
                value(leads, "dealerflow_assignment_latency_seconds_count"),
                value(notifications, "dealerflow_notifications_total", channel="inapp", outcome="created"))

    before = counts()
    sent = 3
    ids = [stack.post_lead(lead_factory()).json()["id"] for _ in range(sent)]
    eventually(lambda: all(stack.get_lead(lead_id).json()["status"] == "assigned" for lead_id in ids),
               message="the leads are assigned")
    moved = eventually(lambda: (moved := [after - was for after, was in zip(counts(), before)])[-1] >= sent
                       and moved, message="the consultants' inbox messages are counted")
    assert moved == [sent] * 4, "intake deliveries, their ages, first owners, inbox messages"

    leads = scrape(stack, "leads")
    assert value(leads, "dealerflow_rpc_requests_total", method="get_lead", outcome="ok") >= sent
    assert value(leads, "dealerflow_rpc_duration_seconds_count", method="get_lead") >= sent
    assert {"leads.intake", "rpc-leads"} <= {sample.labels["queue"] for sample in leads
                                             if sample.name == "dealerflow_queue_depth"}
    assert value(leads, "dealerflow_parked_messages", queue=INTAKE_QUEUE) == 0
    assert any(sample.name == "dealerflow_outbox_backlog" for sample in leads)
    assert value(leads, "dealerflow_workers_in_flight") >= 0


def test_a_worker_stuck_on_a_lock_makes_its_service_not_live_until_the_lock_goes(stack):
    healthz = f"{stack.ops_url('leads')}/healthz"

    def stuck():
        answer = requests.get(healthz, timeout=10)
        return answer.status_code == 503 and answer.json()

    with stack.locked("leads", "outbox"):  # the relay timer reads the outbox every second
        problems = eventually(stuck, timeout=30, message="the leads service is stuck")["problems"]
        assert f"(HUNG_WORKER_SECONDS={HUNG_AFTER_S})" in problems[0], problems
    eventually(lambda: requests.get(healthz, timeout=10).status_code == 200, timeout=30,
               message="the leads service is live again")
