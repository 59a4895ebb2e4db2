"""The lead as platforms send it: the public contract of ``POST /v1/leads``.

It belongs to the gateway (the bus carries ``contracts.SubmittedLead``).
Limits are those of what the services store, so that a ``202`` is never
followed by a lead no service can keep.
"""
from datetime import datetime, timedelta, timezone

from marshmallow import ValidationError, fields, validate, validates_schema

from dealerflow.contracts import CHANNELS, Tolerant

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


class CustomerIn(Tolerant):
    name = fields.String(validate=validate.Length(max=200))
    phone = fields.String(validate=validate.Length(max=40))
    phones = fields.List(fields.Dict(), validate=validate.Length(max=20))
    email = fields.String(validate=fits_lowercased(254))
    city = fields.String(validate=validate.Length(max=100))
    language = fields.String(validate=validate.Length(max=16))
    address = fields.Dict()


class InterestIn(Tolerant):
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


class LeadIn(Tolerant):
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    external_id = fields.String(validate=validate.Length(min=1, max=128))
    channel = fields.String(load_default="other", validate=validate.OneOf(CHANNELS))
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    received_at = fields.DateTime(validate=plausible_received_at)
    customer = fields.Nested(CustomerIn, required=True)
    interest = fields.Nested(InterestIn)
    trade_in = fields.List(fields.Dict(), validate=validate.Length(max=10))
    comments = fields.String(validate=validate.Length(max=10000))
    adf_status = fields.String(validate=validate.Length(max=20))

    @validates_schema
    def has_contact(self, data, **kwargs):
        customer = data.get("customer") or {}
        if not (customer.get("phone") or "").strip() and not (customer.get("email") or "").strip():
            raise ValidationError({"customer": {"phone": ["A phone or an email is required."]}})
