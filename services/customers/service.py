"""The customers service: people, deduplicated on phone and email, with
their profile, timeline and derived traits; search, merge, import, and
personal data on request. Its RPC contract: ``dealerflow.customer_contracts``."""
import os
import socket

from nameko.timer import timer

from dealerflow.actor import Actor
from dealerflow.contracts import (
    FOLLOWUP_RECORDED,
    LEAD_ASSIGNED,
    LEAD_CHANGED,
    LEAD_RECEIVED,
    FollowupRecorded,
    LeadAssigned,
    LeadChanged,
    LeadReceived,
    schema,
)
from dealerflow.customer_contracts import (
    CustomerExport,
    CustomerOut,
    CustomerPage,
    DuplicatePage,
    ImportCommit,
    ImportMapping,
    ImportOut,
    MergeIn,
    MergeOut,
    MergePage,
    PageQuery,
    TimelinePage,
    TraitDecision,
)
from dealerflow.db import Database
from dealerflow.messaging import Correlation, Reliable, batch_event_handler, event_handler, rpc
from dealerflow.outbox import Relay
from services.customers import (
    behaviours,
    handlers,
    imports,
    merging,
    privacy,
    profiles,
    search,
    timeline,
)
from services.customers.exceptions import (
    ContactTaken,
    CustomerNotFound,
    ImportNotReady,
    InvalidCustomer,
    NotAllowed,
    StaleRevision,
)
from services.customers.inputs import load
from services.customers.models import OutboxMessage, ProcessedMessage

PUBLIC = (CustomerNotFound, InvalidCustomer, NotAllowed, ContactTaken, StaleRevision, ImportNotReady)


class CustomersService(Reliable):
    name = "customers"
    relay = Relay(name, OutboxMessage, ProcessedMessage)
    db = Database(relay)
    correlation = Correlation()
    worker_name = f"{socket.gethostname()}:{os.getpid()}"

    @batch_event_handler("leads", LEAD_RECEIVED)
    def handle_lead_received(self, batch):
        for payload in batch:
            handlers.match_lead_customer(self.db, schema(LeadReceived).load(payload))

    @event_handler("leads", LEAD_ASSIGNED)
    def handle_lead_assigned(self, payload):
        handlers.lead_assigned(self.db, schema(LeadAssigned).load(payload))

    @event_handler("leads", LEAD_CHANGED)
    def handle_lead_changed(self, payload):
        handlers.lead_changed(self.db, schema(LeadChanged).load(payload))

    @event_handler("followups", FOLLOWUP_RECORDED)
    def handle_followup_recorded(self, payload):
        handlers.followup_recorded(self.db, schema(FollowupRecorded).load(payload))

    @timer(interval=1)
    def advance_imports(self):
        """Dry runs and imports waiting, one at a time per replica, under a lease."""
        while imports.advance(self.db, self.worker_name):
            pass

    # -- profiles and search ------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def search_customers(self, actor, query):
        return schema(CustomerPage).dump(search.search_customers(self.db, Actor.load(actor), query))

    @rpc(expected_exceptions=PUBLIC)
    def get_customer(self, actor, customer_id, language="en"):
        return schema(CustomerOut).dump(profiles.profile(self.db, Actor.load(actor), customer_id, language))

    @rpc(expected_exceptions=PUBLIC)
    def get_lead_customer(self, actor, lead_id, language="en"):
        return schema(CustomerOut).dump(profiles.lead_customer(self.db, Actor.load(actor), lead_id, language))

    @rpc(expected_exceptions=PUBLIC)
    def create_customer(self, actor, data):
        actor = Actor.load(actor)
        customer = profiles.create_customer(self.db, actor, data)
        return schema(CustomerOut).dump(profiles.profile(self.db, actor, customer.id))

    @rpc(expected_exceptions=PUBLIC)
    def update_customer(self, actor, customer_id, data):
        actor = Actor.load(actor)
        profiles.update_customer(self.db, actor, customer_id, data)
        return schema(CustomerOut).dump(profiles.profile(self.db, actor, customer_id))

    @rpc(expected_exceptions=PUBLIC)
    def get_timeline(self, actor, customer_id, query):
        return schema(TimelinePage).dump(timeline.entries_of(self.db, Actor.load(actor), customer_id,
                                                       load(PageQuery, query)))

    @rpc(expected_exceptions=PUBLIC)
    def decide_trait(self, actor, customer_id, trait, decision):
        profiles.decide_trait(self.db, Actor.load(actor), customer_id, trait, load(TraitDecision, decision)["status"])

    @rpc(expected_exceptions=PUBLIC)
    def record_behaviour(self, actor, data):
        behaviours.record_behaviour(self.db, Actor.load(actor), data)

    # -- duplicates and merges ---------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def list_duplicates(self, actor, query):
        return schema(DuplicatePage).dump(merging.list_duplicates(self.db, Actor.load(actor),
                                                                  load(PageQuery, query)))

    @rpc(expected_exceptions=PUBLIC)
    def dismiss_duplicate(self, actor, pair_id):
        merging.dismiss_duplicate(self.db, Actor.load(actor), pair_id)

    @rpc(expected_exceptions=PUBLIC)
    def merge_customers(self, actor, data):
        data = load(MergeIn, data)
        return schema(MergeOut).dump(merging.merge(self.db, Actor.load(actor), data["keep_id"],
                                                   data["merge_id"], data["reason"]))

    @rpc(expected_exceptions=PUBLIC)
    def list_merges(self, actor, query):
        return schema(MergePage).dump(merging.list_merges(self.db, Actor.load(actor), load(PageQuery, query)))

    # -- imports -----------------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def start_import(self, actor, store_code, filename, content_b64):
        return schema(ImportOut).dump(imports.start(self.db, Actor.load(actor), store_code, filename,
                                                    content_b64))

    @rpc(expected_exceptions=PUBLIC)
    def get_import(self, actor, import_id, rows=imports.REPORTED_ROWS):
        """``rows``: how many rejected and matched rows to list (None: all)."""
        return schema(ImportOut).dump(imports.get(self.db, Actor.load(actor), import_id, rows))

    @rpc(expected_exceptions=PUBLIC)
    def check_import(self, actor, import_id, data):
        return schema(ImportOut).dump(imports.check(self.db, Actor.load(actor), import_id,
                                                    load(ImportMapping, data)["mapping"]))

    @rpc(expected_exceptions=PUBLIC)
    def commit_import(self, actor, import_id, data):
        return schema(ImportOut).dump(imports.commit(self.db, Actor.load(actor), import_id,
                                                     load(ImportCommit, data)["skip_rejected"]))

    # -- personal data -----------------------------------------------------

    @rpc(expected_exceptions=PUBLIC)
    def export_customer(self, actor, customer_id):
        return schema(CustomerExport).dump(privacy.export_customer(self.db, Actor.load(actor), customer_id))

    @rpc(expected_exceptions=PUBLIC)
    def erase_customer(self, actor, customer_id):
        return privacy.erase_customer(self.db, Actor.load(actor), customer_id)
