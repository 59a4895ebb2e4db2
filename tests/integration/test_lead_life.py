"""A lead's life in the leads service, on SQLite and PostgreSQL: graded and
routed on intake (rules, strategies, eligibility), pooled when nobody can
take it, claimed, re-routed when its SLA runs out (once, with two replicas
of the timer), moved through the stages, lost with a manager's approval,
reopened, won, discussed, reassigned; and a second inquiry of the same
customer joining the open lead."""
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from dealerflow.actor import Actor
from dealerflow.contracts import LeadSubmitted, StoreSaved, UserSaved, schema
from dealerflow.db import utcnow
from services.leads import assignment, changes, handlers, policies, scoring, training
from services.leads.exceptions import InvalidChange, LeadConflict, LeadNotFound, NotAllowed
from services.leads.models import Assignment, Lead, LeadEvent, OutboxMessage
from services.leads.scoping import visible_leads
from tests.conftest import make_lead
from tests.support.replicas import race

pytestmark = pytest.mark.integration

STORE = "SH-PUDONG"
MANAGER = Actor(kind="user", stores=(STORE,), user_id="m-1", role="manager")


def consultant(user_id: str) -> Actor:
    return Actor(kind="user", stores=(STORE,), user_id=user_id, role="consultant")


def event(schema_cls, **fields) -> dict:
    """An event as the service's handler receives it: loaded with its schema."""
    return schema(schema_cls).load(dict(fields, event_id=str(uuid.uuid4()),
                                        occurred_at=datetime.now(timezone.utc).isoformat()))


def save_user(session, user_id: str, role: str = "consultant", revision: int = 1, **more) -> None:
    handlers.save_roster_member(session, event(
        UserSaved, **{"user_id": user_id, "username": user_id, "display_name": user_id.upper(), "role": role,
                      "stores": [STORE], "active": True, "revision": revision, **more}))


def submit(session, **overrides) -> Lead:
    lead = make_lead(**overrides)
    lead.pop("store_code")
    return handlers.accept_lead(session, schema(LeadSubmitted).load({
        "id": str(uuid.uuid4()), "platform": "p1", "api_key_id": "k1", "store_code": STORE,
        "submitted_at": utcnow().isoformat(), "format": "json", "lead": lead}))


def changes_of(session, lead_id: str) -> list[str]:
    return list(session.scalars(select(LeadEvent.change).where(LeadEvent.lead_id == lead_id)
                                .order_by(LeadEvent.at, LeadEvent.id)))


@pytest.fixture
def store(leads_db):
    """The store (open around the clock), its manager and two consultants."""
    with leads_db() as session:
        handlers.save_store(session, event(StoreSaved, code=STORE, name="Pudong", timezone="Asia/Shanghai",
                                           response_minutes=15, active=True, revision=1))
        save_user(session, "m-1", role="manager")
        save_user(session, "c-1")
        save_user(session, "c-2")
    return leads_db


def test_a_lead_is_graded_scored_and_routed_round_robin_on_intake(store):
    with store() as session:
        first, second, third = (submit(session) for _ in range(3))
        assert first.grade == "H" and first.score is not None and first.score_method == "rules"
        assert [first.consultant_id, second.consultant_id, third.consultant_id] == ["c-1", "c-2", "c-1"]
        assert first.status == "assigned" and first.first_contact_due_at == first.assigned_at + timedelta(
            minutes=15)
        assert first.first_contact_warn_at == first.assigned_at + timedelta(minutes=12)
        received = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.event_type == "lead_received"))
        # each lead's first owner comes with its lead_received: no lead_assigned of its own
        assert [event["consultant_id"] for event in received] == ["c-1", "c-2", "c-1"]
        assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.event_type == "lead_assigned")) is None
        assert changes_of(session, first.id) == ["graded"]


def test_a_deactivated_or_absent_consultant_never_gets_a_lead(store):
    with store() as session:
        save_user(session, "c-2", revision=2, active=False)
        today = utcnow().astimezone(timezone(timedelta(hours=8))).date().isoformat()
        save_user(session, "c-1", revision=2, leave=[{"start": today, "end": today}])
        lead = submit(session)
        assert lead.status == "pooled" and lead.consultant_id is None
        pooled = session.scalar(select(LeadEvent).where(LeadEvent.lead_id == lead.id,
                                                        LeadEvent.change == "pooled"))
        assert pooled.details["ineligible"] == {"c-1": "on_leave", "c-2": "inactive"}
        told = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.event_type == "lead_changed"))
        assert told["change"] == "pooled" and told["tell"] == ["m-1"]


def test_pool_claims_respect_the_store_limit_and_the_first_claim_wins(store):
    with store() as session:
        policies.save_policy(session, MANAGER, STORE, {"daily_claim_limit": 1})
        rules = {"store_code": STORE, "priority": 1, "name": "all to the pool", "target": {"kind": "pool"},
                 "strategy": "round_robin"}
        policies.save_rule(session, MANAGER, None, rules)
        one, two = submit(session), submit(session)
        assert one.status == two.status == "pooled"
        # a consultant sees the pool of their store, and claims from it
        visible = set(session.scalars(select(Lead.id).where(visible_leads(consultant("c-1")))))
        assert {one.id, two.id} <= visible
        claimed = assignment.claim(session, consultant("c-1"), one.id)
        assert claimed.consultant_id == "c-1" and claimed.status == "assigned" and claimed.first_contact_due_at
        with pytest.raises(LeadConflict):
            assignment.claim(session, consultant("c-2"), one.id)
        with pytest.raises(InvalidChange):  # c-1's one claim a day is used
            assignment.claim(session, consultant("c-1"), two.id)
        reasons = session.scalars(select(Assignment.reason).where(Assignment.lead_id == one.id)).all()
        assert reasons == ["claim"]


def test_rules_send_leads_by_source_wildcard_to_a_team_least_loaded(store):
    with store() as session:
        save_user(session, "c-3", team_id="t-ev")
        save_user(session, "c-4", team_id="t-ev")
        policies.save_rule(session, MANAGER, None, {
            "store_code": STORE, "priority": 5, "name": "Autohome to the EV team",
            "conditions": {"sources": ["auto*"], "channels": ["third_party"]},
            "target": {"kind": "team", "team_id": "t-ev"}, "strategy": "least_loaded"})
        routed = [submit(session).consultant_id for _ in range(4)]
        assert sorted(routed) == ["c-3", "c-3", "c-4", "c-4"]
        other = submit(session, source="dongchedi")
        assert other.consultant_id in ("c-1", "c-2")
        rule_ids = set(session.scalars(select(Assignment.rule_id).where(Assignment.rule_id.is_not(None))))
        assert len(rule_ids) == 1


def test_a_second_inquiry_joins_the_open_lead_and_its_owner_is_told(store):
    with store() as session:
        first = submit(session)
        again = make_lead()
        again["customer"] = dict(first.customer, phone="+86 " + first.customer["phone"])
        inquiry = submit(session, customer=again["customer"], comments="还想问问置换")
        assert inquiry.status == "joined" and inquiry.duplicate_of == first.id and inquiry.consultant_id is None
        assert changes_of(session, first.id) == ["graded", "inquiry"]
        platform = Actor(kind="api_key", stores=(STORE,), platform="p1")
        assert handlers.get_lead(session, inquiry.id, platform).id == first.id
        listed = handlers.list_leads(session, MANAGER, {"sort": "-created_at", "limit": 50})
        assert [lead.id for lead in listed["items"]] == [first.id]


def test_a_breached_deadline_is_rerouted_once_by_two_timers_then_escalated(store):
    with store() as session:
        policies.save_policy(session, MANAGER, STORE, {"max_reroutes": 1})
        lead = submit(session)
        owner, due = lead.consultant_id, lead.first_contact_due_at
    race(store, lambda session: assignment.check_deadlines(session, due + timedelta(seconds=1)))
    with store() as session:
        lead = session.get(Lead, lead.id)
        reasons = session.scalars(select(Assignment.reason).where(Assignment.lead_id == lead.id)
                                  .order_by(Assignment.id)).all()
        assert reasons == ["routing", "reroute"], "each breach re-routed exactly once"
        assert lead.consultant_id not in (owner, None) and lead.reroutes == 1
        assert changes_of(session, lead.id).count("sla_breached") == 1
        # the second breach: out of re-routes, the manager has it and no clock runs
        assignment.check_deadlines(session, lead.first_contact_due_at + timedelta(seconds=1))
        session.refresh(lead)
        assert lead.consultant_id == "m-1" and lead.first_contact_due_at is None
        assert session.scalars(select(Assignment.reason).where(Assignment.lead_id == lead.id)
                               .order_by(Assignment.id.desc())).first() == "escalation"


def test_the_warning_comes_before_the_deadline_once(store):
    with store() as session:
        lead = submit(session)
        warn = lead.first_contact_warn_at
        assert assignment.check_deadlines(session, warn + timedelta(seconds=1)) == {"warned": 1, "rerouted": 0}
        assert assignment.check_deadlines(session, warn + timedelta(seconds=2)) == {"warned": 0, "rerouted": 0}
        warned = session.scalar(select(OutboxMessage.payload).where(OutboxMessage.event_type == "lead_changed"))
        assert warned["change"] == "sla_warning" and warned["tell"] == [lead.consultant_id]


def test_stages_loss_with_approval_reopen_and_win(store):
    with store() as session:
        lead = submit(session)
        owner = consultant(lead.consultant_id)
        changes.change_stage(session, owner, lead.id, "proposal", None)
        assert lead.status == "contacted" and lead.first_contact_at is not None
        with pytest.raises(InvalidChange):  # back two stages
            changes.change_stage(session, owner, lead.id, "initial_contact", "wrong")
        with pytest.raises(InvalidChange):  # back one needs a reason
            changes.change_stage(session, owner, lead.id, "needs_confirmed", None)
        changes.lose(session, owner, lead.id, "bought_competitor", "买了特斯拉")
        assert lead.status == "loss_pending" and lead.grade == "H"
        with pytest.raises(NotAllowed):
            changes.decide_loss(session, owner, lead.id, True, None)
        changes.decide_loss(session, MANAGER, lead.id, True, None)
        assert lead.status == "lost" and lead.grade == "F" and lead.closed_at
        changes.reopen(session, owner, lead.id, "客户回来了")
        assert lead.status == "contacted" and lead.grade == "H" and lead.stage == "proposal"
        changes.win(session, owner, lead.id, {"deal_value": 23_980_000, "currency": "CNY",
                                              "vehicle": {"brand": "BYD", "model": "Han EV"}})
        assert (lead.status, lead.grade, lead.stage) == ("won", "O", "after_sales")
        assert changes_of(session, lead.id) == ["graded", "first_contact", "stage_changed", "loss_requested",
                                                "lost", "reopened", "won"]


def test_a_refused_loss_goes_back_and_a_grade_change_needs_a_reason(store):
    with store() as session:
        lead = submit(session)
        owner = consultant(lead.consultant_id)
        with pytest.raises(InvalidChange):
            changes.change_grade(session, owner, lead.id, "B", "")
        changes.change_grade(session, owner, lead.id, "B", "预算不够，下个月再看")
        changes.lose(session, owner, lead.id, "no_budget", None)
        changes.decide_loss(session, MANAGER, lead.id, False, "再跟一次")
        assert lead.status == "assigned" and lead.lost_reason is None and lead.grade == "B"


def test_a_mention_lets_a_colleague_see_the_lead_and_strangers_are_refused(store):
    with store() as session:
        lead = submit(session)
        owner, colleague = lead.consultant_id, "c-2" if lead.consultant_id == "c-1" else "c-1"
        assert session.get(Lead, lead.id) not in session.scalars(
            select(Lead).where(visible_leads(consultant(colleague)))).all()
        with pytest.raises(InvalidChange):
            changes.comment(session, consultant(owner), lead.id, "@nobody", ["u-elsewhere"])
        changes.comment(session, consultant(owner), lead.id, "置换价格你怎么看？", [colleague, "m-1"])
        assert lead.id in session.scalars(select(Lead.id).where(visible_leads(consultant(colleague)))).all()
        mine = handlers.list_leads(session, consultant(colleague), {"sort": "-created_at", "limit": 50})
        assert lead.id not in [item.id for item in mine["items"]], "their list is their own leads"
        told = session.scalars(select(OutboxMessage.payload).where(OutboxMessage.event_type == "lead_changed")
                               ).all()[-1]
        assert told["change"] == "comment" and told["tell"] == sorted([colleague, "m-1"])


def test_a_manager_hands_over_every_open_lead_of_a_consultant(store):
    with store() as session:
        leads = [submit(session) for _ in range(4)]
        leaving = leads[0].consultant_id
        stay = "c-2" if leaving == "c-1" else "c-1"
        with pytest.raises(NotAllowed):
            assignment.assign_many(session, consultant(stay), None, leaving, stay, None)
        result = assignment.assign_many(session, MANAGER, None, leaving, stay, "离职交接")
        assert len(result["moved"]) == 2 and result["refused"] == {}
        assert set(session.scalars(select(Lead.consultant_id))) == {stay}
        notes = session.scalars(select(Assignment.note).where(Assignment.reason == "manual")).all()
        assert notes == ["离职交接", "离职交接"]
        with pytest.raises(LeadNotFound):
            assignment.assign(session, MANAGER, "no-such-lead", stay, None)


def test_only_managers_set_policies_and_the_group_is_the_admins(store):
    with store() as session:
        with pytest.raises(NotAllowed):
            policies.save_policy(session, consultant("c-1"), STORE, {"max_reroutes": 0})
        with pytest.raises(NotAllowed):
            policies.save_policy(session, MANAGER, policies.GROUP, {"max_reroutes": 0})
        with pytest.raises(InvalidChange):
            policies.save_policy(session, MANAGER, STORE, {"response_minutes": {"Z": 5}})
        saved = policies.save_policy(session, MANAGER, STORE, {"response_minutes": {"H": 5}})
        assert saved.response_minutes == {"H": 5} and not saved.inherited
        lead = submit(session)
        assert lead.first_contact_due_at == lead.assigned_at + timedelta(minutes=5)
        assert session.scalar(select(func.count()).select_from(Lead)) == 1


def test_the_score_is_learned_once_the_group_has_enough_won_and_lost_leads(store):
    with store() as session:
        policies.save_policy(session, MANAGER, STORE, {"duplicate_window_days": 0})
        with pytest.raises(NotAllowed):
            training.rebuild(session, consultant("c-1"))
        thin = training.rebuild(session, MANAGER)
        assert thin["used"] is False and thin["won"] == thin["lost"] == 0
        for n in range(2 * scoring.MIN_HISTORY):
            source = "referral-site" if n % 2 else "cold-list"  # referrals buy, cold lists do not
            lead = submit(session, source=source)
            if n % 2:
                changes.win(session, MANAGER, lead.id, {})
            else:
                changes.lose(session, MANAGER, lead.id, "not_interested", None)
        learned = training.rebuild(session, MANAGER)
        assert learned["used"] is True and learned["won"] == learned["lost"] == scoring.MIN_HISTORY
        warm, cold = submit(session, source="referral-site"), submit(session, source="cold-list")
        assert warm.score_method == cold.score_method == "model"
        assert warm.score > cold.score
        assert any(reason["factor"] == "source" for reason in warm.score_reasons)
        assert training.rebuild_if_stale(session) is False  # rebuilt a moment ago
