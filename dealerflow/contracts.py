"""Message contracts: every event's name, who publishes it, and its schema.

The publisher dumps with the schema, a consumer loads with the same schema;
``unknown = EXCLUDE`` everywhere, so a consumer tolerates fields added by a
newer publisher. Every event carries the envelope of ``Event``: its id (the
key consumers dedupe on), when it happened and the schema version.
"""
import functools
from datetime import datetime, timedelta, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

# -- the queue lead platforms' leads wait in -----------------------------------

INTAKE_QUEUE = "leads.intake"

CHANNELS = ("website", "third_party", "auto_show", "referral", "walk_in",
            "phone", "social", "other")

# A lead's own timestamp must lie in this range: it fits every backend and
# every time zone, and anything outside it is a platform's clock or a typo.
EARLIEST_RECEIVED_AT = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST_RECEIVED_AT_AHEAD = timedelta(days=1)


def received_at_in_range(moment: datetime, now: datetime | None = None) -> bool:
    """Whether a lead's ``received_at`` is plausible: not before 2000 and at
    most a day ahead of ``now``. A naive time is compared as if it were UTC
    (its zone, at most 14 hours away, cannot move it out of range)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return EARLIEST_RECEIVED_AT <= aware <= now + LATEST_RECEIVED_AT_AHEAD


# -- event names, by publishing service ---------------------------------------

STORE_SAVED = "store_saved"          # gateway: a store was created or changed
USER_SAVED = "user_saved"            # gateway: a user was created or changed
LEAD_RECEIVED = "lead_received"      # leads: a lead was stored
LEAD_ASSIGNED = "lead_assigned"      # leads: a lead got its consultant
CUSTOMER_MATCHED = "customer_matched"  # customers: a lead's customer was found or created
FOLLOWUP_SCHEDULED = "followup_scheduled"  # followups: a task was created


@functools.cache
def schema(cls, many: bool = False) -> Schema:
    """The one instance of a schema class: making one copies every field,
    which costs more than loading a message with it."""
    return cls(many=many)


class Tolerant(Schema):
    class Meta:
        unknown = EXCLUDE


# -- the lead as platforms send it (the public contract of POST /v1/leads) ----

def fits_lowercased(limit: int):
    """A length check on the form a service stores (stripped, lower case):
    lower-casing can make a string longer (``"İ".lower()`` is two characters)."""
    def check(value: str) -> None:
        if len(value.strip().lower()) > limit:
            raise ValidationError(f"Longer than {limit} characters once in lower case.")
    return check


def plausible_received_at(value: datetime) -> None:
    if not received_at_in_range(value):
        raise ValidationError("Must lie between 2000-01-01 and one day from now.")


MAX_MONEY = 10**15  # minor units: ten trillion yuan, and exact as a JSON number everywhere


class Customer(Tolerant):
    name = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=40))
    phones = fields.List(fields.Dict(), validate=validate.Length(max=20))
    email = fields.String(validate=fits_lowercased(254))
    city = fields.String(validate=validate.Length(max=100))
    language = fields.String(validate=validate.Length(max=16))
    address = fields.Dict()


class Interest(Tolerant):
    brand = fields.String(validate=validate.Length(max=100))
    model = fields.String(validate=validate.Length(max=100))
    trim = fields.String(validate=validate.Length(max=100))
    year = fields.Integer(validate=validate.Range(min=1900, max=2100))
    condition = fields.String(validate=validate.Length(max=20))
    fuel_type = fields.String(validate=validate.Length(max=20))
    vin = fields.String(validate=validate.Length(max=40))
    stock = fields.String(validate=validate.Length(max=40))
    budget_min = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY))
    budget_max = fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY))
    currency = fields.String(validate=validate.Length(equal=3))
    timeframe = fields.String(validate=validate.Length(max=40))
    finance = fields.Boolean()
    trade_in = fields.Boolean()
    test_drive = fields.Boolean()


class Lead(Tolerant):
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    external_id = fields.String(validate=validate.Length(min=1, max=128))
    channel = fields.String(load_default="other", validate=validate.OneOf(CHANNELS))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    received_at = fields.DateTime(validate=plausible_received_at)
    customer = fields.Nested(Customer, required=True)
    interest = fields.Nested(Interest)
    trade_in = fields.List(fields.Dict(), validate=validate.Length(max=10))
    comments = fields.String(validate=validate.Length(max=10000))
    adf_status = fields.String(validate=validate.Length(max=20))

    @validates_schema
    def has_contact(self, data, **kwargs):
        customer = data.get("customer") or {}
        if not (customer.get("phone") or "").strip() and not (customer.get("email") or "").strip():
            raise ValidationError({"customer": {"phone": ["A phone or an email is required."]}})


# -- the message the gateway puts in INTAKE_QUEUE ------------------------------

class LeadSubmitted(Tolerant):
    id = fields.String(required=True)
    platform = fields.String(required=True)
    api_key_id = fields.String(required=True)
    store_code = fields.String(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    format = fields.String(required=True, validate=validate.OneOf(("json", "adf")))
    raw = fields.String(allow_none=True)
    lead = fields.Nested(Lead, required=True)


# -- RPC arguments the gateway passes on from HTTP -----------------------------

LEAD_STATUSES = ("accepted", "assigned")
LEAD_SORTS = ("-created_at", "created_at", "-received_at", "received_at")
MAX_PAGE = 200


class LeadQuery(Tolerant):
    """Which leads to list (``leads.list_leads``), within the actor's scope.
    Pages are keyset: ``cursor`` is the ``next_cursor`` of the page before."""
    status = fields.List(fields.String(validate=validate.OneOf(LEAD_STATUSES)))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    consultant_id = fields.String(validate=validate.Length(min=1, max=36))
    source = fields.String(validate=validate.Length(min=1, max=64))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    created_from = fields.AwareDateTime()
    created_to = fields.AwareDateTime()
    q = fields.String(validate=validate.Length(min=1, max=100))
    sort = fields.String(load_default="-created_at", validate=validate.OneOf(LEAD_SORTS))
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))
    cursor = fields.String(validate=validate.Length(max=200))


# -- events --------------------------------------------------------------------

class Event(Tolerant):
    event_id = fields.String(required=True)
    occurred_at = fields.AwareDateTime(required=True)
    version = fields.Integer(load_default=1)


class StoreSaved(Event):
    code = fields.String(required=True)
    name = fields.String(required=True)
    timezone = fields.String(required=True)
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
    customer = fields.Nested(Customer, required=True)


class LeadAssigned(Event):
    lead_id = fields.String(required=True)
    store_code = fields.String(required=True)
    consultant_id = fields.String(required=True)
    assigned_at = fields.AwareDateTime(required=True)
    first_contact_due_at = fields.AwareDateTime(required=True)  # the response SLA's deadline
    customer_name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    source = fields.String(required=True)
    interest = fields.Dict(allow_none=True)


class CustomerMatched(Event):
    lead_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    created = fields.Boolean(required=True)


class FollowupScheduled(Event):
    task_id = fields.String(required=True)
    lead_id = fields.String(required=True)
    consultant_id = fields.String(required=True)
    kind = fields.String(required=True)
    due_at = fields.AwareDateTime(required=True)


SCHEMAS = {
    STORE_SAVED: StoreSaved,
    USER_SAVED: UserSaved,
    LEAD_RECEIVED: LeadReceived,
    LEAD_ASSIGNED: LeadAssigned,
    CUSTOMER_MATCHED: CustomerMatched,
    FOLLOWUP_SCHEDULED: FollowupScheduled,
}
