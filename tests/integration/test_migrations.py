"""Every service's migrations reach head on an empty database, and then
agree with its models (``alembic check``), on SQLite and on PostgreSQL."""
import uuid

import pytest
from alembic import command

from dealerflow.config import SERVICES
from dealerflow.migrations import alembic_config, upgrade
from tests.support.stack import postgres


@pytest.fixture
def empty_database(tmp_path, backend):
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
        return
    name = f"dftest_mig_{uuid.uuid4().hex[:8]}"
    postgres(f"CREATE DATABASE {name}")
    try:
        yield f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    finally:
        postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_reach_head_and_match_the_models(service, empty_database):
    upgrade(service, empty_database)
    command.check(alembic_config(service, empty_database))  # raises if models and migrations differ
    command.downgrade(alembic_config(service, empty_database), "base")
    upgrade(service, empty_database)
