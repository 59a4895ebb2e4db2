import uuid

import pytest
from sqlalchemy.orm import sessionmaker

from dealerflow.db import make_engine
from dealerflow.migrations import upgrade
from tests.support.stack import postgres


@pytest.fixture
def service_db(tmp_path, backend):
    """``service_db("leads")``: a sessionmaker on a new database of that
    service at head, on each backend; dropped after the test."""
    made = []

    def make(service: str):
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path}/{service}.db"
        else:
            name = f"dftest_{service}_{uuid.uuid4().hex[:8]}"
            postgres(f"CREATE DATABASE {name}")
            url = f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}"
            made.append(name)
        upgrade(service, url)
        engine = make_engine(url)
        made.append(engine)
        return sessionmaker(engine, expire_on_commit=False)

    yield make
    for item in made:
        if isinstance(item, str):
            postgres(f"DROP DATABASE IF EXISTS {item} WITH (FORCE)")
        else:
            item.dispose()


@pytest.fixture
def leads_db(service_db):
    return service_db("leads")
