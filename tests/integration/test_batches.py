"""A lead's hot path takes deliveries in batches (``messaging.Batching``),
on the real broker and databases: a backlog is handled many deliveries to
a worker and a transaction, every delivery once, and a poison message in
a batch is retried and parked alone while the rest of its batch is stored."""
import signal

import pytest

from tests.integration.test_delivery import publish, submitted
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def stored(stack, ids) -> int:
    return stack.scalar("leads", f"SELECT count(*) FROM leads WHERE id IN ({', '.join(map(repr, ids))})")


def test_a_backlog_is_handled_in_batches_and_a_poison_message_parks_alone(stack):
    stack.kill("leads", signal.SIGTERM)  # a backlog waits for it, which it takes in batches
    good = [submitted(stack) for _ in range(30)]
    poison = dict(submitted(stack), lead={"channel": "web"})  # no customer, no source: refused on load
    for message in [*good[:15], poison, *good[15:]]:
        publish(stack, message)
    stack.start_process("leads")
    ids = [message["id"] for message in good]
    eventually(lambda: stored(stack, ids) == 30, timeout=60, message="every good lead is stored")

    def parked():
        listing = stack.cli("parked")
        return listing if "leads.intake" in listing else None
    listing = eventually(parked, timeout=30, message="the poison message is parked")
    assert "1 parked message(s)" in listing and "ValidationError" in listing and poison["id"] in listing
    log = stack.log("leads")
    assert "failed on a batch of" in log, "the poison message was handled in a batch with others"
    in_list = ", ".join(map(repr, ids))
    assert stack.scalar("leads", f"SELECT count(*) FROM assignments WHERE lead_id IN ({in_list})") == 30
    assert stack.scalar("leads", f"SELECT count(*) FROM lead_events WHERE change = 'graded' "
                                 f"AND lead_id IN ({in_list})") == 30
    eventually(lambda: stack.scalar(
        "customers", f"SELECT count(*) FROM customer_leads WHERE lead_id IN ({in_list})") == 30,
        message="each lead reached the customers service once")
