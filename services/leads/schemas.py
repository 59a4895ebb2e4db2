"""RPC results of the leads service (its arguments are in
dealerflow.contracts and dealerflow.lead_contracts)."""
from marshmallow import Schema, fields


class LeadPlatformView(Schema):
    """The lead as the platform that sent it may see it."""
    id = fields.String()
    status = fields.String()
    store_code = fields.String()
    assigned_at = fields.AwareDateTime(allow_none=True)
    first_contact_at = fields.AwareDateTime(allow_none=True)


class LeadSummary(LeadPlatformView):
    """A lead in a staff list: what a card shows and the response clock."""
    source = fields.String()
    channel = fields.String()
    consultant_id = fields.String(allow_none=True)
    customer = fields.Function(lambda lead: {"name": lead.customer_name, "phone": lead.customer_phone,
                                             "phone_e164": lead.customer_phone_e164})
    interest = fields.Function(lambda lead: {key: (lead.interest or {}).get(key) for key in ("brand", "model")}
                               if lead.interest else None)
    grade = fields.String()
    stage = fields.String()
    score = fields.Integer(allow_none=True)
    reroutes = fields.Integer()
    received_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    first_contact_due_at = fields.AwareDateTime(allow_none=True)
    pooled_at = fields.AwareDateTime(allow_none=True)
    duplicate_of = fields.String(allow_none=True)


class LeadPage(Schema):
    items = fields.List(fields.Nested(LeadSummary))
    next_cursor = fields.String(allow_none=True)


class AssignmentView(Schema):
    consultant_id = fields.String()
    reason = fields.String()
    assigned_at = fields.AwareDateTime()
    actor_id = fields.String(allow_none=True)
    rule_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class LeadEventView(Schema):
    change = fields.String()
    actor_id = fields.String(allow_none=True)
    at = fields.AwareDateTime()
    reason = fields.String(allow_none=True)
    details = fields.Dict()


class CommentView(Schema):
    id = fields.String()
    author_id = fields.String()
    body = fields.String()
    mentions = fields.List(fields.String())
    created_at = fields.AwareDateTime()


class LeadDetail(LeadSummary):
    """Everything staff may see of a lead, with who had it and why, its
    history of changes, its discussion and the inquiries that joined it."""
    platform = fields.String()
    external_id = fields.String(allow_none=True)
    customer = fields.Dict()
    interest = fields.Dict(allow_none=True)
    trade_in = fields.List(fields.Dict(), allow_none=True)
    comments = fields.String(allow_none=True)
    phone_e164 = fields.String(attribute="customer_phone_e164", allow_none=True)
    phone_extension = fields.String(attribute="customer_phone_extension", allow_none=True)
    provider = fields.Dict(allow_none=True)
    received_at_note = fields.String(allow_none=True)
    score_method = fields.String(allow_none=True)
    score_reasons = fields.List(fields.Dict(), allow_none=True)
    lost_reason = fields.String(allow_none=True)
    lost_note = fields.String(allow_none=True)
    closed_at = fields.AwareDateTime(allow_none=True)
    deal_value = fields.Integer(allow_none=True)
    deal_currency = fields.String(allow_none=True)
    vehicle = fields.Dict(allow_none=True)
    assignments = fields.List(fields.Nested(AssignmentView))
    history = fields.List(fields.Nested(LeadEventView))
    discussion = fields.List(fields.Nested(CommentView))
    inquiries = fields.List(fields.Nested(LeadSummary))
