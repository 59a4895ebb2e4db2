"""A real gateway database on SQLite: seeded once (passwords are slow to
hash on purpose), then copied into a fresh file for every test."""
import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from dealerflow.db import make_engine
from services.gateway.demo import seed_demo
from services.gateway.models import Base
from services.gateway.org import create_api_key
from tests.conftest import make_lead as sample_lead

DEMO_PASSWORD = "pw-12345678"


def make_lead(**overrides) -> dict:
    """DESIGN.md's sample lead, the same one (same external id) every time
    unless told otherwise."""
    return sample_lead(**{"external_id": "AH-2026-000123", "customer": {
        "name": "王磊", "phone": "13800138000", "email": "WL@Example.com", "city": "上海", "language": "zh"},
        **overrides})


LEAD = make_lead()


@pytest.fixture(scope="session")
def seeded_gateway_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("gateway-template") / "gateway.db"
    engine = make_engine(f"sqlite:///{path}", immediate=False)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed_demo(session, DEMO_PASSWORD)
        session.commit()
    engine.dispose()
    return path


@pytest.fixture
def sessions(seeded_gateway_db, tmp_path):
    """A sessionmaker on this test's own copy of the seeded database."""
    path = tmp_path / "gateway.db"
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{seeded_gateway_db}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{path}{suffix}")
    engine = make_engine(f"sqlite:///{path}", immediate=False)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


@pytest.fixture
def make_key(sessions):
    """``make_key(stores=..., platform=..., rate_limit=...)`` -> a new API key."""
    def make(stores=("SH-PUDONG",), platform="p1", rate_limit=0) -> str:
        with sessions() as session:
            _, key = create_api_key(session, list(stores), platform=platform,
                                    rate_limit=rate_limit)
            session.commit()
        return key
    return make
