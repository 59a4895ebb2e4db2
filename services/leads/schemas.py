"""RPC results of the leads service (its arguments are in dealerflow.contracts)."""
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
    received_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
    first_contact_due_at = fields.AwareDateTime(allow_none=True)


class LeadPage(Schema):
    items = fields.List(fields.Nested(LeadSummary))
    next_cursor = fields.String(allow_none=True)


class AssignmentView(Schema):
    consultant_id = fields.String()
    reason = fields.String()
    assigned_at = fields.AwareDateTime()


class LeadDetail(LeadSummary):
    """Everything staff may see of a lead, with who had it and why."""
    platform = fields.String()
    external_id = fields.String(allow_none=True)
    customer_id = fields.String(allow_none=True)
    customer = fields.Dict()
    interest = fields.Dict(allow_none=True)
    trade_in = fields.List(fields.Dict(), allow_none=True)
    comments = fields.String(allow_none=True)
    phone_e164 = fields.String(attribute="customer_phone_e164", allow_none=True)
    phone_extension = fields.String(attribute="customer_phone_extension", allow_none=True)
    provider = fields.Dict(allow_none=True)
    received_at_note = fields.String(allow_none=True)
    assignments = fields.List(fields.Nested(AssignmentView))
