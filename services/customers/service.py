"""The customers service: people, deduplicated on phone and email."""
from dealerflow.contracts import LEAD_RECEIVED, LeadReceived, schema
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, event_handler
from dealerflow.outbox import Relay
from services.customers import handlers
from services.customers.models import OutboxMessage, ProcessedMessage


class CustomersService(Reliable):
    name = "customers"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @event_handler("leads", LEAD_RECEIVED)
    def handle_lead_received(self, payload):
        handlers.match_lead_customer(self.db, schema(LeadReceived).load(payload))
