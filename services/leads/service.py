"""The leads service: intake from every channel, grading and scoring,
routing and the response SLA, the claim pool, stages, discussion."""
from kombu import Queue
from marshmallow import ValidationError
from nameko.timer import timer

from dealerflow.actor import Actor
from dealerflow.analytics_contracts import (
    ConsultantsOut,
    DemandOut,
    FunnelOut,
    ResponseTimesOut,
    SourceCostOut,
    SourcesOut,
)
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    FOLLOWUP_RECORDED,
    INTAKE_QUEUE,
    STORE_SAVED,
    TEST_DRIVE_BOOKED,
    TEST_DRIVE_SHOWN,
    USER_SAVED,
    CustomerErased,
    FollowupRecorded,
    LeadQuery,
    LeadSubmitted,
    StoreSaved,
    TestDriveBooked,
    TestDriveChanged,
    UserSaved,
    schema,
)
from dealerflow.db import Database
from dealerflow.lead_contracts import (
    AssignIn,
    CommentIn,
    DecisionIn,
    GradeIn,
    LossIn,
    PolicyOut,
    ReasonIn,
    ReassignIn,
    RuleOut,
    StageIn,
    WinIn,
)
from dealerflow.messaging import Correlation, Reliable, batch_consume, event_handler, rpc
from dealerflow.outbox import Relay
from services.leads import analytics, assignment, changes, handlers, policies, training
from services.leads.exceptions import InvalidChange, InvalidQuery, LeadConflict, LeadNotFound, NotAllowed
from services.leads.models import OutboxMessage, ProcessedMessage
from services.leads.schemas import LeadDetail, LeadPage, LeadPlatformView

PUBLIC = (LeadNotFound, InvalidChange, NotAllowed, LeadConflict)
# each report: its function in analytics.py and the schema it answers with
REPORTS = {"funnel": FunnelOut, "sources": SourcesOut, "demand": DemandOut, "consultants": ConsultantsOut,
           "response_times": ResponseTimesOut}


def load_query(query: dict) -> dict:
    try:
        return schema(LeadQuery).load(query)
    except ValidationError as exc:
        raise InvalidQuery(exc.messages)


def load(schema_cls, data) -> dict:
    try:
        return schema(schema_cls).load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidChange("The input is not valid; see errors.", exc.messages)


def detail(session, lead, actor) -> dict:
    return schema(LeadDetail).dump(handlers.get_lead_detail(session, lead.id, actor))


class LeadsService(Reliable):
    name = "leads"
    # half of SERVICE_NICE (dealerflow.runner): the lead's assignment is what the consultant waits
    # for (lead_assigned on their live stream, the response clock), so on shared cores it comes
    # right after intake; customers, followups and notifications enrich the lead after, and catch up
    NICE_SHARE = 0.5
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @batch_consume(Queue(INTAKE_QUEUE, durable=True))
    def handle_lead_submitted(self, batch):
        for body in batch:
            handlers.accept_lead(self.db, schema(LeadSubmitted).load(body))

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store(self.db, schema(StoreSaved).load(payload))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_roster_member(self.db, schema(UserSaved).load(payload))

    @event_handler("followups", FOLLOWUP_RECORDED)
    def handle_followup_recorded(self, payload):
        handlers.record_followup(self.db, schema(FollowupRecorded).load(payload))

    @event_handler("followups", TEST_DRIVE_BOOKED)
    def handle_test_drive_booked(self, payload):
        handlers.record_test_drive(self.db, schema(TestDriveBooked).load(payload), "booked")

    @event_handler("followups", TEST_DRIVE_SHOWN)
    def handle_test_drive_shown(self, payload):
        handlers.record_test_drive(self.db, schema(TestDriveChanged).load(payload), "shown")

    @event_handler("customers", CUSTOMER_ERASED)
    def handle_customer_erased(self, payload):
        handlers.forget_customer(self.db, schema(CustomerErased).load(payload))

    @rpc(expected_exceptions=(LeadNotFound,))
    def get_lead(self, lead_id, actor):
        return schema(LeadPlatformView).dump(handlers.get_lead(self.db, lead_id, Actor.load(actor)))

    @rpc(expected_exceptions=(LeadNotFound,))
    def get_lead_detail(self, lead_id, actor):
        return schema(LeadDetail).dump(handlers.get_lead_detail(self.db, lead_id, Actor.load(actor)))

    @rpc(expected_exceptions=(InvalidQuery,))
    def list_leads(self, actor, query):
        return schema(LeadPage).dump(handlers.list_leads(self.db, Actor.load(actor), load_query(query)))

    # -- the funnel and the KPIs (docs/analytics.md) ----------------------------------

    @rpc(expected_exceptions=PUBLIC + (InvalidQuery,))
    def analytics(self, actor, report, query):
        """One report (``funnel``, ``sources``, ``demand``, ``consultants``,
        ``response_times``) of the scope ``query`` gives (``AnalyticsQuery``)."""
        if report not in REPORTS:
            raise InvalidQuery({"report": [f"one of {', '.join(REPORTS)}"]})
        scope = analytics.scope_of(self.db, Actor.load(actor), query)
        return schema(REPORTS[report]).dump(getattr(analytics, report)(self.db, scope))

    @rpc(expected_exceptions=PUBLIC)
    def list_source_costs(self, actor, store_code=None):
        return schema(SourceCostOut, many=True).dump(
            analytics.list_source_costs(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_source_cost(self, actor, data):
        cost = analytics.save_source_cost(self.db, Actor.load(actor), data)
        return schema(SourceCostOut).dump(cost) if cost else None

    # -- the response SLA and the scoring model ------------------------------------

    @timer(interval=1)
    def check_deadlines(self):
        """Warn before a first-contact deadline, re-route when it passed (every replica; each lead once)."""
        assignment.check_deadlines(self.db)

    @timer(interval=3600)
    def rebuild_scoring_model(self):
        """Learn the score from the group's closed leads, once a day."""
        training.rebuild_if_stale(self.db)

    # -- what staff do to a lead ---------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def change_grade(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(GradeIn, data)
        lead = changes.change_grade(self.db, actor, lead_id, data["grade"], data["reason"])
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def change_stage(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(StageIn, data)
        lead = changes.change_stage(self.db, actor, lead_id, data["stage"], data.get("reason"))
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def win_lead(self, actor, lead_id, data):
        actor = Actor.load(actor)
        return detail(self.db, changes.win(self.db, actor, lead_id, load(WinIn, data)), actor)

    @rpc(expected_exceptions=PUBLIC)
    def lose_lead(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(LossIn, data)
        lead = changes.lose(self.db, actor, lead_id, data["lost_reason"], data.get("note"))
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def decide_loss(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(DecisionIn, data)
        lead = changes.decide_loss(self.db, actor, lead_id, data["approve"], data.get("reason"))
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def reopen_lead(self, actor, lead_id, data):
        actor = Actor.load(actor)
        lead = changes.reopen(self.db, actor, lead_id, load(ReasonIn, data).get("reason"))
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def comment_lead(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(CommentIn, data)
        note = changes.comment(self.db, actor, lead_id, data["body"], data["mentions"])
        return schema(LeadDetail).dump(handlers.get_lead_detail(self.db, note.lead_id, actor))

    @rpc(expected_exceptions=PUBLIC)
    def claim_lead(self, actor, lead_id):
        actor = Actor.load(actor)
        return detail(self.db, assignment.claim(self.db, actor, lead_id), actor)

    @rpc(expected_exceptions=PUBLIC)
    def assign_lead(self, actor, lead_id, data):
        actor, data = Actor.load(actor), load(AssignIn, data)
        lead = assignment.assign(self.db, actor, lead_id, data.get("consultant_id"), data.get("reason"))
        return detail(self.db, lead, actor)

    @rpc(expected_exceptions=PUBLIC)
    def assign_leads(self, actor, data):
        data = load(ReassignIn, data)
        return assignment.assign_many(self.db, Actor.load(actor), data.get("lead_ids"),
                                      data.get("from_consultant_id"), data.get("consultant_id"),
                                      data.get("reason"))

    # -- the store's policy and routing rules, and the score's model -------------

    @rpc(expected_exceptions=PUBLIC)
    def get_policy(self, actor, store_code):
        return schema(PolicyOut).dump(policies.get_policy(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_policy(self, actor, store_code, data):
        return schema(PolicyOut).dump(policies.save_policy(self.db, Actor.load(actor), store_code,
                                                                    data))

    @rpc(expected_exceptions=PUBLIC)
    def list_rules(self, actor, store_code=None):
        return schema(RuleOut, many=True).dump(policies.list_rules(self.db, Actor.load(actor),
                                                                            store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_rule(self, actor, rule_id, data):
        return schema(RuleOut).dump(policies.save_rule(self.db, Actor.load(actor), rule_id, data))

    @rpc(expected_exceptions=PUBLIC)
    def delete_rule(self, actor, rule_id):
        policies.delete_rule(self.db, Actor.load(actor), rule_id)

    @rpc(expected_exceptions=PUBLIC)
    def rebuild_scoring(self, actor):
        return training.rebuild(self.db, Actor.load(actor))
