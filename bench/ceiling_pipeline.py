"""The pipeline ceiling: the smallest nameko pipeline shaped like a lead's
path (durable queue -> A stores a row and dispatches an event -> B stores a
row), to learn what a hop plus a commit costs on this machine. Both use
Dealerflow's ``Database`` dependency, so SQLite is set up as the services'.

One side per process, with AMQP_URI and PIPELINE_DATABASE_URL set:
``python -m bench.ceiling_pipeline a`` (or ``b``).
"""
if __name__ == "__main__":  # eventlet first, as dealerflow/runner.py; not when bench imports this
    # isort: off
    import dealerflow  # noqa: F401
    import eventlet
    # isort: on
    eventlet.monkey_patch()

import os  # noqa: E402
import sys  # noqa: E402

from kombu import Queue  # noqa: E402
from nameko.events import EventDispatcher, event_handler  # noqa: E402
from nameko.messaging import consume  # noqa: E402
from sqlalchemy import Column, MetaData, String, Table  # noqa: E402

from dealerflow.db import Database, UTCDateTime, utcnow  # noqa: E402

QUEUE = "bench.pipeline"
EVENT = "bench_received"
metadata = MetaData()
TABLES = {side: Table(f"pipeline_{side}", metadata, Column("id", String(64), primary_key=True),
                      Column("received_at", UTCDateTime))
          for side in "ab"}


def store(session, side: str, message_id: str) -> None:
    session.execute(TABLES[side].insert().values(id=message_id, received_at=utcnow()))
    session.commit()


class A:
    name = "bench_a"
    db = Database()
    dispatch = EventDispatcher()

    @consume(Queue(QUEUE, durable=True))
    def receive(self, body):
        store(self.db, "a", body["id"])
        self.dispatch(EVENT, body)


class B:
    name = "bench_b"
    db = Database()

    @event_handler(A.name, EVENT)
    def receive(self, body):
        store(self.db, "b", body["id"])


QUEUES = {"a": QUEUE, "b": f"evt-{A.name}-{EVENT}--{B.name}.receive"}  # B's as nameko names it

if __name__ == "__main__":
    from nameko.cli.run import run
    run([{"a": A, "b": B}[sys.argv[1]]], {
        "AMQP_URI": os.environ["AMQP_URI"], "DATABASE_URL": os.environ["PIPELINE_DATABASE_URL"],
        "max_workers": 10, "HEARTBEAT": 10, "serializer": "json",  # as dealerflow.config
    })
