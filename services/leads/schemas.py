"""RPC arguments and results of the leads service."""
from marshmallow import EXCLUDE, Schema, fields


class Actor(Schema):
    """Who is asking: for now a lead platform's API key."""
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True)
    platform = fields.String(required=True)
    stores = fields.List(fields.String(), required=True)


class LeadPlatformView(Schema):
    """The lead as the platform that sent it may see it."""
    id = fields.String()
    status = fields.String()
    store_code = fields.String()
    assigned_at = fields.AwareDateTime(allow_none=True)
    first_contact_at = fields.AwareDateTime(allow_none=True)
