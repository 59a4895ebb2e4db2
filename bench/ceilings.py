"""What this machine can do at best, measured beside the system: a bare
gunicorn/Falcon gateway that only validates and publishes, and a two-service
nameko pipeline that only stores and forwards."""
import json
import os
import sys
import time
from contextlib import ExitStack
from functools import partial
from pathlib import Path

import requests
from amqp.exceptions import NotFound
from kombu import Connection, Queue
from sqlalchemy import create_engine, text

from bench import ceiling_gateway, ceiling_pipeline
from bench.common import (
    Leads,
    child,
    cores_used,
    cpu_snapshot,
    intake_summary,
    latency,
    say,
    settle,
    to_epoch,
)
from bench.loadgen import open_loop
from tests.support.stack import free_port, postgres


def until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"gave up waiting for {what}")
        time.sleep(0.2)
    return result


# -- the bare gateway ----------------------------------------------------------

def gateway(stack, options) -> dict:
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "-c", "services/gateway/gunicorn_conf.py",
               "bench.ceiling_gateway:get_app()"]
    env = dict(stack.env, BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="2")
    with child(command, env, stack.workdir / "ceiling_gateway.log") as process:
        until(lambda: answers(f"http://127.0.0.1:{port}/"), 60, "the bare gateway")
        leads, who = Leads(port, stack.sh_key), {process.pid: "bare gateway", **own_pid()}
        open_loop("127.0.0.1", port, leads.requests(100), 100, options.connections)  # warm-up
        runs = []
        for rate in options.ceiling_rates:
            say(f"  bare gateway: {rate:g} leads/s for {options.burst_seconds:g} s")
            batch, settled = leads.requests(round(rate * options.burst_seconds)), settle()
            before = cpu_snapshot(who)
            run = open_loop("127.0.0.1", port, batch, rate, options.connections)
            after, summary = cpu_snapshot(who), intake_summary(run)
            runs.append(dict(summary, settled_s=settled, cpu_cores=cores_used(before, after),
                             cpu_ms_per_request=cores_used(before, after, per=summary["accepted"])))
            say(f"  bare gateway done: accepted {runs[-1]['accepted_per_s']:g}/s, "
                f"p99 {runs[-1]['latency_ms']['p99']} ms, others {runs[-1]['other_statuses'] or '-'}")
    with Connection(stack.amqp_uri) as connection:
        Queue(ceiling_gateway.QUEUE, durable=True)(connection.default_channel).purge()
    best = max(runs, key=lambda r: r["accepted_per_s"])
    return {"accepted_per_s": best["accepted_per_s"], "p99_ms": best["latency_ms"]["p99"],
            "at_offered_per_s": best["offered_per_s"], "rates": runs}


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code > 0
    except requests.RequestException:
        return False


def own_pid() -> dict:
    return {os.getpid(): "bench client"}


# -- the nameko pipeline -------------------------------------------------------

def pipeline(stack, options) -> dict:
    with ExitStack() as cleanup:
        if stack.backend == "postgresql":
            name = f"dfbench_{stack.tag}_pipeline"
            postgres(f"CREATE DATABASE {name}")
            cleanup.callback(postgres, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            urls = dict.fromkeys("ab", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
        else:
            urls = {side: f"sqlite:///{stack.workdir}/pipeline_{side}.db" for side in "ab"}
        engines = {side: create_engine(url) for side, url in urls.items()}
        for side, engine in engines.items():
            ceiling_pipeline.TABLES[side].create(engine)
            cleanup.callback(engine.dispose)
        who = own_pid()
        for side in "ba":  # B first: an event dispatched before its queue exists is lost
            env = dict(stack.env, PIPELINE_DATABASE_URL=urls[side])
            process = cleanup.enter_context(child([sys.executable, "-m", "bench.ceiling_pipeline", side],
                                                  env, stack.workdir / f"pipeline_{side}.log"))
            who[process.pid] = f"pipeline {side}"
            until(partial(consumers, stack.amqp_uri, ceiling_pipeline.QUEUES[side]), 60,
                  f"pipeline {side} to consume")
        connection = cleanup.enter_context(
            Connection(stack.amqp_uri, transport_options={"confirm_publish": True}))
        producer = connection.Producer()
        Queue(ceiling_pipeline.QUEUE, durable=True)(connection.default_channel).declare()

        def publish(message_id: str) -> float:
            producer.publish(json.dumps({"id": message_id}), exchange="", delivery_mode=2,
                             routing_key=ceiling_pipeline.QUEUE, content_type="application/json")
            return time.time()

        publish("warm-up")
        until(partial(all_received, engines["b"], "b", "warm-up", 1), 30, "the warm-up message")

        say(f"  pipeline drain: {options.pipeline_messages} messages as fast as confirms allow")
        settled, before = settle(), cpu_snapshot(who)
        start = time.time()
        for i in range(options.pipeline_messages):
            publish(f"drain-{i}")
        published = time.time()
        b = until(partial(all_received, engines["b"], "b", "drain-", options.pipeline_messages),
                  options.process_timeout, "the pipeline to drain")
        drain = {"messages": len(b), "settled_s": settled,
                 "publish_per_s": round(len(b) / (published - start), 1),
                 "drain_per_s": round(len(b) / (max(b.values()) - start), 1),
                 "cpu_ms_per_message": cores_used(before, cpu_snapshot(who), per=len(b))}
        say(f"  pipeline drain done: {drain['drain_per_s']:g} messages/s "
            f"(published at {drain['publish_per_s']:g}/s)")

        rates = []
        for rate in options.pipeline_rates:
            say(f"  pipeline: {rate:g} messages/s for {options.pipeline_seconds:g} s")
            prefix, count = f"rate{rate:g}-", round(rate * options.pipeline_seconds)
            settled, confirmed, t0 = settle(), {}, time.perf_counter()
            for i in range(count):
                time.sleep(max(0.0, t0 + i / rate - time.perf_counter()))
                confirmed[f"{prefix}{i}"] = publish(f"{prefix}{i}")
            b = until(partial(all_received, engines["b"], "b", prefix, count),
                      options.process_timeout, "the pipeline")
            a = received(engines["a"], "a", prefix)
            rates.append({"offered_per_s": rate, "messages": count, "settled_s": settled,
                          "received_to_b_ms": latency(((b[i] - a[i]) * 1000 for i in b), (50, 99, 100)),
                          "published_to_b_ms": latency(((b[i] - confirmed[i]) * 1000 for i in b),
                                                       (50, 99, 100))})
            say(f"  pipeline done: A->B p99 {rates[-1]['received_to_b_ms']['p99']} ms, "
                f"publish->B p99 {rates[-1]['published_to_b_ms']['p99']} ms")
        return {"drain_per_s": drain["drain_per_s"], "drain": drain, "rates": rates}


def consumers(amqp_uri: str, queue: str) -> int:
    with Connection(amqp_uri, connect_timeout=5) as connection:
        try:
            return connection.default_channel.queue_declare(queue, passive=True).consumer_count
        except NotFound:
            return 0


def received(engine, side: str, prefix: str) -> dict:
    """{message id: when the side stored it} of the messages with this prefix."""
    table = ceiling_pipeline.TABLES[side].name
    with engine.connect() as connection:
        found = connection.execute(text(f"SELECT id, received_at FROM {table} WHERE id LIKE :p"),
                                   {"p": prefix + "%"}).all()
    return {row[0]: to_epoch(row[1]) for row in found}


def all_received(engine, side: str, prefix: str, count: int) -> dict | None:
    found = received(engine, side, prefix)
    return found if len(found) >= count else None
