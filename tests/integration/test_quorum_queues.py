"""QUEUE_TYPE=quorum: every durable queue Dealerflow declares is a quorum
queue (replicated in a RabbitMQ cluster), and a lead still goes all the way."""
import subprocess

import pytest

from dealerflow.contracts import INTAKE_QUEUE
from tests.conftest import make_lead
from tests.support.stack import Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def queue_types(stack) -> dict[str, str]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "--no-table-headers", "-p", stack.vhost,
                          "name", "type"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    return dict(line.split() for line in out.splitlines() if line.strip())


def test_with_quorum_queues_a_lead_reaches_the_inbox(tmp_path, monkeypatch):
    monkeypatch.setenv("QUEUE_TYPE", "quorum")  # the stack's setup declares the queues from this process
    stack = Stack(tmp_path, extra_env={"QUEUE_TYPE": "quorum"})
    stack.setup()
    try:
        stack.start()
        answer = stack.post_lead(make_lead())  # the gateway publishes into the quorum intake queue
        assert answer.status_code == 202, answer.text
        lead_id = answer.json()["id"]
        eventually(lambda: stack.scalar("notifications", "SELECT count(*) FROM inbox_messages "
                                                         "WHERE lead_id = :id", id=lead_id) == 1,
                   timeout=60, message="the lead reached the consultant's inbox")
        types = queue_types(stack)
        durable = {name: kind for name, kind in types.items() if not name.startswith("rpc.reply-")}
        assert {INTAKE_QUEUE, "rpc-leads", "rpc-customers", "rpc-followups", "rpc-notifications",
                "evt-leads-lead_received--customers.handle_lead_received"} <= set(durable)
        assert set(durable.values()) == {"quorum"}, f"classic queues: {durable}"
    finally:
        stack.stop()
