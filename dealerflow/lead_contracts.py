"""What staff send the leads service (through the gateway, which documents
its API with these schemas), and the store policy and routing rule
shapes both sides share."""
from marshmallow import Schema, fields, validate

from dealerflow.contracts import CHANNELS, GRADES, STAGES, Tolerant

LOSS_REASONS = ("price", "bought_competitor", "bought_other_dealer", "no_budget", "unreachable",
                "not_interested", "postponed", "financing_refused", "other")
MAX_REASON = 500

Reason = fields.String(validate=validate.Length(max=MAX_REASON))


class GradeIn(Tolerant):
    grade = fields.String(required=True, validate=validate.OneOf(GRADES[:5]))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=MAX_REASON))


class StageIn(Tolerant):
    stage = fields.String(required=True, validate=validate.OneOf(STAGES[:-1]))
    reason = Reason


class Vehicle(Tolerant):
    brand = fields.String(validate=validate.Length(max=100))
    model = fields.String(validate=validate.Length(max=100))
    trim = fields.String(validate=validate.Length(max=100))
    year = fields.Integer(validate=validate.Range(min=1990, max=2100))
    vin = fields.String(validate=validate.Regexp(r"^[A-HJ-NPR-Z0-9]{17}$", error="a VIN has 17 letters and digits"))


class WinIn(Tolerant):
    deal_value = fields.Integer(validate=validate.Range(min=1, max=10**12 - 1),
                                metadata={"description": "the price in minor units (fen)"})
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))
    vehicle = fields.Nested(Vehicle)
    note = Reason


class LossIn(Tolerant):
    lost_reason = fields.String(required=True, validate=validate.OneOf(LOSS_REASONS))
    note = Reason


class DecisionIn(Tolerant):
    approve = fields.Boolean(required=True)
    reason = Reason


class ReasonIn(Tolerant):
    reason = Reason


class CommentIn(Tolerant):
    body = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    mentions = fields.List(fields.String(validate=validate.Length(max=36)), load_default=list,
                           validate=validate.Length(max=20))


class AssignIn(Tolerant):
    consultant_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=36),
                                  metadata={"description": "null: route it again"})
    reason = Reason


class ReassignIn(AssignIn):
    lead_ids = fields.List(fields.String(validate=validate.Length(max=36)), validate=validate.Length(max=1000))
    from_consultant_id = fields.String(validate=validate.Length(min=1, max=36),
                                       metadata={"description": "hand over every open lead of this consultant"})


# -- a store's lead policy and its routing rules --------------------------------

DEADLINE_KEYS = set(GRADES[:5]) | set(CHANNELS) | {f"{g}:{c}" for g in GRADES[:5] for c in CHANNELS}


class PolicyIn(Tolerant):
    response_minutes = fields.Dict(keys=fields.String(validate=validate.OneOf(sorted(DEADLINE_KEYS))),
                                   values=fields.Integer(validate=validate.Range(min=1, max=7 * 24 * 60)),
                                   metadata={"description": 'first-contact minutes by grade, channel or '
                                                            '"grade:channel" (most specific wins)'})
    max_reroutes = fields.Integer(validate=validate.Range(min=0, max=10))
    loss_needs_approval = fields.Boolean()
    duplicate_window_days = fields.Integer(validate=validate.Range(min=0, max=365),
                                           metadata={"description": "0: every inquiry is a new lead"})
    daily_claim_limit = fields.Integer(validate=validate.Range(min=0, max=1000))


class PolicyOut(PolicyIn):
    store_code = fields.String()
    inherited = fields.Boolean(metadata={"description": "the group's (or the defaults), not the store's own"})
    revision = fields.Integer()


class RuleIn(Schema):
    """A routing rule as staff send it; ``routing.validate_rule`` checks the rest."""
    class Meta:
        unknown = "raise"
    store_code = fields.String(allow_none=True, validate=validate.Length(min=1, max=32),
                               metadata={"description": "null: a group rule"})
    priority = fields.Integer(required=True, validate=validate.Range(min=0, max=10000),
                              metadata={"description": "lower first; a store's rules before the group's"})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    active = fields.Boolean(load_default=True)
    conditions = fields.Dict(load_default=dict)
    target = fields.Dict(required=True)
    strategy = fields.String(required=True, metadata={
        "description": "round_robin, least_loaded, weighted (by daily capacity) or sticky (the customer's "
                       "consultant if eligible)"})


class RuleOut(RuleIn):
    id = fields.String()
    revision = fields.Integer()
    updated_at = fields.AwareDateTime()
