"""Who is asking: the one definition every service and the gateway share.

The gateway's auth middleware makes an ``Actor`` from a staff token or a
platform's API key and puts it on ``req.context.actor``; every RPC carries it
as a dict (``Actor.dump()``), and each service turns it into a query filter in
its own ``scoping.py``. A record outside the actor's scope is answered as if
it did not exist, so a bug in the gateway is not enough to cross a store's
border.
"""
from dataclasses import dataclass

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

USER, API_KEY = "user", "api_key"
CONSULTANT, MANAGER, GROUP_ADMIN = "consultant", "manager", "group_admin"
ROLES = (CONSULTANT, MANAGER, GROUP_ADMIN)


@dataclass(frozen=True)
class Actor:
    kind: str                       # USER or API_KEY
    stores: tuple[str, ...] = ()    # the stores it may act in (a group admin: every store)
    user_id: str | None = None      # USER
    role: str | None = None         # USER: one of ROLES
    platform: str | None = None     # API_KEY: the platform's name

    @property
    def is_user(self) -> bool:
        return self.kind == USER

    @property
    def is_group_admin(self) -> bool:
        return self.kind == USER and self.role == GROUP_ADMIN

    def dump(self) -> dict:
        """The actor as an RPC argument."""
        return ActorSchema().dump(self)

    @classmethod
    def load(cls, data: dict) -> "Actor":
        """The actor an RPC was given; ``ValidationError`` if malformed."""
        return ActorSchema().load(data)


class ActorSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    kind = fields.String(required=True, validate=validate.OneOf((USER, API_KEY)))
    stores = fields.List(fields.String(), required=True)
    user_id = fields.String(allow_none=True, load_default=None)
    role = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(ROLES))
    platform = fields.String(allow_none=True, load_default=None)

    @validates_schema
    def complete(self, data, **kwargs):
        if data["kind"] == USER and not (data.get("user_id") and data.get("role")):
            raise ValidationError("A user actor needs a user_id and a role.")
        if data["kind"] == API_KEY and not data.get("platform"):
            raise ValidationError("An API key actor needs a platform.")

    @post_load
    def make(self, data, **kwargs) -> Actor:
        return Actor(**dict(data, stores=tuple(data["stores"])))
