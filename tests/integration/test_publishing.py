"""Publishing with confirms awaited per batch (``dealerflow.publishing``),
on the real broker: every message confirmed is in its queue once, callers
that overlap share their waits, and a cut connection is replaced."""
import json
import threading
import uuid

import pytest
from kombu import Connection, Queue

from dealerflow.publishing import CONNECTION_ERRORS, ConfirmedPublisher, Refused
from tests.support.stack import BROKER
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.integration

BROKER_URI = f"amqp://guest:guest@127.0.0.1:{BROKER[1]}//"


@pytest.fixture
def queue():
    declared = Queue(f"test-publishing-{uuid.uuid4().hex[:8]}", durable=True)
    with Connection(BROKER_URI) as connection:
        declared(connection.default_channel).declare()
        yield declared
        declared(connection.default_channel).delete()


def drain(queue) -> list:
    with Connection(BROKER_URI) as connection:
        bound, bodies = queue(connection.default_channel), []
        while (message := bound.get(no_ack=True)) is not None:
            bodies.append((json.loads(message.body), message.headers))
        return bodies


def test_overlapping_callers_each_see_their_messages_confirmed_once_and_in_order(queue):
    publisher = ConfirmedPublisher(BROKER_URI, declare=[queue])
    errors = []

    def caller(n):
        for i in range(25):
            try:
                publisher.publish({"caller": n, "i": i}, routing_key=queue.name, headers={"n": n})
            except Exception as exc:  # noqa: BLE001 - the assertion below names it
                errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    publisher.close()
    assert errors == []
    received = drain(queue)
    assert len(received) == 8 * 25
    for n in range(8):
        assert [body["i"] for body, headers in received if body["caller"] == n] == list(range(25))
        assert {headers["n"] for body, headers in received if body["caller"] == n} == {n}


def test_the_messages_of_one_call_wait_for_their_confirms_together(queue):
    publisher = ConfirmedPublisher(BROKER_URI, declare=[queue])
    errors = publisher.publish_many([({"i": i}, "", queue.name, {}) for i in range(100)])
    publisher.close()
    assert errors == [None] * 100
    assert publisher.batches == 1
    assert [body["i"] for body, _ in drain(queue)] == list(range(100))


def test_an_unroutable_mandatory_message_is_refused_and_the_rest_of_its_batch_is_not(queue):
    publisher = ConfirmedPublisher(BROKER_URI, declare=[queue])
    errors = publisher.publish_many([("1", "", queue.name, {}), ("2", "", f"{queue.name}-missing", {}),
                                     ("3", "", queue.name, {})], mandatory=True)
    publisher.close()
    assert [type(error) for error in errors] == [type(None), Refused, type(None)]
    assert [body for body, _ in drain(queue)] == [1, 3]


@pytest.fixture
def proxied(queue):
    """A proxy the test can cut, and a publisher that reaches the broker through it."""
    proxy = TcpProxy("127.0.0.1", BROKER[1])
    publisher = ConfirmedPublisher(f"amqp://guest:guest@127.0.0.1:{proxy.port}//", declare=[queue], timeout=2)
    yield proxy, publisher
    publisher.close()
    proxy.close()


def test_a_cut_connection_fails_its_publish_and_the_next_publish_connects_again(queue, proxied):
    proxy, publisher = proxied
    publisher.publish({"i": 1}, routing_key=queue.name)
    proxy.cut()
    with pytest.raises(CONNECTION_ERRORS):
        publisher.publish({"i": 2}, routing_key=queue.name)
    proxy.restore()
    publisher.publish({"i": 3}, routing_key=queue.name)
    assert [body["i"] for body, _ in drain(queue)] == [1, 3]


def test_an_idle_connection_the_broker_dropped_is_replaced_without_failing_the_publish(queue, proxied):
    proxy, publisher = proxied
    publisher.publish({"i": 1}, routing_key=queue.name)
    proxy.cut()
    proxy.restore()  # cut while idle: the publisher learns of it only when it writes or reads
    publisher.publish({"i": 2}, routing_key=queue.name)
    assert [body["i"] for body, _ in drain(queue)] == [1, 2]
