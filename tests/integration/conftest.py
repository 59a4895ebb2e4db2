import uuid

import pytest
from sqlalchemy.orm import sessionmaker

from dealerflow.db import make_engine
from dealerflow.migrations import upgrade
from tests.support.stack import postgres


@pytest.fixture
def leads_db(tmp_path, backend):
    """A sessionmaker on a new leads database at head, on each backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path}/leads.db"
    else:
        name = f"dftest_leads_{uuid.uuid4().hex[:8]}"
        postgres(f"CREATE DATABASE {name}")
        url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
    upgrade("leads", url)
    engine = make_engine(url)
    try:
        yield sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()
        if backend == "postgresql":
            postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
