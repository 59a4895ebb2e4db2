"""Which type of RabbitMQ queue Dealerflow declares: ``QUEUE_TYPE``.

``classic`` (the default) suits one broker; ``quorum`` is for a RabbitMQ
cluster, where a classic queue lives on one node and is lost with it, and a
quorum queue is replicated (Raft) and confirms a message only once a
majority of nodes has it. Every durable queue Dealerflow declares takes the
type: the intake queue, the event handlers', the RPC queues (``rpc-<service>``),
the retry and parking queues (quorum queues take ``x-message-ttl`` and
dead-lettering from RabbitMQ 3.10). What expires or belongs to one process
stays classic: the RPC callers' reply queues.

A queue's type is fixed when the queue is made: declaring an existing queue
with another type fails with ``PRECONDITION_FAILED`` (``dealerflow
migrate`` says what to do). So every declarer must ask for the same type,
the gateway's intake publisher too (``durable_queue``).

No ``x-delivery-limit`` is set: RabbitMQ 3.10 sets none, and a message that
waits out an outage is requeued as often as the outage lasts. RabbitMQ 4
sets 20 by default on quorum queues; set a policy lifting it before moving
there. This module imports nothing of nameko or eventlet, for the gateway.
"""
import os

from kombu import Queue

QUEUE_TYPES = ("classic", "quorum")


def queue_type() -> str:
    value = os.environ.get("QUEUE_TYPE", "classic").strip().lower() or "classic"
    if value not in QUEUE_TYPES:
        raise ValueError(f"QUEUE_TYPE is {value!r}: one of {', '.join(QUEUE_TYPES)}")
    return value


def queue_arguments() -> dict:
    """The declare arguments of a durable queue. Classic queues are declared
    without ``x-queue-type``, as before the setting existed, so that the
    queues of an existing installation still match."""
    return {"x-queue-type": "quorum"} if queue_type() == "quorum" else {}


def typed(queue: Queue) -> Queue:
    """Give a durable, shared queue the configured type (in place; returned)."""
    if queue.durable and not queue.auto_delete and not queue.exclusive:
        queue.queue_arguments = {**(queue.queue_arguments or {}), **queue_arguments()}
    return queue


def durable_queue(name: str, **kwargs) -> Queue:
    return typed(Queue(name, durable=True, **kwargs))
