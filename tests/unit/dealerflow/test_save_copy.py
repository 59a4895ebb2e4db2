"""dealerflow.outbox.save_copy: a copy of another service's record follows
the newest revision, whatever order its events arrive in."""
import itertools

import pytest
from sqlalchemy.orm import sessionmaker

from dealerflow.db import make_engine
from dealerflow.outbox import save_copy
from services.leads.models import Base, StoreSettings


@pytest.fixture
def sessions(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'leads.db'}")
    Base.metadata.create_all(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.mark.parametrize("order", list(itertools.permutations([1, 2, 3])))
def test_the_newest_revision_wins_in_any_order(sessions, order):
    with sessions() as session:
        for revision in order:
            save_copy(session, StoreSettings, {"code": "SH-PUDONG"}, revision,
                      timezone="Asia/Shanghai", response_minutes=10 * revision)
            session.commit()
        copy = session.get(StoreSettings, "SH-PUDONG")
        assert (copy.revision, copy.response_minutes) == (3, 30)
