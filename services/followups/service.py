"""The followups service: what must be done for a lead and by when
(tasks, reminders, escalations, the cadence), and what was done (records)."""
from marshmallow import ValidationError
from nameko.timer import timer

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    LEAD_ASSIGNED,
    LEAD_CHANGED,
    STORE_SAVED,
    USER_SAVED,
    CustomerErased,
    LeadAssigned,
    LeadChanged,
    StoreSaved,
    UserSaved,
    schema,
)
from dealerflow.db import Database
from dealerflow.followup_contracts import (
    CadenceIn,
    CadenceOut,
    CompletionIn,
    HintOut,
    RecordIn,
    RecordOut,
    RescheduleIn,
    ScriptOut,
    TaskIn,
    TaskOut,
)
from dealerflow.messaging import Correlation, Reliable, event_handler, rpc
from dealerflow.outbox import Relay
from services.followups import guidance, handlers, records, tasks
from services.followups.exceptions import InvalidFollowup, NotAllowed, TaskNotFound
from services.followups.models import OutboxMessage, ProcessedMessage

PUBLIC = (TaskNotFound, InvalidFollowup, NotAllowed)


def load(schema_cls, data) -> dict:
    try:
        return schema(schema_cls).load(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        raise InvalidFollowup("The input is not valid; see errors.", exc.messages)


class FollowupsService(Reliable):
    name = "followups"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store_calendar(self.db, schema(StoreSaved).load(payload))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_managers(self.db, schema(UserSaved).load(payload))

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.schedule_first_contact(self.db, schema(LeadAssigned).load(payload))

    @event_handler("leads", LEAD_CHANGED)
    def handle_lead_changed(self, payload):
        handlers.follow_lead_change(self.db, schema(LeadChanged).load(payload))

    @event_handler("customers", CUSTOMER_ERASED)
    def handle_customer_erased(self, payload):
        handlers.forget_customer(self.db, schema(CustomerErased).load(payload))

    @timer(interval=0.5)
    def fire_reminders(self):
        """Reminders and escalations that are due (every replica; each task once)."""
        tasks.fire_due(self.db)

    @rpc
    def list_tasks(self, actor, lead_id=None, status=None):
        return schema(TaskOut, many=True).dump(handlers.list_tasks(self.db, Actor.load(actor), lead_id,
                                                                   status=status))

    @rpc(expected_exceptions=PUBLIC)
    def create_task(self, actor, data):
        data = load(TaskIn, data)
        return schema(TaskOut).dump(tasks.create(self.db, Actor.load(actor), data["lead_id"], data["kind"],
                                                 data["due_at"], data.get("note")))

    @rpc(expected_exceptions=PUBLIC)
    def complete_task(self, actor, task_id, data):
        data = load(CompletionIn, data)
        return schema(TaskOut).dump(tasks.complete(self.db, Actor.load(actor), task_id, data["outcome"],
                                                   data.get("next_due_at"), data.get("next_kind"),
                                                   data.get("note")))

    @rpc(expected_exceptions=PUBLIC)
    def reschedule_task(self, actor, task_id, data):
        return schema(TaskOut).dump(tasks.reschedule(self.db, Actor.load(actor), task_id,
                                                     load(RescheduleIn, data)["due_at"]))

    @rpc(expected_exceptions=PUBLIC)
    def add_record(self, actor, data):
        return schema(RecordOut).dump(records.add(self.db, Actor.load(actor), load(RecordIn, data)))

    @rpc(expected_exceptions=PUBLIC)
    def list_records(self, actor, lead_id):
        return schema(RecordOut, many=True).dump(records.of_lead(self.db, Actor.load(actor), lead_id))

    @rpc(expected_exceptions=PUBLIC)
    def scripts_for(self, actor, lead_id, language, values):
        return schema(ScriptOut, many=True).dump(guidance.scripts_for(self.db, Actor.load(actor), lead_id,
                                                                      language, values or {}))

    @rpc(expected_exceptions=PUBLIC)
    def hint_for(self, actor, lead_id, language, traits=()):
        return schema(HintOut).dump(guidance.hint_for(self.db, Actor.load(actor), lead_id, language,
                                                      list(traits or ())))

    @rpc(expected_exceptions=PUBLIC)
    def get_cadence(self, actor, store_code):
        return schema(CadenceOut).dump(tasks.get_policy(self.db, Actor.load(actor), store_code))

    @rpc(expected_exceptions=PUBLIC)
    def save_cadence(self, actor, store_code, data):
        return schema(CadenceOut).dump(tasks.save_policy(self.db, Actor.load(actor), store_code,
                                                         load(CadenceIn, data)))
