"""Message contracts: every event's name, who publishes it, and its schema.

The publisher dumps with the schema, a consumer loads with the same schema;
``unknown = EXCLUDE`` everywhere, so a consumer tolerates fields added by a
newer publisher. Every event carries the envelope of ``Event``: its id (the
key consumers dedupe on), when it happened and the schema version.
"""
import functools
import json

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

# -- the queue lead platforms' leads wait in -----------------------------------

INTAKE_QUEUE = "leads.intake"

CHANNELS = ("website", "third_party", "auto_show", "referral", "walk_in",
            "phone", "social", "other")

# -- event names, by publishing service ---------------------------------------

STORE_SAVED = "store_saved"          # gateway: a store was created or changed
USER_SAVED = "user_saved"            # gateway: a user was created or changed
LEAD_RECEIVED = "lead_received"      # leads: a lead was stored (with its first owner, if routed as it was)
LEAD_ASSIGNED = "lead_assigned"      # leads: a stored lead got its consultant (routed later, re-routed, claimed, by hand)
LEAD_CHANGED = "lead_changed"        # leads: anything else that changed a lead, and who must be told
CUSTOMERS_MERGED = "customers_merged"  # customers: one customer was merged into another
CUSTOMER_ERASED = "customer_erased"    # customers: a customer's personal data was erased
FOLLOWUP_SCHEDULED = "followup_scheduled"  # followups: a task was created or rescheduled
FOLLOWUP_REMINDER = "followup_reminder"    # followups: a task is due soon (its owner is reminded, once)
FOLLOWUP_OVERDUE = "followup_overdue"      # followups: a task was missed; the store's managers are told
FOLLOWUP_DONE = "followup_done"            # followups: a task was completed or closed
FOLLOWUP_RECORDED = "followup_recorded"    # followups: a follow-up was done (a call, a WeChat, a visit)
TEST_DRIVE_BOOKED = "test_drive_booked"        # followups: a vehicle was booked for a lead's test drive
TEST_DRIVE_SHOWN = "test_drive_shown"          # followups: the customer came (checked in)
TEST_DRIVE_NO_SHOW = "test_drive_no_show"      # followups: the customer did not come in time
TEST_DRIVE_CANCELLED = "test_drive_cancelled"  # followups: a booking was cancelled
NOTIFICATION_CREATED = "notification_created"  # notifications: a new message in a user's in-app inbox


@functools.cache
def schema(cls, many: bool = False) -> Schema:
    """The one instance of a schema class: making one copies every field,
    which costs more than loading a message with it."""
    return cls(many=many)


class Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


# -- the message the gateway puts in INTAKE_QUEUE ------------------------------

class SubmittedLead(Tolerant):
    """A lead as the gateway accepted it (after the platforms' contract,
    ``services/gateway/platform_lead.py``, validated it): what the leads
    service stores. Free-form parts stay objects."""
    source = fields.String(required=True)
    external_id = fields.String(allow_none=True)
    channel = fields.String(required=True)
    received_at = fields.AwareDateTime(allow_none=True)
    customer = fields.Dict(required=True)
    interest = fields.Dict(allow_none=True)
    trade_in = fields.List(fields.Dict(), allow_none=True)
    comments = fields.String(allow_none=True)
    adf_status = fields.String(allow_none=True)
    # the customer's phone (customer.phone, as sent) in E.164, read in the region of the
    # customer's address or the store's country, and its extension; None when it is no number
    phone_e164 = fields.String(allow_none=True)
    phone_extension = fields.String(allow_none=True)
    # why the platform's own time was not used (an ADF <requestdate> unreadable, before 1990
    # or in the future): received_at is then the submission time
    received_at_note = fields.String(allow_none=True)
    provider = fields.Dict(allow_none=True)  # ADF: the <provider> (name, service, url, ...)


class LeadSubmitted(Tolerant):
    id = fields.String(required=True)
    platform = fields.String(required=True)
    api_key_id = fields.String(required=True)
    store_code = fields.String(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    format = fields.String(required=True, validate=validate.OneOf(("json", "adf")))
    raw = fields.String(allow_none=True)
    lead = fields.Nested(SubmittedLead, required=True)


# -- RPC arguments the gateway passes on from HTTP -----------------------------

# accepted: stored, no owner yet; pooled: in the store's claim pool; assigned: owned, not
# contacted; contacted: the clock stopped; loss_pending: lost, waiting for a manager's
# approval; won; lost; joined: an inquiry that joined an open lead of the same customer
OPEN_STATUSES = ("accepted", "pooled", "assigned", "contacted", "loss_pending")
LEAD_STATUSES = OPEN_STATUSES + ("won", "lost", "joined")
GRADES = ("H", "A", "B", "C", "N", "O", "F")
STAGES = ("initial_contact", "needs_confirmed", "proposal", "negotiation", "after_sales")
LEAD_SORTS = ("-created_at", "created_at", "-received_at", "received_at")
MAX_PAGE = 200


# -- the analytics' figures, each a set of leads that ``LeadQuery.metric`` lists (docs/analytics.md)

# the funnel's stages in order; won ends it (a won lead is in after-sales care)
FUNNEL_STAGES = STAGES[:-1] + ("won",)
# the first-response histogram, in minutes: [from, to); the last has no end
RESPONSE_BUCKETS = ((0, 1), (1, 5), (5, 15), (15, 30), (30, 60), (60, 240), (240, 1440), (1440, None))
BUDGET_BANDS = ("under_100k", "100k_200k", "200k_300k", "300k_500k", "500k_plus", "unknown")  # yuan


def bucket_name(start: int, end: int | None) -> str:
    return f"response_{start}_{end}" if end is not None else f"response_{start}_plus"


METRICS = ("leads", "contacted", "appointment", "visited", "showed", "test_drive", "won", "lost",
           "loss_pending", "stalled", "waiting",
           *(f"reached_{stage}" for stage in FUNNEL_STAGES), *(f"in_{stage}" for stage in STAGES[:-1]),
           *(bucket_name(*bucket) for bucket in RESPONSE_BUCKETS))


class LeadQuery(Tolerant):
    """Which leads to list (``leads.list_leads``), within the actor's scope.
    Pages are keyset: ``cursor`` is the ``next_cursor`` of the page before."""
    status = fields.List(fields.String(validate=validate.OneOf(LEAD_STATUSES)))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    consultant_id = fields.String(validate=validate.Length(min=1, max=36))
    source = fields.String(validate=validate.Length(min=1, max=64))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    grade = fields.List(fields.String(validate=validate.OneOf(GRADES)))
    stage = fields.List(fields.String(validate=validate.OneOf(STAGES)))
    created_from = fields.AwareDateTime()
    created_to = fields.AwareDateTime()
    q = fields.String(validate=validate.Length(min=1, max=100))
    # the drill-down from an analytics figure (docs/analytics.md): the leads it counts
    metric = fields.String(validate=validate.OneOf(METRICS))
    team_id = fields.String(validate=validate.Length(min=1, max=36))
    brand = fields.String(validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(min=1, max=100))
    fuel_type = fields.String(validate=validate.Length(min=1, max=20))
    budget_band = fields.String(validate=validate.OneOf(BUDGET_BANDS))
    lost_reason = fields.String(validate=validate.Length(min=1, max=40))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(LEAD_SORTS))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=200))


CUSTOMER_SORTS = ("-updated_at", "updated_at", "-created_at", "created_at")
LIFECYCLES = ("potential", "intended", "won", "lost")


class CustomerQuery(Tolerant):
    """Which customers to list (``customers.search_customers``), within the
    actor's scope. ``q`` is a name's start, pinyin initials (``wl``), a
    phone fragment (the start of the number as dialled at home, or its last
    digits; at least 3) or an email's start."""
    q = fields.String(validate=validate.Length(min=1, max=100))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    owner_id = fields.String(validate=validate.Length(min=1, max=36))
    lifecycle = fields.String(validate=validate.OneOf(LIFECYCLES))
    tag = fields.String(validate=validate.Length(min=1, max=100))
    brand = fields.String(validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(min=1, max=100))
    fuel_type = fields.String(validate=validate.OneOf(("ICE", "HEV", "PHEV", "EV")))
    sort = fields.String(load_default="-updated_at", validate=validate.OneOf(CUSTOMER_SORTS))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=200))


class ServiceError(Exception):
    """A service's public RPC error with a description and, for invalid
    input, the fields it names. nameko carries only an exception's text to
    the caller, so the text is JSON (``{"description", "errors"}``) and the
    gateway reads it back (``errors.from_remote``)."""

    def __init__(self, description: str, errors: dict | None = None):
        super().__init__(description, errors)
        self.description, self.errors = description, errors

    def __str__(self) -> str:
        return json.dumps({"description": self.description, "errors": self.errors}, ensure_ascii=False,
                          default=str)


# -- events --------------------------------------------------------------------

class Event(Tolerant):
    """The envelope of every event. ``version`` is the schema's major
    version: a consumer reads fields it does not know (a minor change), and
    refuses an event of a newer major version than its code knows (the
    message is then parked, not misread)."""
    VERSION = 1

    event_id = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    version = fields.Integer(load_default=1)

    @validates_schema
    def known_version(self, data, **kwargs):
        if data.get("version", 1) > self.VERSION:
            raise ValidationError({"version": [f"Version {data['version']} is newer than "
                                               f"{self.VERSION}, the newest this consumer reads."]})


class StoreSaved(Event):
    code = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
    # ISO 3166 alpha-2: where a phone written without a country code is read; absent in
    # events from before it existed, which stands for CN
    country = fields.String()
    response_minutes = fields.Integer(required=True)
    # local opening hours per weekday ("mon".."sun": ["09:00-18:00", ...]; a missing day is
    # closed) and local dates closed; {} and [] in events from before they existed
    business_hours = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                                 load_default=dict)
    holidays = fields.List(fields.String(), load_default=list)
    active = fields.Boolean(required=True)
    revision = fields.Integer(required=True)


class UserSaved(Event):
    user_id = fields.String(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    stores = fields.List(fields.String(), required=True)
    email = fields.String(allow_none=True)
    # what routing uses; the defaults stand for events from before these fields
    team_id = fields.String(allow_none=True, load_default=None)
    languages = fields.List(fields.String(), load_default=list)
    shift = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                        load_default=dict)  # weekly hours, as a store's business hours
    leave = fields.List(fields.Dict(), load_default=list)  # [{"start": date, "end": date}], inclusive
    daily_capacity = fields.Integer(allow_none=True, load_default=None)
    active = fields.Boolean(required=True)
    revision = fields.Integer(required=True)


class LeadReceived(Event):
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    source = fields.String(required=True)
    channel = fields.String(required=True)
    customer = fields.Dict(required=True)
    # the customer's phone in E.164, read by the gateway in the right country
    # (the ADF address's, else the store's), and its extension; None when it could not be read
    phone_e164 = fields.String(allow_none=True, load_default=None)
    phone_extension = fields.String(allow_none=True, load_default=None)
    # what the customer asked for and wrote: the customers service learns preferences and traits
    interest = fields.Dict(allow_none=True, load_default=None)
    comments = fields.String(allow_none=True, load_default=None)
    grade = fields.String(load_default="N")  # as graded at intake
    joined_lead_id = fields.String(allow_none=True, load_default=None)  # an inquiry on this open lead
    # its first owner when routing gave it one as it was stored (almost always): this event
    # then announces that assignment too, and no ``lead_assigned`` follows (``assignment_of``)
    consultant_id = fields.String(allow_none=True, load_default=None)
    assigned_at = fields.AwareDateTime(allow_none=True, load_default=None)
    first_contact_due_at = fields.AwareDateTime(allow_none=True, load_default=None)


def assignment_of(received: dict) -> dict | None:
    """The ``lead_assigned`` a ``lead_received`` stands for (its first
    owner, routed as it was stored), with the same event id; None when it
    was stored without one (pooled, waiting for a consultant, joined to an
    open lead). Copies fields only, so it reads a loaded event and a raw one alike."""
    if not received.get("consultant_id"):
        return None
    customer = received.get("customer") or {}
    return {"event_id": received["event_id"], "occurred_at": received["occurred_at"],
            "version": received.get("version", 1), "lead_id": received["lead_id"],
            "store_code": received["store_code"], "consultant_id": received["consultant_id"],
            "assigned_at": received["assigned_at"], "first_contact_due_at": received.get("first_contact_due_at"),
            "customer_name": customer.get("name"), "phone": customer.get("phone"), "source": received["source"],
            "interest": received.get("interest"), "reason": "routing", "previous_consultant_id": None,
            "grade": received.get("grade", "N"), "actor_id": None}


class LeadAssigned(Event):
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    consultant_id = fields.String(required=True)
    assigned_at = fields.AwareDateTime(required=True)
    # the response SLA's deadline; None once the lead was contacted (a manual reassignment)
    first_contact_due_at = fields.AwareDateTime(allow_none=True)
    customer_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    source = fields.String(required=True)
    interest = fields.Dict(allow_none=True)
    # routing, reroute (the SLA ran out), claim (from the pool), manual, escalation (to the manager)
    reason = fields.String(load_default="routing")
    previous_consultant_id = fields.String(allow_none=True, load_default=None)
    grade = fields.String(load_default="N")
    actor_id = fields.String(allow_none=True, load_default=None)  # who assigned it; None: routing


class LeadChanged(Event):
    """A change to a lead other than a new owner: graded, stage_changed, won,
    loss_requested, lost, loss_refused, reopened, first_contact, inquiry,
    pooled, sla_warning, sla_breached, comment. ``tell`` are the users who
    must hear of it (the owner, the store's managers, the people mentioned),
    each with what to tell them; the lead's state after the change is in the
    rest, so that analytics and timelines are made from events alone."""
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    change = fields.String(required=True)
    actor_id = fields.String(allow_none=True, load_default=None)
    reason = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True)
    stage = fields.String(required=True)
    grade = fields.String(required=True)
    consultant_id = fields.String(allow_none=True, load_default=None)
    customer_name = fields.String(allow_none=True, load_default=None)
    details = fields.Dict(load_default=dict)
    tell = fields.List(fields.String(), load_default=list)


class CustomersMerged(Event):
    """``merged_id`` is now ``kept_id``: whoever holds a reference re-points it."""
    kept_id = fields.String(required=True)
    merged_id = fields.String(required=True)
    lead_ids = fields.List(fields.String(), required=True)  # the merged customer's leads


class CustomerErased(Event):
    """The person asked to be forgotten: every service drops what it holds
    about them from these leads, keeping only what anonymous counts need."""
    customer_id = fields.String(required=True)
    lead_ids = fields.List(fields.String(), required=True)


class FollowupScheduled(Event):
    task_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    consultant_id = fields.String(required=True)
    kind = fields.String(required=True)
    due_at = fields.AwareDateTime(required=True)
    store_code = fields.String(allow_none=True, load_default=None)
    source = fields.String(load_default="sla")  # sla, cadence, manual, after_sales
    actor_id = fields.String(allow_none=True, load_default=None)


class FollowupReminder(FollowupScheduled):
    """A task's reminder, or (``FOLLOWUP_OVERDUE``) its escalation: ``tell``
    who must hear of it (the owner; for an overdue task also the managers)."""
    customer_name = fields.String(allow_none=True, load_default=None)
    tell = fields.List(fields.String(), load_default=list)


class FollowupDone(Event):
    task_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    consultant_id = fields.String(required=True)
    kind = fields.String(required=True)
    status = fields.String(required=True)  # done, or cancelled (the lead was won or lost)
    outcome = fields.String(allow_none=True, load_default=None)
    actor_id = fields.String(allow_none=True, load_default=None)


class FollowupRecorded(Event):
    """A follow-up done. ``first``: the lead's first, which stops its response
    clock (the leads service); the notes feed the customer's traits. A
    record's voice note, once transcribed, is announced again under the same
    ``record_id`` with ``transcript`` true and the transcript as ``notes``."""
    record_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    consultant_id = fields.String(required=True)
    channel = fields.String(required=True)
    direction = fields.String(required=True)
    outcome = fields.String(required=True)
    notes = fields.String(allow_none=True, load_default=None)
    first = fields.Boolean(required=True)
    recorded_at = fields.AwareDateTime(required=True)
    # true: not a new follow-up but a voice note of this record transcribed (``notes``
    # is the transcript); absent from the events of new records, so read it with .get()
    transcript = fields.Boolean()


class TestDriveBooked(Event):
    """A test drive booked. ``ics`` is the confirmation's iCalendar text
    (METHOD:REQUEST, in the store's time zone and the customer's language)
    for the notifications service to send the customer."""
    __test__ = False  # not a pytest class
    booking_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    vehicle_id = fields.String(required=True)
    vehicle = fields.String(required=True)  # "BYD Han EV 创世版 (stock SH-001)"
    consultant_id = fields.String(allow_none=True, load_default=None)
    specialist_id = fields.String(allow_none=True, load_default=None)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    customer_name = fields.String(allow_none=True, load_default=None)
    customer_email = fields.String(allow_none=True, load_default=None)
    language = fields.String(load_default="zh")
    ics = fields.String(required=True)
    actor_id = fields.String(allow_none=True, load_default=None)  # who booked it
    booked_at = fields.AwareDateTime(required=True)


class TestDriveChanged(Event):
    """A booking shown (``TEST_DRIVE_SHOWN``), not shown (``TEST_DRIVE_NO_SHOW``,
    by the timer: no actor) or cancelled (``TEST_DRIVE_CANCELLED``, with its
    reason): who did it and when."""
    __test__ = False  # not a pytest class
    booking_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    vehicle_id = fields.String(required=True)
    consultant_id = fields.String(allow_none=True, load_default=None)
    specialist_id = fields.String(allow_none=True, load_default=None)
    starts_at = fields.AwareDateTime(required=True)
    status = fields.String(required=True)  # shown, no_show, cancelled
    actor_id = fields.String(allow_none=True, load_default=None)
    at = fields.AwareDateTime(required=True)
    reason = fields.String(allow_none=True, load_default=None)


class NotificationCreated(Event):
    """A new message in one user's in-app inbox (the gateway's live stream
    forwards it to that user): ``notification_contracts.InboxMessageOut``'s
    fields, ``id`` the message's."""
    id = fields.String(required=True)
    user_id = fields.String(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    body = fields.String(required=True)
    link = fields.String(allow_none=True, load_default=None)
    lead_id = fields.String(allow_none=True, load_default=None)
    created_at = fields.AwareDateTime(required=True)
    read_at = fields.AwareDateTime(allow_none=True, load_default=None)


SCHEMAS = {
    STORE_SAVED: StoreSaved,
    USER_SAVED: UserSaved,
    LEAD_RECEIVED: LeadReceived,
    LEAD_ASSIGNED: LeadAssigned,
    LEAD_CHANGED: LeadChanged,
    CUSTOMERS_MERGED: CustomersMerged,
    CUSTOMER_ERASED: CustomerErased,
    FOLLOWUP_SCHEDULED: FollowupScheduled,
    FOLLOWUP_REMINDER: FollowupReminder,
    FOLLOWUP_OVERDUE: FollowupReminder,
    FOLLOWUP_DONE: FollowupDone,
    FOLLOWUP_RECORDED: FollowupRecorded,
    TEST_DRIVE_BOOKED: TestDriveBooked,
    TEST_DRIVE_SHOWN: TestDriveChanged,
    TEST_DRIVE_NO_SHOW: TestDriveChanged,
    TEST_DRIVE_CANCELLED: TestDriveChanged,
    NOTIFICATION_CREATED: NotificationCreated,
}
