"""The leads service: intake from every channel, assignment, the lead's life."""
from kombu import Queue
from marshmallow import ValidationError

from dealerflow.actor import Actor
from dealerflow.contracts import (
    CUSTOMER_ERASED,
    CUSTOMER_MATCHED,
    CUSTOMERS_MERGED,
    INTAKE_QUEUE,
    STORE_SAVED,
    USER_SAVED,
    CustomerErased,
    CustomerMatched,
    CustomersMerged,
    LeadQuery,
    LeadSubmitted,
    StoreSaved,
    UserSaved,
    schema,
)
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, consume, event_handler, rpc
from dealerflow.outbox import Relay
from services.leads import handlers
from services.leads.exceptions import InvalidQuery, LeadNotFound
from services.leads.models import OutboxMessage, ProcessedMessage
from services.leads.schemas import LeadDetail, LeadPage, LeadPlatformView


def load_query(query: dict) -> dict:
    try:
        return schema(LeadQuery).load(query)
    except ValidationError as exc:
        raise InvalidQuery(exc.messages)


class LeadsService(Reliable):
    name = "leads"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()

    @consume(Queue(INTAKE_QUEUE, durable=True))
    def handle_lead_submitted(self, body):
        handlers.accept_lead(self.db, schema(LeadSubmitted).load(body))

    @event_handler("gateway", STORE_SAVED)
    def handle_store_saved(self, payload):
        handlers.save_store(self.db, schema(StoreSaved).load(payload))

    @event_handler("gateway", USER_SAVED)
    def handle_user_saved(self, payload):
        handlers.save_roster_member(self.db, schema(UserSaved).load(payload))

    @event_handler("customers", CUSTOMER_MATCHED)
    def handle_customer_matched(self, payload):
        handlers.link_customer(self.db, schema(CustomerMatched).load(payload))

    @event_handler("customers", CUSTOMERS_MERGED)
    def handle_customers_merged(self, payload):
        handlers.repoint_customer(self.db, schema(CustomersMerged).load(payload))

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
