"""RPC results of the followups service."""
from marshmallow import Schema, fields


class TaskOut(Schema):
    id = fields.String()
    lead_id = fields.String()
    consultant_id = fields.String()
    store_code = fields.String()
    kind = fields.String()
    status = fields.String()
    due_at = fields.AwareDateTime()
    created_at = fields.AwareDateTime()
