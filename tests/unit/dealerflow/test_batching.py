"""dealerflow.messaging.Batching: deliveries that arrive while a batch runs
go together in the next one; nothing is acked before its batch commits; a
failed batch is handled again a delivery at a time, so that only the one
at fault is retried; an outage requeues the batch after one pause."""
from types import SimpleNamespace

from kombu import Queue
from marshmallow import ValidationError
from sqlalchemy import exc as sa

from dealerflow import messaging
from dealerflow.logs import correlation_id
from tests.unit.dealerflow.test_messaging_outage import FakeQueueConsumer, failed


class Container:
    """Spawns nothing: the test plays each worker's end (``finish``)."""

    def __init__(self):
        self.config, self.workers = {"AMQP_URI": "memory://"}, []

    def spawn_worker(self, entrypoint, args, kwargs, context_data=None, handle_result=None):
        worker_ctx = SimpleNamespace(batch=args[0], handle_result=handle_result)
        self.workers.append(worker_ctx)
        return worker_ctx


class Database:
    def __init__(self):
        self.begun = []

    def begin_batch(self, worker_ctx, deliveries):
        self.begun.append(worker_ctx)

    def end_batch(self, worker_ctx, exc_info):
        return exc_info  # a commit that works


class Nameko:
    """What nameko's Consumer does in setup and stop, with nothing to talk to."""

    def setup(self):
        pass

    def stop(self):
        pass

    def unpack_message_headers(self, message):
        return {name.removeprefix("nameko."): value for name, value in message.headers.items()}


class Entrypoint(messaging.Batching, messaging.RetryOnError, Nameko):
    method_name = "handle_lead_submitted"

    def __init__(self):
        self.queue, self.queue_consumer = Queue("leads.intake"), FakeQueueConsumer()
        self.container = Container()
        self.setup()
        self.db = Database()


def message(name: str):
    return SimpleNamespace(name=name, headers={"nameko.correlation_id": f"corr-{name}"})


def names(batch) -> list[str]:
    return [delivered.name for _, delivered in batch.deliveries]


def finish(worker, exc_info=None):
    """The worker's method returned (or raised ``exc_info``)."""
    worker.handle_result(worker, None, exc_info)


def test_deliveries_that_arrive_while_a_batch_runs_go_together_in_the_next():
    entrypoint = Entrypoint()
    entrypoint.handle_message({"n": 1}, message("m1"))
    for n in range(2, 6):
        entrypoint.handle_message({"n": n}, message(f"m{n}"))
    first, = entrypoint.container.workers
    assert names(first.batch) == ["m1"], "a quiet queue is handled at once, a delivery at a time"
    assert entrypoint.queue_consumer.acked == []
    finish(first)
    assert [m.name for m in entrypoint.queue_consumer.acked] == ["m1"]
    second = entrypoint.container.workers[1]
    assert names(second.batch) == ["m2", "m3", "m4", "m5"]
    finish(second)
    assert [m.name for m in entrypoint.queue_consumer.acked] == ["m1", "m2", "m3", "m4", "m5"]
    assert len(entrypoint.container.workers) == 2 and not entrypoint.busy


def test_a_batch_takes_at_most_its_limit():
    entrypoint = Entrypoint()
    for n in range(1 + 2 * entrypoint.LIMIT + 5):
        entrypoint.handle_message({}, message(f"m{n}"))
    while entrypoint.busy:
        finish(entrypoint.container.workers[-1])
    assert [len(worker.batch) for worker in entrypoint.container.workers] == [1, 20, 20, 5]
    assert len(entrypoint.queue_consumer.acked) == 46


def test_a_failed_batch_is_handled_again_alone_and_only_the_bad_delivery_is_retried(rescheduled, sleeps):
    entrypoint = Entrypoint()
    for n in range(1, 5):
        entrypoint.handle_message({}, message(f"m{n}"))
    finish(entrypoint.container.workers[0])  # m1
    finish(entrypoint.container.workers[1], failed(ValidationError("m3 is bad")))  # m2, m3, m4
    assert [m.name for m in entrypoint.queue_consumer.acked] == ["m1"], "nothing of a failed batch is acked"
    for _ in range(3):
        worker = entrypoint.container.workers[-1]
        finish(worker, failed(ValidationError("bad")) if names(worker.batch) == ["m3"] else None)
    assert [names(worker.batch) for worker in entrypoint.container.workers[2:]] == [["m2"], ["m3"], ["m4"]]
    assert [m.name for m in rescheduled] == ["m3"], "only the delivery at fault uses up a retry"
    assert [m.name for m in entrypoint.queue_consumer.acked] == ["m1", "m2", "m3", "m4"]  # m3: moved to its retry
    assert sleeps == [] and not entrypoint.busy


def test_an_outage_requeues_the_whole_batch_after_one_pause(rescheduled, sleeps):
    entrypoint = Entrypoint()
    for n in range(1, 5):
        entrypoint.handle_message({}, message(f"m{n}"))
    finish(entrypoint.container.workers[0])
    outage = sa.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
    finish(entrypoint.container.workers[1], failed(outage))
    assert sleeps == [0.5], "one pause for the batch, not one a delivery"
    assert [m.name for m in entrypoint.queue_consumer.requeued] == ["m2", "m3", "m4"]
    assert rescheduled == [] and len(entrypoint.container.workers) == 2


def test_a_stopping_service_hands_back_what_waits_and_finishes_what_runs():
    entrypoint = Entrypoint()
    for n in range(1, 4):
        entrypoint.handle_message({}, message(f"m{n}"))
    entrypoint.stop()
    assert [m.name for m in entrypoint.queue_consumer.requeued] == []  # a batch runs: it hands back when done
    finish(entrypoint.container.workers[0])
    assert [m.name for m in entrypoint.queue_consumer.acked] == ["m1"]
    assert [m.name for m in entrypoint.queue_consumer.requeued] == ["m2", "m3"]
    assert len(entrypoint.container.workers) == 1 and not entrypoint.busy


def test_reading_a_batch_begins_its_transaction_and_sets_each_delivery_s_correlation_id():
    entrypoint = Entrypoint()
    batch = messaging.Batch(entrypoint, [({"n": 1}, message("a")), ({"n": 2}, message("b"))])
    batch.worker_ctx = "worker"
    seen = [(payload["n"], correlation_id.get()) for payload in batch]
    assert seen == [(1, "corr-a"), (2, "corr-b")]
    assert entrypoint.db.begun == ["worker"]


def test_a_service_that_takes_batches_prefetches_two_of_them():
    consumer = messaging.QueueConsumer()
    consumer.container = SimpleNamespace(max_workers=10)
    consumer._providers = [SimpleNamespace(batching=False)]
    assert consumer.prefetch_count == 10, "MAX_WORKERS, as nameko sets it"
    consumer._providers.append(SimpleNamespace(batching=True, LIMIT=20))
    assert consumer.prefetch_count == 40
