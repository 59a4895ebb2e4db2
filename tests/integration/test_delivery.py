"""Delivery that can be trusted, on the real broker: a message delivered
twice changes nothing, and a message no handler can take is retried with
back-off and then parked where an admin sees it."""
import json
import signal
import uuid

import pytest
import requests
from kombu import Connection, Exchange

from dealerflow.contracts import INTAKE_QUEUE
from tests.conftest import make_lead
from tests.support.stack import LEAD_NOTICES, Stack
from tests.support.waiting import eventually

pytestmark = pytest.mark.integration


def publish(stack, body: dict, exchange: str = "", routing_key: str = INTAKE_QUEUE):
    with Connection(stack.direct_amqp_uri) as connection:
        producer = connection.Producer()
        producer.publish(json.dumps(body), content_type="application/json", content_encoding="utf-8",
                         exchange=Exchange(exchange, type="topic", durable=True) if exchange else "",
                         routing_key=routing_key, delivery_mode=2, declare=[])


def submitted(stack, **lead_overrides) -> dict:
    lead_id = str(uuid.uuid4())
    return {"id": lead_id, "platform": "autohome", "api_key_id": "test", "store_code": "SH-PUDONG",
            "submitted_at": "2026-11-26T01:30:00+00:00", "format": "json", "raw": None,
            "lead": {k: v for k, v in make_lead(**lead_overrides).items() if k != "store_code"}}


def inbox_count(stack, lead_id):
    return stack.scalar("notifications", "SELECT count(*) FROM inbox_messages WHERE lead_id = :id", id=lead_id)


def test_an_intake_message_delivered_twice_is_one_lead(stack):
    message = submitted(stack)
    publish(stack, message)
    publish(stack, message)
    eventually(lambda: inbox_count(stack, message["id"]) == 1)
    marker = make_lead()  # a later lead that has gone all the way: the twin was handled by then
    publish(stack, submitted(stack, external_id=marker["external_id"]))
    eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads WHERE external_id = :e",
                                    e=marker["external_id"]) == 1)
    assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE id = :id", id=message["id"]) == 1
    assert stack.scalar("leads", "SELECT count(*) FROM assignments WHERE lead_id = :id", id=message["id"]) == 1
    assert inbox_count(stack, message["id"]) == 1


def lead_received(stack, lead_id: str) -> dict:
    """The lead's ``lead_received`` event, once published: the lead and its
    first owner, for every service that consumes it (customers, followups,
    notifications)."""
    received_event = eventually(lambda: stack.scalar(
        "leads", "SELECT payload FROM outbox WHERE event_type = 'lead_received' AND sent_at IS NOT NULL "
                 "AND CAST(payload AS TEXT) LIKE :id", id=f'%{lead_id}%'))
    return received_event if isinstance(received_event, dict) else json.loads(received_event)


def linked(stack, lead_id: str) -> tuple[int, int]:
    """The customers service's links to the lead, and its timeline entries of the lead's assignment."""
    return (stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE lead_id = :id", id=lead_id),
            stack.scalar("customers", "SELECT count(*) FROM timeline_entries WHERE lead_id = :id "
                                      "AND kind = 'assigned'", id=lead_id))


def test_an_event_delivered_twice_changes_nothing(stack):
    message = submitted(stack)
    publish(stack, message)
    eventually(lambda: inbox_count(stack, message["id"]) == 1)
    payload = lead_received(stack, message["id"])
    assert payload["consultant_id"]
    publish(stack, payload, exchange="leads.events", routing_key="lead_received")
    publish(stack, payload, exchange="leads.events", routing_key="lead_received")
    follow = submitted(stack)
    publish(stack, follow)
    eventually(lambda: inbox_count(stack, follow["id"]) == 1)
    eventually(lambda: stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE lead_id = :id",
                                    id=follow["id"]) == 1)
    assert inbox_count(stack, message["id"]) == 1
    assert stack.scalar("followups", "SELECT count(*) FROM tasks WHERE lead_id = :id", id=message["id"]) == 1
    assert linked(stack, message["id"]) == (1, 1)


def handled_once(stack, lead_id: str) -> bool:
    """Each consumer of the lead's ``lead_received`` did its work once."""
    return (linked(stack, lead_id) == (1, 1) and inbox_count(stack, lead_id) == 1
            and stack.scalar("followups", "SELECT count(*) FROM tasks WHERE lead_id = :id", id=lead_id) == 1)


def test_redeliveries_in_a_batch_with_other_events_are_told_and_the_others_handled_once(stack):
    """A batch of several deliveries claims their marks as it commits
    (``db.claim_with_batch``): a redelivered event in it, whether its first
    delivery was handled long ago or waits in the same batch, fails the
    batch, and each delivery is handled again alone, where the twin is told
    before it does anything."""
    consumers = ("customers", "followups", "notifications")
    handled = submitted(stack)
    publish(stack, handled)
    eventually(lambda: handled_once(stack, handled["id"]))
    for name in consumers:
        stack.kill(name, signal.SIGTERM)
    waiting = [submitted(stack) for _ in range(6)]
    for message in waiting:
        publish(stack, message)
    for message in (handled, waiting[2]):
        payload = lead_received(stack, message["id"])
        publish(stack, payload, exchange="leads.events", routing_key="lead_received")
    # each consumer finds 8 deliveries waiting: 6 first ones, one of them again, and one it handled
    for name in consumers:
        stack.start_process(name)
    for message in (handled, *waiting):
        eventually(lambda: handled_once(stack, message["id"]), message=f"lead {message['id']} handled")
    after = submitted(stack)  # a later lead that has gone all the way: the twins were handled by then
    publish(stack, after)
    eventually(lambda: handled_once(stack, after["id"]))
    for message in (handled, *waiting):
        assert handled_once(stack, message["id"])
    # the twin's work failed the batch (its claim, or a row written already); notifications has no
    # claim for lead_received: its inbox messages and deliveries are keyed by the event
    for name in ("customers", "followups"):
        assert "each is handled again alone" in stack.log(name), name


def test_a_poison_event_is_retried_then_parked_and_others_still_flow(stack):
    poison = {"event_id": str(uuid.uuid4()), "occurred_at": "2026-11-26T01:30:00+00:00",
              "lead_id": "not-a-real-lead"}  # lacks what customers needs
    publish(stack, poison, exchange="leads.events", routing_key="lead_received")

    answer = stack.post_lead(make_lead())
    lead_id = answer.json()["id"]
    eventually(lambda: stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE lead_id = :id",
                                    id=lead_id) == 1)

    def parked():  # by each of its consumers
        listing = stack.cli("parked")
        return listing if "3 parked message(s)" in listing else None
    listing = eventually(parked, timeout=30, message="the poison event is parked")
    for consumer in ("customers", "followups", "notifications"):
        assert f"evt-leads-lead_received--{consumer}.handle_lead_received" in listing
    assert "after 4 attempts" in listing and "ValidationError" in listing
    assert "3 parked message(s)" in stack.cli("parked")  # listing leaves it parked

    assert "sent back" in stack.cli("parked", "--replay")
    eventually(parked, timeout=30, message="the replayed poison event is parked again")


def test_events_wait_for_services_that_have_never_run(tmp_path, backend):
    """``dealerflow migrate`` declared every queue, so what leads announces
    before customers, followups and notifications first start is kept for them."""
    stack = Stack(tmp_path, backend)
    stack.setup()
    try:
        for name in ("leads", "gateway"):
            stack.start_process(name)
        def answers():
            try:
                return stack.get_lead("00000000-0000-0000-0000-000000000000").status_code == 404
            except requests.RequestException:
                return False
        eventually(answers, message="the gateway and the leads service answer")
        ids = [stack.post_lead(make_lead()).json()["id"] for _ in range(10)]
        eventually(lambda: stack.scalar("leads", "SELECT count(*) FROM leads WHERE status = 'assigned'") == 10)
        for name in ("customers", "followups", "notifications"):
            stack.start_process(name)
        eventually(lambda: stack.scalar("notifications",
                                        f"SELECT count(*) FROM inbox_messages WHERE {LEAD_NOTICES}") == 10)
        eventually(lambda: stack.scalar("followups", "SELECT count(*) FROM tasks") == 10)
        eventually(lambda: stack.scalar("customers", "SELECT count(*) FROM customer_leads") == 10)
        assert {stack.get_lead(i).json()["status"] for i in ids} == {"assigned"}
    finally:
        stack.stop()
