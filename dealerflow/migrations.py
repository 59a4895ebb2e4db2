"""Alembic, once for every service: each service has ``migrations/`` of its
own and runs against its own database URL.

``alembic_config("leads")`` is what the ``dealerflow migrate`` command and
the tests use; a service's ``migrations/env.py`` calls ``run(Base.metadata)``.
"""
from pathlib import Path

from alembic import command, context
from alembic.config import Config

from dealerflow import config
from dealerflow.db import make_engine

SERVICES_DIR = Path(__file__).resolve().parent.parent / "services"


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SERVICES_DIR / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url or config.database_url(service))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    url = url or config.database_url(service)
    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(service, url), "head")


def run(metadata) -> None:
    """The body of every service's ``env.py`` (online mode only)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url, immediate=False)
    with engine.connect() as connection:
        if url.startswith("sqlite"):
            # batch mode rebuilds a table by copy, drop and rename, which SQLite's foreign keys
            # refuse for a table others reference; a PRAGMA works only outside a transaction
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=url.startswith("sqlite"), compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
