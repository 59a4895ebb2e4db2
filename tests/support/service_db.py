"""A service's tables in a fresh SQLite file, for tests of its handlers
without a running stack."""
from contextlib import contextmanager

from sqlalchemy.orm import sessionmaker

from dealerflow.db import make_engine


@contextmanager
def fresh_sqlite(path, base):
    """(engine, sessionmaker) on ``base``'s tables in a new SQLite file at
    ``path``, made as the service makes its engine; disposed after."""
    engine = make_engine(f"sqlite:///{path}")
    base.metadata.create_all(engine)
    try:
        yield engine, sessionmaker(engine, expire_on_commit=False)
    finally:
        engine.dispose()
