"""Starts one nameko service: ``python -m services.<name>``.

Importing this module monkey-patches eventlet, so it must be the first import
of a service's ``__main__`` (nameko 2.13+ no longer patches for us).

SIGTERM (a deploy, Kubernetes, supervisord) or SIGINT drains the service:
nameko's ``ServiceContainer.stop`` cancels every consumer (nothing new is
taken), waits for the running workers, then stops the rest; our
``messaging.QueueConsumer`` keeps the broker connection until the last of
them is acked. A drain that takes longer than ``STOP_GRACE_SECONDS``
(default 25, under Kubernetes' 30 s grace period) logs what still runs and
exits with status 1; the broker then hands those messages to another
instance (every handler is idempotent, every writing RPC runs once:
``dealerflow.once``). nameko's own ``run`` (``nameko.cli.run``) waits for
the drain without a bound; ``run_until_stopped`` replaces it.
"""
# isort: off
import dealerflow  # noqa: F401  (first: it filters eventlet's deprecation notice)
import eventlet
# isort: on

eventlet.monkey_patch()

import errno  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import traceback  # noqa: E402

import greenlet  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402

from dealerflow import config  # noqa: E402
from dealerflow.logs import setup_logging  # noqa: E402

log = logging.getLogger(__name__)


def dump_green_threads(*_) -> None:
    """``kill -USR1 <pid>``: log what every green thread of the service is
    doing (a service that stopped answering shows where it waits)."""
    stacks = ["".join(traceback.format_stack(thread.gr_frame)) for thread in gc.get_objects()
              if isinstance(thread, greenlet.greenlet) and thread.gr_frame is not None]
    log.warning("%d green threads:\n%s", len(stacks), "\n----\n".join(stacks))


def niceness_of(service_cls, service_nice: int) -> int:
    """How far below the gateway a service runs: ``SERVICE_NICE`` times the
    service class's ``NICE_SHARE`` (1 unless it asks for less: the leads
    service, whose assignment the consultant waits for, asks for half)."""
    return int(service_nice * getattr(service_cls, "NICE_SHARE", 1))


def lower_priority(niceness: int) -> None:
    """Run below the gateway: when the services and the gateway share cores,
    a burst of leads gets its 202s first and the services drain the backlog
    after. Linux's autogroup scheduling ranks by nice only the processes of
    one session, so a service that leads a session of its own (started with
    ``setsid``, as the test and bench harness does) lowers that group too;
    under supervisord (``make run``) the services share its session with
    the gateway, and their own nice is what counts."""
    os.nice(niceness)
    if niceness and os.getsid(0) == os.getpid():
        try:
            with open("/proc/self/autogroup", "w") as autogroup:
                autogroup.write(str(niceness))
        except OSError:  # not Linux, or no autogroup: nice alone
            pass


def run(service_path: str) -> None:
    """Run ``package.module:Class`` with the config the environment gives."""
    module_name, class_name = service_path.split(":")
    service_cls = getattr(importlib.import_module(module_name), class_name)
    settings = config.nameko_config(service_cls.name)
    setup_logging(service_cls.name, settings["LOG_LEVEL"])
    lower_priority(niceness_of(service_cls, config.env_int("SERVICE_NICE", 10)))
    signal.signal(signal.SIGUSR1, dump_green_threads)
    run_until_stopped(service_cls, settings, float(os.environ.get("STOP_GRACE_SECONDS", "25")))


def run_until_stopped(service_cls, settings: dict, grace: float) -> None:
    """Run the service until SIGTERM or SIGINT, then drain it for at most
    ``grace`` seconds (see the module's docstring)."""
    runner = ServiceRunner(settings)
    runner.add_service(service_cls)
    stopping = []

    def stop(signum, _frame):
        if not stopping:  # a second signal changes nothing: the grace period already runs
            stopping.append(signum)
            log.info("stopping on %s: finishing the work in hand (at most %.0f s)",
                     signal.Signals(signum).name, grace)
            # a signal handler runs in the hub's loop and must not block: drain in a green thread
            eventlet.spawn_after(grace, give_up, runner, grace)
            eventlet.spawn_n(runner.stop)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runner.start()
    waiting = eventlet.spawn(runner.wait)
    while True:
        try:
            waiting.wait()
            return
        except OSError as exc:  # a signal interrupted the wait (EINTR): go on waiting
            if exc.errno != errno.EINTR:
                raise


def give_up(runner, grace: float) -> None:
    """The drain outlasted its grace period: say what still runs, and exit."""
    running = [f"{ctx.entrypoint.method_name} (call {ctx.call_id})"
               for container in runner.containers for ctx in list(container._worker_threads)]
    log.error("still running after %.0f s, exiting; the broker hands their messages to another "
              "instance: %s", grace, ", ".join(running) or "no worker (an extension did not stop)")
    logging.shutdown()
    os._exit(1)

