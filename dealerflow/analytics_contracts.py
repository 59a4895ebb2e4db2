"""What the analytics API takes and answers (docs/analytics.md): the leads
service computes the lead figures, the followups service the activity
figures, the gateway joins and exports them with these schemas."""
from marshmallow import Schema, fields, validate

from dealerflow.contracts import (  # noqa: F401 (the figures' vocabulary, defined beside LeadQuery)
    BUDGET_BANDS,
    CHANNELS,
    FUNNEL_STAGES,
    METRICS,
    RESPONSE_BUCKETS,
    Tolerant,
    bucket_name,
)

DEMAND_BY = ("brand", "model", "fuel_type", "budget_band")
TABLES = ("funnel", "rates", "lost_reasons", "sources", "demand", "consultants", "response_times")


class AnalyticsQuery(Tolerant):
    """The scope of every report: leads created from ``from`` to ``to``
    (whole days, inclusive, in the store's time zone), narrowed by the rest."""
    from_ = fields.Date(data_key="from", metadata={"description": "first day; default 29 days before to"})
    to = fields.Date(metadata={"description": "last day, inclusive; default today"})
    store_code = fields.String(validate=validate.Length(min=1, max=32))
    team_id = fields.String(validate=validate.Length(min=1, max=36))
    consultant_id = fields.String(validate=validate.Length(min=1, max=36))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    source = fields.String(validate=validate.Length(min=1, max=64))
    brand = fields.String(validate=validate.Length(min=1, max=100))
    model = fields.String(validate=validate.Length(min=1, max=100))
    by = fields.String(load_default="model", validate=validate.OneOf(DEMAND_BY),
                       metadata={"description": "demand only: what to count"})


class ScopeOut(Schema):
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    timezone = fields.String()
    created_from = fields.AwareDateTime(metadata={"description": "the range as instants, for drill-down"})
    created_to = fields.AwareDateTime()


class StageOut(Schema):
    stage = fields.String(metadata={"description": "one of FUNNEL_STAGES"})
    reached = fields.Integer()
    current = fields.Integer(metadata={"description": "open leads in this stage now (won: 0)"})
    conversion = fields.Float(allow_none=True, metadata={"description": "reached the next / reached this"})
    median_hours = fields.Float(allow_none=True, metadata={"description": "from reaching it to the next"})


class CountOut(Schema):
    key = fields.String()
    count = fields.Integer()


class FunnelOut(Schema):
    scope = fields.Nested(ScopeOut)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(),
                         metadata={"description": "leads, contacted, appointment, visited, showed, test_drive, "
                                                  "won, lost, loss_pending, stalled"})
    rates = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True),
                        metadata={"description": "contact_rate, appointment_rate, show_rate, test_drive_rate, "
                                                 "close_rate, lost_rate"})
    stages = fields.List(fields.Nested(StageOut))
    lost_reasons = fields.List(fields.Nested(CountOut), metadata={"description": "lost and pending"})


class SourceRowOut(Schema):
    source = fields.String()
    channel = fields.String()
    leads = fields.Integer()
    contacted = fields.Integer()
    contact_rate = fields.Float(allow_none=True)
    test_drive = fields.Integer()
    test_drive_rate = fields.Float(allow_none=True)
    won = fields.Integer()
    win_rate = fields.Float(allow_none=True)
    median_response_minutes = fields.Float(allow_none=True)
    revenue = fields.Integer(metadata={"description": "minor units"})
    cost = fields.Integer(allow_none=True, metadata={"description": "prorated; null: no cost entered"})
    cost_per_lead = fields.Integer(allow_none=True)
    cost_per_sale = fields.Integer(allow_none=True)


class SourcesOut(Schema):
    scope = fields.Nested(ScopeOut)
    rows = fields.List(fields.Nested(SourceRowOut))


class SeriesOut(Schema):
    key = fields.String(metadata={"description": "the brand, model (brand model), fuel type or band; other"})
    brand = fields.String(allow_none=True, metadata={"description": "by model: the brand, for the drill-down"})
    model = fields.String(allow_none=True, metadata={"description": "by model: the model, for the drill-down"})
    total = fields.Integer()
    counts = fields.List(fields.Integer(), metadata={"description": "one per period"})


class DemandOut(Schema):
    scope = fields.Nested(ScopeOut)
    by = fields.String()
    interval = fields.String(metadata={"description": "day, week or month"})
    periods = fields.List(fields.String(), metadata={"description": "2026-11-30, 2026-W48 or 2026-11"})
    series = fields.List(fields.Nested(SeriesOut))


class ConsultantRowOut(Schema):
    consultant_id = fields.String()
    name = fields.String(allow_none=True)
    store_code = fields.String(allow_none=True)
    leads = fields.Integer()
    followups_done = fields.Integer()
    tasks_due = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    median_response_minutes = fields.Float(allow_none=True)
    sla_breaches = fields.Integer()
    appointments = fields.Integer()
    visits = fields.Integer()
    test_drives = fields.Integer()
    wins = fields.Integer()
    revenue = fields.Integer()
    rank = fields.Integer(metadata={"description": "in the store, by wins then revenue"})


class ConsultantsOut(Schema):
    scope = fields.Nested(ScopeOut)
    rows = fields.List(fields.Nested(ConsultantRowOut))


class BucketOut(Schema):
    metric = fields.String(metadata={"description": "the bucket's drill-down metric"})
    from_minutes = fields.Integer()
    to_minutes = fields.Integer(allow_none=True)
    count = fields.Integer()


class ResponseGroupOut(Schema):
    key = fields.String(metadata={"description": "a store code, or a consultant's id"})
    name = fields.String(allow_none=True)
    counts = fields.List(fields.Integer(), metadata={"description": "per bucket"})
    contacted = fields.Integer()
    under_5_share = fields.Float(allow_none=True)
    median_minutes = fields.Float(allow_none=True)


class ResponseTimesOut(Schema):
    scope = fields.Nested(ScopeOut)
    buckets = fields.List(fields.Nested(BucketOut))
    contacted = fields.Integer()
    waiting = fields.Integer(metadata={"description": "open leads not contacted yet"})
    under_5_share = fields.Float(allow_none=True)
    median_minutes = fields.Float(allow_none=True)
    per = fields.String(metadata={"description": "store or consultant"})
    groups = fields.List(fields.Nested(ResponseGroupOut))


class ActivityQuery(Tolerant):
    """What the gateway asks the followups service of (``activity``): the
    range's instants, the stores, and the consultants (none: everyone)."""
    created_from = fields.AwareDateTime(required=True)
    created_to = fields.AwareDateTime(required=True)
    store_codes = fields.List(fields.String(), required=True)
    consultant_ids = fields.List(fields.String(), load_default=None, allow_none=True)


class SourceCostIn(Tolerant):
    store_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    source = fields.String(required=True, validate=validate.Length(min=1, max=64))
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"),
                          metadata={"example": "2026-11"})
    amount = fields.Integer(required=True, allow_none=True, validate=validate.Range(min=0, max=10 ** 13),
                            metadata={"description": "minor units; null removes it"})


class SourceCostOut(SourceCostIn):
    currency = fields.String()
    updated_at = fields.AwareDateTime()
