"""dealerflow.ops and dealerflow.metrics: what /healthz, /readyz and /metrics
answer, through the ops server's real WSGI application, on real databases."""
import socket
import time
from types import SimpleNamespace

import eventlet
import pytest
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from werkzeug.test import Client

from dealerflow import ops
from dealerflow.metrics import count_on_commit
from tests.support.stack import POSTGRES_ADMIN_URL


def client(workers=None, hung_after=300.0, checks=None, registry=None):
    health = ops.Health(workers or ops.Workers(), hung_after, lambda: True, checks or {})
    return Client(ops.wsgi_app(health, registry or CollectorRegistry()))


def test_a_worker_running_longer_than_allowed_makes_the_process_stuck_until_it_ends():
    workers = ops.Workers()
    probe = client(workers, hung_after=0.05)
    workers.begin("worker-1", "leads.handle_lead_submitted")
    assert probe.get("/healthz").status_code == 200, "a young worker is fine"
    time.sleep(0.1)
    stuck = probe.get("/healthz")
    assert stuck.status_code == 503
    assert "leads.handle_lead_submitted" in stuck.json["problems"][0]
    workers.end("worker-1")
    assert probe.get("/healthz").json == {"status": "ok"}


def test_a_long_worker_that_makes_progress_is_not_stuck():
    workers = ops.Workers()
    probe = client(workers, hung_after=0.2)

    def long_work():  # its own green thread, as a nameko worker has
        workers.begin("import", "customers.advance_imports")
        for _ in range(4):
            time.sleep(0.1)
            ops.progress()
            assert probe.get("/healthz").status_code == 200, "it advanced 0.1 s ago"
        time.sleep(0.3)
        assert probe.get("/healthz").status_code == 503, "no progress for longer than allowed"
        workers.end("import")

    eventlet.spawn(long_work).wait()
    ops.progress()  # outside any worker: nothing to note


def test_a_dead_queue_consumer_makes_the_process_stuck():
    health = ops.Health(ops.Workers(), 300.0, lambda: False, {})
    answer = Client(ops.wsgi_app(health, CollectorRegistry())).get("/healthz")
    assert answer.status_code == 503
    assert answer.json["problems"] == ["the queue consumer's thread is dead"]


@pytest.fixture
def silent_server():
    """A TCP port that takes connections and never says a word, as a database
    host that hangs does."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=16)
    yield listener.getsockname()[1]
    listener.close()


def test_a_database_that_does_not_answer_makes_the_service_unready(silent_server):
    engine = ops.check_engine(f"postgresql+psycopg2://postgres@127.0.0.1:{silent_server}/test")
    answer = client(checks={"database": ops.database_check(engine)}).get("/readyz")
    assert answer.status_code == 503
    assert answer.json == {"status": "unavailable", "checks": {"database": "unreachable: OperationalError"}}


@pytest.mark.parametrize("url", [POSTGRES_ADMIN_URL.replace("postgresql:", "postgresql+psycopg2:"), "sqlite"])
def test_a_database_that_answers_makes_the_service_ready(url, tmp_path):
    engine = ops.check_engine(url if url != "sqlite" else f"sqlite:///{tmp_path}/leads.db")
    answer = client(checks={"database": ops.database_check(engine)}).get("/readyz")
    assert (answer.status_code, answer.json) == (200, {"status": "ok", "checks": {"database": "ok"}})


def test_a_check_s_own_verdict_is_the_answer():
    def broker():
        raise ops.NotReady("disconnected")
    answer = client(checks={"broker": broker}).get("/readyz")
    assert (answer.status_code, answer.json["checks"]) == (503, {"broker": "disconnected"})


def test_metrics_are_prometheus_text():
    registry = CollectorRegistry()
    Counter("dealerflow_test_things", "things", ["kind"], registry=registry).labels("a").inc(3)
    answer = client(registry=registry).get("/metrics")
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    samples = {sample.name: sample.value for family in text_string_to_metric_families(answer.text)
               for sample in family.samples}
    assert samples["dealerflow_test_things_total"] == 3


def test_an_ops_port_in_use_stops_the_service_naming_the_port(monkeypatch):
    taken = socket.create_server(("127.0.0.1", 0))
    port = taken.getsockname()[1]
    monkeypatch.setenv("OPS_HOST", "127.0.0.1")
    monkeypatch.setenv("OPS_PORT", str(port))
    server = ops.OpsServer()
    server.container = SimpleNamespace(service_cls=SimpleNamespace(name="leads"), config={})
    try:
        with pytest.raises(ops.OpsPortUnavailable, match=f"127.0.0.1:{port} \\(OPS_PORT\\)"):
            server.setup()
    finally:
        server.stop()
        taken.close()


def test_a_metric_counted_on_commit_counts_only_what_commits():
    counted = []
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        session.execute(text("SELECT 1"))
        count_on_commit(session, lambda: counted.append("rolled back"))
        session.rollback()
        session.execute(text("SELECT 1"))
        count_on_commit(session, lambda: counted.append("committed"))
        session.commit()
        session.commit()
    assert counted == ["committed"]
