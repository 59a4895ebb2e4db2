import pytest
from sqlalchemy.orm import sessionmaker

from dealerflow.db import make_engine
from services.customers.models import Base


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """A customers database (SQLite) for the module's tests."""
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('customers')}/customers.db")
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine):
    """A session on empty customers tables."""
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    with sessionmaker(engine, expire_on_commit=False)() as session:
        yield session
