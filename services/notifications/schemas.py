"""RPC results of the notifications service."""
from marshmallow import Schema, fields


class InboxMessageOut(Schema):
    id = fields.String()
    user_id = fields.String()
    kind = fields.String()
    title = fields.String()
    body = fields.String()
    lead_id = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    read_at = fields.AwareDateTime(allow_none=True)
