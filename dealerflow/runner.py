"""Starts one nameko service: ``python -m services.<name>``.

Importing this module monkey-patches eventlet, so it must be the first import
of a service's ``__main__`` (nameko 2.13+ no longer patches for us).
"""
# isort: off
import dealerflow  # noqa: F401  (first: it filters eventlet's deprecation notice)
import eventlet
# isort: on

eventlet.monkey_patch()

import gc  # noqa: E402
import importlib  # noqa: E402
import logging  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import traceback  # noqa: E402

import greenlet  # noqa: E402
from nameko.cli.run import run as nameko_run  # noqa: E402

from dealerflow import config  # noqa: E402
from dealerflow.logs import setup_logging  # noqa: E402


def dump_green_threads(*_) -> None:
    """``kill -USR1 <pid>``: log what every green thread of the service is
    doing (a service that stopped answering shows where it waits)."""
    stacks = ["".join(traceback.format_stack(thread.gr_frame)) for thread in gc.get_objects()
              if isinstance(thread, greenlet.greenlet) and thread.gr_frame is not None]
    logging.getLogger("dealerflow.runner").warning("%d green threads:\n%s", len(stacks),
                                                   "\n----\n".join(stacks))


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
    lower_priority(config.env_int("SERVICE_NICE", 10))
    signal.signal(signal.SIGUSR1, dump_green_threads)
    nameko_run([service_cls], settings)
