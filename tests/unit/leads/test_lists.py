"""services.leads.handlers: what each actor sees, and keyset pages that
neither skip nor repeat a lead (on a real SQLite database)."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import sessionmaker

from dealerflow.actor import Actor
from dealerflow.contracts import LeadQuery, schema
from dealerflow.db import make_engine
from services.leads import handlers
from services.leads.exceptions import InvalidQuery, LeadNotFound
from services.leads.models import Base, Lead

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
SH_CONSULTANT = Actor(kind="user", user_id="c-sh1", role="consultant", stores=("SH-PUDONG",))
SH_MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))
ADMIN = Actor(kind="user", user_id="admin", role="group_admin", stores=("SH-PUDONG", "BJ-CHAOYANG"))
PLATFORM = Actor(kind="api_key", platform="autohome", stores=("SH-PUDONG",))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('leads')}/leads.db")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)


def lead(n: int, store="SH-PUDONG", consultant="c-sh1", platform="autohome", minutes=None, **fields):
    created = T0 + timedelta(minutes=n if minutes is None else minutes)
    values = dict(id=str(uuid.UUID(int=n)), platform=platform, source="autohome", external_id=f"E-{n}",
                  channel="third_party", format="json", status="assigned" if consultant else "accepted",
                  store_code=store, consultant_id=consultant, customer={"name": f"客户{n}"},
                  customer_name=f"客户{n}", customer_phone=f"1380013{n:04d}", received_at=created,
                  submitted_at=created, created_at=created)
    values.update(fields)
    return Lead(**values)


def query(**fields) -> dict:
    return schema(LeadQuery).load(fields)


def ids(page) -> list[str]:
    return [lead.id for lead in page["items"]]


@pytest.fixture
def stores(sessions):
    with sessions() as session:
        session.add_all([lead(1), lead(2, consultant="c-sh2"), lead(3, consultant=None),
                         lead(4, store="BJ-CHAOYANG", consultant="c-bj1"),
                         lead(5, platform="yiche")])
        session.commit()
    return sessions


@pytest.mark.parametrize("actor,expected", [
    (SH_CONSULTANT, [5, 1]),
    (SH_MANAGER, [5, 3, 2, 1]),
    (ADMIN, [5, 4, 3, 2, 1]),
    (PLATFORM, [3, 2, 1]),
    (Actor(kind="user", user_id="m-bj", role="manager", stores=("BJ-CHAOYANG",)), [4]),
    (Actor(kind="user", user_id="nobody", role="manager", stores=()), []),
])
def test_each_actor_lists_only_its_scope(stores, actor, expected):
    with stores() as session:
        assert ids(handlers.list_leads(session, actor, query())) == [str(uuid.UUID(int=n)) for n in expected]


@pytest.mark.parametrize("actor", [SH_CONSULTANT, Actor(kind="api_key", platform="yiche", stores=("SH-PUDONG",)),
                                   Actor(kind="user", user_id="m-bj", role="manager", stores=("BJ-CHAOYANG",))])
def test_a_lead_outside_the_scope_is_not_found(stores, actor):
    with stores() as session:
        with pytest.raises(LeadNotFound):  # c-sh2's lead, sent by autohome to SH-PUDONG
            handlers.get_lead_detail(session, str(uuid.UUID(int=2)), actor)
        assert handlers.get_lead_detail(session, str(uuid.UUID(int=2)), SH_MANAGER)["assignments"] == []


def test_filters_combine(stores):
    with stores() as session:
        assert ids(handlers.list_leads(session, SH_MANAGER, query(status=["accepted"]))) == [str(uuid.UUID(int=3))]
        assert ids(handlers.list_leads(session, ADMIN, query(store_code="BJ-CHAOYANG"))) == [str(uuid.UUID(int=4))]
        assert ids(handlers.list_leads(session, SH_MANAGER, query(q="99999", sort="created_at"))) == []
        assert ids(handlers.list_leads(session, SH_MANAGER, query(q="客户2"))) == [str(uuid.UUID(int=2))]
        assert ids(handlers.list_leads(session, SH_MANAGER, query(q="%"))) == []  # a wildcard is a character
        since = (T0 + timedelta(minutes=2)).isoformat()
        assert len(handlers.list_leads(session, SH_MANAGER, query(created_from=since))["items"]) == 3


def test_a_foreign_cursor_is_an_invalid_query(stores):
    with stores() as session:
        with pytest.raises(InvalidQuery):
            handlers.list_leads(session, SH_MANAGER, query(cursor="not-ours"))


@given(minutes=st.lists(st.integers(min_value=0, max_value=5), min_size=0, max_size=25),
       limit=st.integers(min_value=1, max_value=7), descending=st.booleans())
def test_pages_neither_skip_nor_repeat_even_when_times_tie(engine, minutes, limit, descending):
    with sessionmaker(engine)() as session:
        session.query(Lead).delete()
        session.add_all(lead(n, minutes=m) for n, m in enumerate(minutes))
        session.commit()
        expected = sorted(session.query(Lead).all(), key=lambda row: (row.created_at, row.id),
                          reverse=descending)
        seen, cursor = [], None
        while True:
            more = {"cursor": cursor} if cursor else {}
            page = handlers.list_leads(session, ADMIN, query(
                limit=limit, sort="-created_at" if descending else "created_at", **more))
            seen += ids(page)
            assert len(page["items"]) <= limit
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [row.id for row in expected]
