"""Starts one nameko service: ``python -m services.<name>``.

Importing this module monkey-patches eventlet, so it must be the first import
of a service's ``__main__`` (nameko 2.13+ no longer patches for us).
"""
# isort: off
import dealerflow  # noqa: F401  (first: it filters eventlet's deprecation notice)
import eventlet
# isort: on

eventlet.monkey_patch()

import importlib  # noqa: E402

from nameko.cli.run import run as nameko_run  # noqa: E402

from dealerflow import config  # noqa: E402
from dealerflow.logs import setup_logging  # noqa: E402


def run(service_path: str) -> None:
    """Run ``package.module:Class`` with the config the environment gives."""
    module_name, class_name = service_path.split(":")
    service_cls = getattr(importlib.import_module(module_name), class_name)
    settings = config.nameko_config(service_cls.name)
    setup_logging(service_cls.name, settings["LOG_LEVEL"])
    nameko_run([service_cls], settings)
