"""services.leads.analytics on a small hand-made data set whose right
answers are written here, on a real SQLite database; every figure agrees
with the leads the drill-down lists (``GET /v1/leads?metric=``); the range's
periods cut it without gap or overlap, whatever the range."""
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.actor import Actor
from dealerflow.contracts import METRICS, schema
from services.leads import analytics, changes, handlers
from services.leads.exceptions import InvalidQuery, LeadNotFound, NotAllowed
from services.leads.models import LeadEvent, RosterMember, SourceCost, StoreSettings
from services.leads.service import REPORTS
from tests.unit.leads import test_lists
from tests.unit.leads.test_lists import ADMIN, SH_CONSULTANT, SH_MANAGER, lead, query

engine, sessions = test_lists.engine, test_lists.sessions  # the lists' fixtures: a real SQLite database

NOW = datetime(2026, 11, 30, 4, 0, tzinfo=timezone.utc)  # 12:00 in Shanghai
DAY = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)   # the day most leads came
RANGE = {"from": "2026-11-01", "to": "2026-11-30", "store_code": "SH-PUDONG"}
HOUR = timedelta(hours=1)


def at(hours: float) -> datetime:
    return DAY + timedelta(hours=hours)


@pytest.fixture
def data(sessions):
    return fill(sessions)


def fill(sessions):
    """Five leads of SH-PUDONG in November, and three that must not count."""
    with sessions() as session:
        session.add(StoreSettings(code="SH-PUDONG", timezone="Asia/Shanghai", response_minutes=15, revision=1))
        for user, name in (("c-sh1", "顾问一"), ("c-sh2", "顾问二"), ("c-sh3", "顾问三")):
            session.add(RosterMember(user_id=user, store_code="SH-PUDONG", display_name=name, role="consultant",
                                     active=True, revision=1, team_id="t-1" if user != "c-sh3" else "t-2"))
        session.add_all([
            # won: contacted after 3 minutes, each stage a day, an appointment, a visit, a test drive
            lead(1, minutes=0, created_at=DAY, assigned_at=DAY + timedelta(minutes=1),
                 first_contact_at=at(0.05), response_seconds=180, owner_response_seconds=120, status="won",
                 stage="after_sales", grade="O", needs_confirmed_at=at(1), proposal_at=at(25),
                 negotiation_at=at(49), closed_at=at(73), appointment_at=at(26), visited_at=at(30),
                 test_drive_at=at(30), deal_value=20_000_000, deal_currency="CNY",
                 interest={"brand": "BYD", "model": "Han", "fuel_type": "ev", "budget_max": 25_000_000}),
            # waiting for a manager to approve its loss, after an appointment
            lead(2, created_at=DAY, first_contact_at=at(0.17), response_seconds=600, owner_response_seconds=600,
                 status="loss_pending", lost_reason="price", appointment_at=at(5), grade="B",
                 interest={"brand": "BYD", "model": "Han", "budget_min": 8_000_000}),
            # a walk-in, contacted at once, needs confirmed, active yesterday: not stalled
            lead(3, consultant="c-sh2", source="walk-in", channel="walk_in", created_at=DAY,
                 first_contact_at=at(0.01), response_seconds=30, owner_response_seconds=30, status="contacted",
                 stage="needs_confirmed", needs_confirmed_at=at(2), grade="H",
                 last_activity_at=NOW - timedelta(days=1), interest={"brand": "Tesla", "model": "Model Y"}),
            # never contacted for five days: waiting, and stalled (grade A allows 3)
            lead(4, consultant="c-sh2", created_at=NOW - timedelta(days=5), assigned_at=NOW - timedelta(days=5),
                 grade="A", interest={"brand": "BYD", "model": "Seal", "fuel_type": "EV"}),
            # lost to a competitor, contacted after two hours
            lead(5, created_at=DAY, first_contact_at=at(2), response_seconds=7200, owner_response_seconds=7000,
                 status="lost", lost_reason="competitor", grade="F", closed_at=at(48)),
            # not counted: created in October, joined another lead, another store's
            lead(6, created_at=datetime(2026, 10, 15, tzinfo=timezone.utc), status="won", deal_value=1),
            lead(7, created_at=DAY, status="joined", duplicate_of=str(lead(1).id)),
            lead(8, store="BJ-CHAOYANG", consultant="c-bj1", created_at=DAY, first_contact_at=at(1),
                 response_seconds=3600),
        ])
        session.flush()
        for moment, who in ((NOW - timedelta(days=4), "c-sh3"), (datetime(2026, 10, 20, tzinfo=timezone.utc), "c-sh3")):
            session.add(LeadEvent(lead_id=lead(4).id, change="sla_breached", actor_id=None, at=moment,
                                  details={"consultant_id": who}))
        session.add_all([SourceCost(store_code="SH-PUDONG", source="autohome", month="2026-11", amount=3_000_000,
                                    currency="CNY", updated_at=NOW),
                         SourceCost(store_code="SH-PUDONG", source="autohome", month="2026-10", amount=9_999,
                                    currency="CNY", updated_at=NOW),
                         SourceCost(store_code="BJ-CHAOYANG", source="autohome", month="2026-11", amount=7_777,
                                    currency="CNY", updated_at=NOW)])
        session.commit()
    return sessions


def report(data, name: str, actor: Actor = SH_MANAGER, **params):
    with data() as session:
        params = {key: value for key, value in {**RANGE, **params}.items() if value is not None}
        answer = getattr(analytics, name)(session, analytics.scope_of(session, actor, params, NOW))
    return schema(REPORTS[name]).dump(answer)  # as the RPC answers


def test_the_funnel_counts_rates_stages_and_reasons(data):
    funnel = report(data, "funnel")
    assert funnel["counts"] == {"leads": 5, "contacted": 4, "appointment": 2, "visited": 1, "showed": 1,
                                "test_drive": 1, "won": 1, "lost": 1, "loss_pending": 1, "stalled": 1}
    assert funnel["rates"] == {"contact_rate": 0.8, "appointment_rate": 0.5, "show_rate": 0.5,
                               "test_drive_rate": 0.2, "close_rate": 0.2, "lost_rate": 0.4}
    assert [(s["stage"], s["reached"], s["current"], s["conversion"], s["median_hours"]) for s in funnel["stages"]] == [
        ("initial_contact", 5, 2, 0.4, 1.5), ("needs_confirmed", 2, 1, 0.5, 24.0),
        ("proposal", 1, 0, 1.0, 24.0), ("negotiation", 1, 0, 1.0, 24.0), ("won", 1, 0, None, None)]
    assert funnel["lost_reasons"] == [{"key": "competitor", "count": 1}, {"key": "price", "count": 1}]
    assert funnel["scope"] == {"from": "2026-11-01", "to": "2026-11-30", "timezone": "Asia/Shanghai",
                               "created_from": "2026-10-31T16:00:00+00:00",
                               "created_to": "2026-11-30T16:00:00+00:00"}


def test_sources_with_their_cost_per_lead_and_per_sale(data):
    rows = report(data, "sources")["rows"]
    assert rows == [
        {"source": "autohome", "channel": "third_party", "leads": 4, "contacted": 3, "contact_rate": 0.75,
         "test_drive": 1, "test_drive_rate": 0.25, "won": 1, "win_rate": 0.25, "median_response_minutes": 10.0,
         "revenue": 20_000_000, "cost": 3_000_000, "cost_per_lead": 750_000, "cost_per_sale": 3_000_000},
        {"source": "walk-in", "channel": "walk_in", "leads": 1, "contacted": 1, "contact_rate": 1.0,
         "test_drive": 0, "test_drive_rate": 0.0, "won": 0, "win_rate": 0.0, "median_response_minutes": 0.5,
         "revenue": 0, "cost": None, "cost_per_lead": None, "cost_per_sale": None}]
    # ten days of a thirty-day month cost a third of it
    [autohome] = [row for row in report(data, "sources", **{"from": "2026-11-01", "to": "2026-11-10"})["rows"]
                  if row["source"] == "autohome"]
    assert autohome["cost"] == 1_000_000


def test_consultants_ranked_in_their_store_with_breaches(data):
    rows = {row["consultant_id"]: row for row in report(data, "consultants")["rows"]}
    assert set(rows) == {"c-sh1", "c-sh2", "c-sh3"}
    assert rows["c-sh1"] == {"consultant_id": "c-sh1", "name": "顾问一", "store_code": "SH-PUDONG", "leads": 3,
                             "median_response_minutes": 10.0, "sla_breaches": 0, "appointments": 2, "visits": 1,
                             "test_drives": 1, "wins": 1, "revenue": 20_000_000, "rank": 1}
    assert (rows["c-sh2"]["leads"], rows["c-sh2"]["median_response_minutes"], rows["c-sh2"]["rank"]) == (2, 0.5, 2)
    assert (rows["c-sh3"]["leads"], rows["c-sh3"]["sla_breaches"], rows["c-sh3"]["rank"]) == (0, 1, 2)
    assert [row["consultant_id"] for row in report(data, "consultants", team_id="t-2")["rows"]] == ["c-sh3"]


def test_response_times_overall_and_per_consultant(data):
    answer = report(data, "response_times")
    assert [bucket["count"] for bucket in answer["buckets"]] == [1, 1, 1, 0, 0, 1, 0, 0]
    assert (answer["contacted"], answer["waiting"], answer["under_5_share"], answer["median_minutes"]) == (
        4, 1, 0.5, 6.5)
    assert answer["per"] == "consultant"
    assert [(g["key"], g["name"], g["counts"], g["contacted"], g["under_5_share"], g["median_minutes"])
            for g in answer["groups"]] == [
        ("c-sh1", "顾问一", [0, 1, 1, 0, 0, 1, 0, 0], 3, 0.3333, 10.0),
        ("c-sh2", "顾问二", [1, 0, 0, 0, 0, 0, 0, 0], 1, 1.0, 0.5)]
    group = report(data, "response_times", actor=ADMIN, store_code=None)
    assert group["per"] == "store" and [g["key"] for g in group["groups"]] == ["SH-PUDONG", "BJ-CHAOYANG"]


def test_demand_by_model_and_by_budget_per_day(data):
    demand = report(data, "demand")
    assert demand["interval"] == "day" and len(demand["periods"]) == 30 and demand["periods"][9] == "2026-11-10"
    assert [(s["key"], s["total"]) for s in demand["series"]] == [
        ("BYD Han", 2), ("BYD Seal", 1), ("Tesla Model Y", 1), ("unknown", 1)]
    assert demand["series"][0]["counts"][9] == 2 and demand["series"][1]["counts"][24] == 1
    assert (demand["series"][2]["brand"], demand["series"][2]["model"]) == ("Tesla", "Model Y")  # the drill-down's
    bands = {s["key"]: s["total"] for s in report(data, "demand", by="budget_band")["series"]}
    assert bands == {"200k_300k": 1, "under_100k": 1, "unknown": 3}
    assert {s["key"]: s["total"] for s in report(data, "demand", by="fuel_type")["series"]} == {"EV": 2,
                                                                                                "unknown": 3}
    assert [s["key"] for s in report(data, "demand", by="brand", brand="BYD")["series"]] == ["BYD"]


@pytest.mark.parametrize("metric", METRICS)
def test_every_figure_is_the_leads_its_drill_down_lists(data, metric):
    """The figure counted and the leads listed come from one condition."""
    with data() as session:
        scope = analytics.scope_of(session, SH_MANAGER, RANGE, NOW)
        counted = session.execute(analytics.select(analytics.counted(metric, NOW)).where(*scope.cohort)).scalar()
        listed = handlers.list_leads(session, SH_MANAGER, query(
            metric=metric, store_code="SH-PUDONG", created_from=scope.start.isoformat(),
            created_to=scope.end.isoformat(), limit=200), NOW)
    assert len(listed["items"]) == counted


def test_a_consultant_sees_their_own_figures_only(data):
    assert report(data, "funnel", actor=SH_CONSULTANT)["counts"]["leads"] == 3
    assert [row["consultant_id"] for row in report(data, "consultants", actor=SH_CONSULTANT)["rows"]] == ["c-sh1"]


def test_bad_scopes_are_refused(data):
    with data() as session:
        with pytest.raises(InvalidQuery) as exc:
            analytics.scope_of(session, SH_MANAGER, {"from": "2026-11-30", "to": "2026-11-01"}, NOW)
        assert "from" in exc.value.errors
        with pytest.raises(InvalidQuery):
            analytics.scope_of(session, SH_MANAGER, {"from": "2020-01-01", "to": "2026-11-01"}, NOW)
        with pytest.raises(InvalidQuery):
            analytics.scope_of(session, SH_MANAGER, {"by": "colour"}, NOW)
        with pytest.raises(LeadNotFound):
            analytics.scope_of(session, SH_MANAGER, {"store_code": "BJ-CHAOYANG"}, NOW)
        with pytest.raises(NotAllowed):
            analytics.scope_of(session, Actor(kind="api_key", platform="x", stores=("SH-PUDONG",)), {}, NOW)
        default = analytics.scope_of(session, SH_MANAGER, {}, NOW)
    assert (default.from_, default.to) == (date(2026, 11, 1), date(2026, 11, 30))  # Shanghai's today


def test_source_costs_are_managers_and_null_removes_one(data):
    with data() as session:
        with pytest.raises(NotAllowed):
            analytics.save_source_cost(session, SH_CONSULTANT, {"store_code": "SH-PUDONG", "source": "x",
                                                                "month": "2026-11", "amount": 1})
        with pytest.raises(LeadNotFound):
            analytics.save_source_cost(session, SH_MANAGER, {"store_code": "BJ-CHAOYANG", "source": "x",
                                                             "month": "2026-11", "amount": 1})
        with pytest.raises(analytics.InvalidChange) as exc:
            analytics.save_source_cost(session, SH_MANAGER, {"store_code": "SH-PUDONG", "source": "x",
                                                             "month": "2026-13", "amount": -1})
        assert set(exc.value.errors) == {"month", "amount"}
        kept = analytics.save_source_cost(session, SH_MANAGER, {"store_code": "SH-PUDONG", "source": "dongchedi",
                                                                "month": "2026-11", "amount": 500_000})
        assert (kept.amount, kept.updated_by) == (500_000, "m-sh")
        assert analytics.save_source_cost(session, SH_MANAGER, {"store_code": "SH-PUDONG", "source": "autohome",
                                                                "month": "2026-11", "amount": None}) is None
        left = [(c.source, c.month) for c in analytics.list_source_costs(session, SH_MANAGER, "SH-PUDONG")]
    assert left == [("dongchedi", "2026-11"), ("autohome", "2026-10")]


@given(first=st.dates(date(2024, 1, 1), date(2027, 12, 31)), length=st.integers(0, 3 * 366 - 1),
       zone=st.sampled_from(["Asia/Shanghai", "America/New_York", "Europe/London", "Pacific/Auckland"]))
def test_periods_cut_the_range_without_gap_or_overlap(first, length, zone):
    last = first + timedelta(days=length)
    start, end = analytics.midnight(first, zone), analytics.midnight(last + timedelta(days=1), zone)
    scope = analytics.Scope(first, last, zone, start, end, NOW, ("S",), [], {})
    interval, cuts = analytics.periods(scope)
    assert interval == ("day" if length < 31 else "week" if length < 182 else "month")
    assert cuts[0][1] == start and cuts[-1][2] == end
    assert all(a[2] == b[1] for a, b in zip(cuts, cuts[1:])) and all(c[1] < c[2] for c in cuts)
    assert len({label for label, _, _ in cuts}) == len(cuts) <= (31 if interval == "day" else 28 if
                                                                 interval == "week" else 38)


def test_a_call_whose_news_comes_after_the_loss_still_counts_as_contact(sessions):
    """The record's event can reach the leads service after the consultant
    already asked to lose the lead: contacted for the funnel, status kept."""
    with sessions() as session:
        late = lead(1, status="loss_pending", created_at=DAY, assigned_at=DAY)
        waiting = lead(2, created_at=DAY, assigned_at=DAY)
        session.add_all([late, waiting])
        session.flush()
        assert changes.first_contact(session, late, "c-sh1", "followup_record", at=at(0.5)) is False
        assert (late.status, late.first_contact_at, late.owner_response_seconds) == ("loss_pending", at(0.5), 1800)
        assert changes.first_contact(session, waiting, "c-sh1", "followup_record", at=at(1)) is True
        assert (waiting.status, waiting.response_seconds) == ("contacted", 3600)
