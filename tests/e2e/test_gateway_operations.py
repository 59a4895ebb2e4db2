"""The gateway as ops run it, against the running system (SQLite: none of
this depends on the backend): its Prometheus metrics summed over both
gunicorn workers by the master, every process's log free of customers'
phones, emails and names, the processes' CPU priorities, and a quiet stop
(SIGTERM) that ends the live streams with a reconnect event while a
request in flight still completes.
The stop is the module's last test: it stops the stack's gateway."""
import http.client
import json
import os
import re
import shutil
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from prometheus_client import CollectorRegistry
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from dealerflow.phones import read_phone
from tests.conftest import make_lead
from tests.e2e.test_staff_api import sign_in
from tests.support.people import unique_mobile
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

WORKERS = 2


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("stack-operations")
    running = Stack(workdir, "sqlite", extra_env={
        "WEB_CONCURRENCY": str(WORKERS),
        "GRACEFUL_TIMEOUT": "20"})  # the stop test's request waits; its streams must not
    running.setup()
    try:
        yield running.start()
    finally:
        running.stop()


def scrape(stack) -> dict[tuple, float]:
    """The master's /metrics, parsed: ``{(sample name, sorted labels): value}``."""
    answer = requests.get(f"{stack.ops_url('gateway')}/metrics", timeout=10)
    assert answer.status_code == 200
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(answer.text) for sample in family.samples}


def total(samples: dict, name: str, **labels) -> float:
    return sum(value for (sample, sample_labels), value in samples.items()
               if sample == name and labels.items() <= dict(sample_labels).items())


def per_worker(stack, tmp_path, name: str, **labels) -> dict[str, float]:
    """``name``'s total in each worker's own counter file (read by the same
    collector as the master's, one file at a time)."""
    counts = {}
    for path in (stack.workdir / "gateway-prometheus").glob("counter_*.db"):  # the stack's PROMETHEUS_MULTIPROC_DIR
        alone = tmp_path / path.stem
        alone.mkdir(parents=True)
        shutil.copy(path, alone / path.name)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[path.stem] = sum(sample.value for metric in registry.collect() for sample in metric.samples
                                if sample.name == name and labels.items() <= sample.labels.items())
    return counts


def test_the_masters_metrics_count_both_workers_by_route_template(stack, tmp_path):
    lead_id = stack.post_lead(make_lead()).json()["id"]
    route = {"route": "/v1/leads/{lead_id}", "method": "GET"}
    before = scrape(stack)

    def get(_):
        # a connection each: the workers take turns at accepting them
        return requests.get(f"{stack.url}/v1/leads/{lead_id}", headers={"X-Api-Key": stack.sh_key,
                                                                        "Connection": "close"}, timeout=10)

    sent = 0
    with ThreadPoolExecutor(8) as pool:
        for _ in range(20):
            assert all(answer.status_code == 200 for answer in pool.map(get, range(40)))
            sent += 40
            served = per_worker(stack, tmp_path / str(sent), "dealerflow_http_requests_total",
                                **route, status="200")
            if len(served) == WORKERS and all(served.values()):
                break
    assert len(served) == WORKERS and all(served.values()), f"one worker served all: {served}"
    after = scrape(stack)
    name = "dealerflow_http_requests_total"
    assert total(after, name, **route, status="200") - total(before, name, **route, status="200") == sent
    assert total(after, "dealerflow_http_request_duration_seconds_count", **route) - total(
        before, "dealerflow_http_request_duration_seconds_count", **route) == sent

    # routes are templates, never paths: no id in a label; refusals by a middleware too
    assert requests.get(f"{stack.url}/v1/no-such/{lead_id}", timeout=10).status_code == 404
    assert stack.post_lead(make_lead(), key="wrong").status_code == 401
    samples = scrape(stack)
    assert total(samples, name, route="unmatched", status="404") >= 1
    assert total(samples, name, route="/v1/leads", method="POST", status="401") >= 1
    assert not [labels for (_, labels) in samples if lead_id in repr(labels)]
    assert total(samples, "dealerflow_stream_connections") == 0


def test_intake_counts_each_submission_accepted_or_refused_by_reason(stack):
    before = scrape(stack)
    lead, keyed = make_lead(), make_lead()
    answers = [stack.post_lead(lead), stack.post_lead(lead),  # new, then duplicate
               stack.post_lead(keyed, headers={"Idempotency-Key": "ops-1"}),  # new, then replay
               stack.post_lead(keyed, headers={"Idempotency-Key": "ops-1"}),
               stack.post_lead(data=b"{not json", headers={"Content-Type": "application/json"}),
               stack.post_lead({"source": "autohome"}),  # neither phone nor email
               stack.post_lead(data=b"x", headers={"Content-Type": "text/plain"}),
               stack.post_lead(make_lead(), key="wrong")]
    limited = stack.cli("create-api-key", "--store", "SH-PUDONG", "--platform", "ops",
                        "--rate-limit", "1").strip().splitlines()[-1]
    answers += [stack.post_lead(make_lead(), key=limited) for _ in range(2 * WORKERS + 1)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:8] == [202, 200, 202, 200, 400, 422, 415, 401] and 429 in statuses[8:], statuses

    after = scrape(stack)
    name = "dealerflow_intake_total"

    def moved(outcome, reason):
        return total(after, name, outcome=outcome, reason=reason) - total(before, name, outcome=outcome,
                                                                          reason=reason)
    assert moved("accepted", "new") == statuses.count(202)
    assert moved("accepted", "duplicate") == 1 and moved("accepted", "replay") == 1
    assert [moved("refused", reason) for reason in ("bad_request", "invalid", "unsupported_type", "unauthorized")] \
        == [1, 1, 1, 1]
    assert moved("refused", "rate_limited") == statuses.count(429)
    assert total(after, name) - total(before, name) == len(answers)
    # each new lead, and only those, waited for the broker's confirm
    publishes = "dealerflow_intake_publish_seconds_count"
    assert total(after, publishes) - total(before, publishes) == statuses.count(202)


CUSTOMERS = ("王磊", "欧阳娜娜", "Zhang Xiaoming", "Olivia Bennett")


def test_no_log_line_of_any_process_holds_a_customers_phone_email_or_name(stack):
    sent = []
    for number, name in enumerate(CUSTOMERS):
        mobile = unique_mobile()
        phone = (mobile, f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}",
                 f"{mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", f"+86{mobile}")[number]
        email = f"{name.split()[0].lower()}.{mobile}@example.com"
        lead = make_lead(customer={"name": name, "phone": phone, "email": email, "city": "上海"},
                         comments=f"请致电 {phone} 或发邮件到 {email}，我是{name}")
        answer = stack.post_lead(lead)
        assert answer.status_code == 202, answer.text
        sent.append((answer.json()["id"], name, phone, read_phone(phone, "CN")["e164"], email))
    for lead_id, *_ in sent:
        eventually(lambda: stack.scalar("notifications", "SELECT count(*) FROM inbox_messages "
                                                         "WHERE lead_id = :id", id=lead_id),
                   timeout=30, message="the lead's message in its consultant's inbox")

    logs = {path.name: path.read_text(errors="replace") for path in stack.workdir.glob("*.log")}
    assert {"gateway.log", "leads.log", "customers.log", "followups.log", "notifications.log"} <= set(logs)
    assert all(logs.values())
    for lead_id, name, phone, e164, email in sent:
        assert any(lead_id in text for text in logs.values())  # the lead was logged, by its id
        digits = re.sub(r"\D", "", phone)
        for secret in (name, json.dumps(name)[1:-1], phone, e164, digits[-11:], email, email.upper()):
            for process, text in logs.items():
                assert secret.lower() not in text.lower(), f"{secret!r} in {process}"


class Stream:
    """A signed-in user's live stream, its events read in a thread."""

    def __init__(self, stack, headers):
        ticket = requests.post(f"{stack.url}/v1/stream/tickets", headers=headers, timeout=10).json()["ticket"]
        address = urlsplit(stack.url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        self.connection.request("GET", f"/v1/stream?ticket={ticket}")
        self.answer = self.connection.getresponse()
        assert self.answer.status == 200
        self.lines, self.ended = [], threading.Event()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self) -> None:
        try:
            for raw in iter(self.answer.readline, b""):
                self.lines.append(raw.decode().rstrip("\r\n"))
        finally:
            self.ended.set()


def test_on_shared_cores_intake_comes_first_then_assignment_then_the_rest(stack):
    """The gateway runs at the default priority, the leads service (whose
    assignment the consultant waits for) at half of ``SERVICE_NICE``, the
    services that enrich a lead after it at the whole of it."""
    ours = os.getpriority(os.PRIO_PROCESS, 0)  # every process of the stack starts at the tests' own
    niceness = {name: os.getpriority(os.PRIO_PROCESS, process.pid) - ours
                for name, process in stack.processes.items()}
    assert niceness == {"gateway": 0, "leads": 5, "customers": 10, "followups": 10, "notifications": 10}


def test_sigterm_ends_the_streams_with_a_reconnect_event_and_finishes_requests_in_flight(stack):
    streams = [Stream(stack, sign_in(stack, name)) for name in ("manager.sh", "consultant.sh1", "admin")]
    eventually(lambda: all(stream.lines for stream in streams), timeout=10, message="the streams opened")
    in_flight = {}
    with stack.locked("gateway"):  # the gateway's database: a lead waits for it
        request = threading.Thread(target=lambda: in_flight.update(answer=stack.post_lead(make_lead())))
        request.start()
        eventually(lambda: total(scrape(stack), "dealerflow_stream_connections") == len(streams), timeout=10,
                   message="every stream counted")
        eventually(lambda: total(scrape(stack), "dealerflow_http_requests_in_flight") == 1, timeout=30,
                   message="a worker took the lead and waits for the lock")
        gateway = stack.processes.pop("gateway")
        os.kill(gateway.pid, signal.SIGTERM)  # the master, as Kubernetes stops a pod
        for stream in streams:
            assert stream.ended.wait(timeout=15), "the stream was not ended"
    request.join(timeout=30)
    assert in_flight["answer"].status_code == 202
    assert gateway.wait(timeout=30) == 0
    for stream in streams:
        assert "event: reconnect" in stream.lines and "retry: 1000" in stream.lines
        stream.connection.close()
