"""RPC arguments and results of the leads service."""
from marshmallow import Schema, fields


class LeadPlatformView(Schema):
    """The lead as the platform that sent it may see it."""
    id = fields.String()
    status = fields.String()
    store_code = fields.String()
    assigned_at = fields.AwareDateTime(allow_none=True)
    first_contact_at = fields.AwareDateTime(allow_none=True)
