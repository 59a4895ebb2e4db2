"""The notifications service: delivery to people (for now the in-app inbox)."""

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    FOLLOWUP_OVERDUE,
    FOLLOWUP_REMINDER,
    LEAD_ASSIGNED,
    LEAD_CHANGED,
    CustomerErased,
    FollowupReminder,
    LeadAssigned,
    LeadChanged,
    schema,
)
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, event_handler, rpc
from dealerflow.outbox import Relay
from services.notifications import handlers
from services.notifications.models import OutboxMessage, ProcessedMessage
from services.notifications.schemas import InboxMessageOut


class NotificationsService(Reliable):
    name = "notifications"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.notify_new_lead(self.db, schema(LeadAssigned).load(payload))

    @event_handler("leads", LEAD_CHANGED)
    def handle_lead_changed(self, payload):
        handlers.notify_change(self.db, schema(LeadChanged).load(payload))

    @event_handler("followups", FOLLOWUP_REMINDER)
    def handle_followup_reminder(self, payload):
        handlers.notify_task(self.db, FOLLOWUP_REMINDER, schema(FollowupReminder).load(payload))

    @event_handler("followups", FOLLOWUP_OVERDUE)
    def handle_followup_overdue(self, payload):
        handlers.notify_task(self.db, FOLLOWUP_OVERDUE, schema(FollowupReminder).load(payload))

    @event_handler("customers", CUSTOMER_ERASED)
    def handle_customer_erased(self, payload):
        handlers.forget_customer(self.db, schema(CustomerErased).load(payload))

    @rpc
    def list_inbox(self, actor, lead_id=None):
        return schema(InboxMessageOut, many=True).dump(
            handlers.list_inbox(self.db, Actor.load(actor), lead_id))
