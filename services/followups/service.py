"""The followups service: what must be done for a lead, and by when."""

from dealerflow.actor import Actor
from dealerflow.contracts import LEAD_ASSIGNED, STORE_SAVED, LeadAssigned, StoreSaved, schema
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, event_handler, rpc
from dealerflow.outbox import Relay
from services.followups import handlers
from services.followups.models import OutboxMessage, ProcessedMessage
from services.followups.schemas import TaskOut


class FollowupsService(Reliable):
    name = "followups"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store_calendar(self.db, schema(StoreSaved).load(payload))

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.schedule_first_contact(self.db, schema(LeadAssigned).load(payload))

    @rpc
    def list_tasks(self, actor, lead_id=None):
        return schema(TaskOut, many=True).dump(handlers.list_tasks(self.db, Actor.load(actor), lead_id))
