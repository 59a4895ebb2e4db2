"""The leads service: intake from every channel, assignment, the lead's life."""
from kombu import Queue

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_MATCHED,
    INTAKE_QUEUE,
    USER_SAVED,
    CustomerMatched,
    LeadSubmitted,
    UserSaved,
    schema,
)
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, consume, event_handler, rpc
from dealerflow.outbox import Relay
from services.leads import handlers
from services.leads.exceptions import LeadNotFound
from services.leads.models import OutboxMessage, ProcessedMessage
from services.leads.schemas import LeadPlatformView


class LeadsService(Reliable):
    name = "leads"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @consume(Queue(INTAKE_QUEUE, durable=True))
    def handle_lead_submitted(self, body):
        handlers.accept_lead(self.db, schema(LeadSubmitted).load(body))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_roster_member(self.db, schema(UserSaved).load(payload))

    @event_handler("customers", CUSTOMER_MATCHED)
    def handle_customer_matched(self, payload):
        handlers.link_customer(self.db, schema(CustomerMatched).load(payload))

    @rpc(expected_exceptions=(LeadNotFound,))
    def get_lead(self, lead_id, actor):
        return schema(LeadPlatformView).dump(handlers.get_lead(self.db, lead_id, Actor.load(actor)))
