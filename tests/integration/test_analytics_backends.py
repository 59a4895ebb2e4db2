"""The analytics give the same answers on PostgreSQL as on SQLite: the
medians PostgreSQL takes itself (``percentile_cont``), its JSON paths and
its sums are held to the hand-made data set whose answers
``tests/unit/leads/test_analytics.py`` writes down."""
import uuid

import pytest
from sqlalchemy.orm import sessionmaker

from dealerflow.contracts import schema
from dealerflow.db import make_engine
from dealerflow.migrations import upgrade
from services.leads import analytics
from services.leads.service import REPORTS
from tests.support.stack import postgres
from tests.unit.leads.test_analytics import NOW, RANGE, fill
from tests.unit.leads.test_lists import ADMIN, SH_CONSULTANT, SH_MANAGER


@pytest.fixture(scope="module")
def databases(tmp_path_factory):
    name = f"dftest_analytics_{uuid.uuid4().hex[:8]}"
    postgres(f"CREATE DATABASE {name}")
    made = {}
    for backend, url in (("sqlite", f"sqlite:///{tmp_path_factory.mktemp('analytics')}/leads.db"),
                         ("postgresql", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")):
        upgrade("leads", url)
        made[backend] = make_engine(url)
        fill(sessionmaker(made[backend], expire_on_commit=False))
    yield made
    for engine in made.values():
        engine.dispose()
    postgres(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.mark.parametrize("actor", [SH_MANAGER, SH_CONSULTANT, ADMIN], ids=["manager", "consultant", "admin"])
@pytest.mark.parametrize("name,params", [(name, {}) for name in REPORTS] + [
    ("demand", {"by": by}) for by in ("brand", "fuel_type", "budget_band")] + [
    ("funnel", {"source": "autohome", "brand": "BYD"}), ("sources", {"from": "2026-11-01", "to": "2026-11-10"})] + [
    (name, {"source": "nobody-sends-this"}) for name in REPORTS])  # no lead at all
def test_postgresql_answers_as_sqlite_does(databases, actor, name, params):
    answers = {}
    for backend, engine in databases.items():
        with sessionmaker(engine)() as session:
            query = {**RANGE, **params}
            if actor is ADMIN:
                query.pop("store_code")
            scope = analytics.scope_of(session, actor, query, NOW)
            answers[backend] = schema(REPORTS[name]).dump(getattr(analytics, name)(session, scope))
    assert answers["postgresql"] == answers["sqlite"]
