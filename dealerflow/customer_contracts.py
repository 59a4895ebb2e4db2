"""The customers service's RPC contract: what it takes and what it answers.

One definition serves both ends: the service loads its arguments and dumps
its answers with these schemas, and the gateway passes them through and
documents the HTTP API with them (``/v1/customers``; apispec finds them by
class name). Money is in integer minor units; times are ISO 8601 with their
zone.
"""
from datetime import date

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from dealerflow.contracts import Tolerant

FUEL_TYPES = ("ICE", "HEV", "PHEV", "EV")
MAX_MONEY = 10**15


def _text(limit: int, **kwargs):
    return fields.String(validate=validate.Length(max=limit), **kwargs)


def _texts(limit: int, count: int):
    return fields.List(fields.String(validate=validate.Length(min=1, max=limit)),
                       validate=validate.Length(max=count))


class Budget(Tolerant):
    min = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_MONEY))
    max = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=MAX_MONEY))
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))

    @validates_schema
    def ordered(self, data, **kwargs):
        if data.get("min") is not None and data.get("max") is not None and data["min"] > data["max"]:
            raise ValidationError({"max": ["Must not be below min."]})


class TradeIn(Tolerant):
    brand = _text(100, allow_none=True)
    model = _text(100, allow_none=True)
    year = fields.Integer(allow_none=True, validate=validate.Range(min=1950, max=date.today().year + 1))
    mileage_km = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=3_000_000))


class Preferences(Tolerant):
    """What the customer wants to buy."""
    brands = _texts(100, 20)
    models = _texts(100, 20)
    trim = _text(100, allow_none=True)
    colours = _texts(50, 20)
    budget = fields.Nested(Budget, allow_none=True)
    fuel_types = fields.List(fields.String(validate=validate.OneOf(FUEL_TYPES)),
                             validate=validate.Length(max=4))
    finance_interest = fields.Boolean(allow_none=True)
    trade_in = fields.Nested(TradeIn, allow_none=True)


class CustomerIn(Tolerant):
    """A customer as staff create or change it. On a change, only the fields
    sent change; ``phones`` and ``emails``, when sent, are the whole list.
    ``revision``, when sent, must be the customer's current one (409 if it
    changed meanwhile)."""
    name = _text(200, allow_none=True)
    phones = _texts(40, 10)
    emails = _texts(254, 10)
    wechat_id = _text(64, allow_none=True)
    city = _text(100, allow_none=True)
    language = _text(16, allow_none=True)
    source = _text(64, allow_none=True)
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    owner_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=36))
    tags = _texts(50, 30)
    preferences = fields.Nested(Preferences)
    revision = fields.Integer()
    country = fields.String(load_default="CN", validate=validate.Regexp(r"^[A-Z]{2}$"),
                            metadata={"description": "where phones without a country code are read"})


class PhoneOut(Schema):
    e164 = fields.String()
    extension = fields.String(allow_none=True)


class CustomerSummary(Schema):
    """A customer in a list."""
    id = fields.String()
    name = fields.String(allow_none=True)
    phones = fields.List(fields.Nested(PhoneOut))
    emails = fields.List(fields.String())
    city = fields.String(allow_none=True)
    lifecycle = fields.String(metadata={"description": "potential, intended, won or lost"})
    tags = fields.List(fields.String())
    store_code = fields.String(allow_none=True)
    owner_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CustomerPage(Schema):
    items = fields.List(fields.Nested(CustomerSummary))
    next_cursor = fields.String(allow_none=True)


class EvidenceOut(Schema):
    source = fields.String()
    text = fields.String()
    at = fields.String()
    ref = fields.String(allow_none=True)


class TraitOut(Schema):
    """A trait derived from what the customer wrote, did and what consultants noted."""
    trait = fields.String()
    label = fields.String(metadata={"description": "in the caller's language"})
    status = fields.String(metadata={"description": "inferred, confirmed or removed"})
    confidence = fields.Float()
    evidence = fields.List(fields.Nested(EvidenceOut))
    decided_by = fields.String(allow_none=True)


class CustomerLeadOut(Schema):
    lead_id = fields.String()
    store_code = fields.String()
    source = fields.String()
    consultant_id = fields.String(allow_none=True)
    linked_at = fields.AwareDateTime()


class CustomerOut(CustomerSummary):
    """Everything staff may see of a customer."""
    wechat_id = fields.String(allow_none=True)
    language = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    preferences = fields.Dict()
    revision = fields.Integer()
    traits = fields.List(fields.Nested(TraitOut))
    leads = fields.List(fields.Nested(CustomerLeadOut))
    duplicates = fields.List(fields.String(), metadata={"description": "open possible duplicates' ids"})


class TimelineEntryOut(Schema):
    id = fields.String()
    occurred_at = fields.AwareDateTime()
    kind = fields.String(metadata={"description": "lead, assigned, behaviour, created, edited, merged, "
                                                  "imported; and of a lead: lead_stage_changed, lead_won, "
                                                  "lead_lost, lead_reopened, lead_first_contact, lead_inquiry"})
    lead_id = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    data = fields.Dict()


class TimelinePage(Schema):
    items = fields.List(fields.Nested(TimelineEntryOut))
    next_cursor = fields.String(allow_none=True)


class TraitDecision(Tolerant):
    status = fields.String(required=True, validate=validate.OneOf(("confirmed", "removed")))


BEHAVIOURS = ("model_viewed", "configurator", "finance_calculator", "brochure_downloaded",
              "test_drive_requested")


class BehaviourIn(Tolerant):
    """What a known customer did on a platform or the dealer's website. The
    customer is found by phone or email; an unknown one is not created."""
    phone = _text(40, allow_none=True)
    email = _text(254, allow_none=True)
    kind = fields.String(required=True, validate=validate.OneOf(BEHAVIOURS))
    occurred_at = fields.AwareDateTime(required=True)
    details = fields.Dict(load_default=dict, validate=validate.Length(max=30), metadata={
        "description": "brand, model, trim, colour, fuel_type, down_payment, months ... (at most 30)"})

    @validates_schema
    def someone(self, data, **kwargs):
        if not (data.get("phone") or data.get("email")):
            raise ValidationError({"phone": ["A phone or an email is required."]})


class DuplicateOut(Schema):
    """Two customers that may be one person."""
    id = fields.String()
    reason = fields.String()
    status = fields.String()
    found_at = fields.AwareDateTime()
    customer = fields.Nested(CustomerSummary)
    other = fields.Nested(CustomerSummary)


class DuplicatePage(Schema):
    items = fields.List(fields.Nested(DuplicateOut))
    next_cursor = fields.String(allow_none=True)


class MergeIn(Tolerant):
    keep_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    merge_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class MergeOut(Schema):
    id = fields.String()
    kept_id = fields.String()
    merged_id = fields.String()
    actor_id = fields.String()
    reason = fields.String()
    moved = fields.Dict()
    merged_at = fields.AwareDateTime()


class MergePage(Schema):
    items = fields.List(fields.Nested(MergeOut))
    next_cursor = fields.String(allow_none=True)


class PageQuery(Tolerant):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))
    cursor = fields.String(validate=validate.Length(max=200))


class ImportMapping(Tolerant):
    """Which column is which field (column index, from 0, as text)."""
    mapping = fields.Dict(keys=fields.String(validate=validate.Regexp(r"^\d{1,3}$")),
                          values=fields.String(allow_none=True), required=True)


class ImportCommit(Tolerant):
    skip_rejected = fields.Boolean(load_default=False, metadata={
        "description": "import the good rows even though some were rejected"})


class ImportRowOut(Schema):
    row = fields.Integer()
    outcome = fields.String(metadata={"description": "create, match or reject"})
    errors = fields.Dict(allow_none=True)
    customer_id = fields.String(allow_none=True)
    matched_by = fields.String(allow_none=True)


class ImportOut(Schema):
    """An import and how far it got."""
    id = fields.String()
    store_code = fields.String()
    filename = fields.String()
    status = fields.String(metadata={"description": "reading, uploaded, checking, checked, importing, done, "
                                                    "failed"})
    headers = fields.List(fields.String())
    mapping = fields.Dict()
    fields_ = fields.List(fields.String(), data_key="fields",
                          metadata={"description": "what a column can be mapped to"})
    total = fields.Integer(allow_none=True)
    processed = fields.Integer()
    created = fields.Integer()
    matched = fields.Integer()
    rejected = fields.Integer()
    skip_rejected = fields.Boolean()
    error = fields.String(allow_none=True)
    sample = fields.List(fields.List(fields.Raw()), metadata={"description": "the first rows, as read"})
    rows = fields.List(fields.Nested(ImportRowOut),
                       metadata={"description": "rejected and matched rows (the first 1,000)"})
    created_at = fields.AwareDateTime()
    updated_at = fields.AwareDateTime()


class CustomerExport(CustomerOut):
    """Everything the customers service holds about a customer (the gateway
    adds what the other services hold)."""
    timeline = fields.List(fields.Nested(TimelineEntryOut))
    traits_removed = fields.List(fields.Dict())
    merges = fields.List(fields.Nested(MergeOut))
    import_rows = fields.List(fields.Dict())
