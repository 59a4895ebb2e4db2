"""RPC arguments and results of the notifications service that are not in
``dealerflow.notification_contracts`` (yet): a store's notification settings."""
from marshmallow import fields

from dealerflow.contracts import Tolerant


class StoreSettingsIn(Tolerant):
    urgent_breaks_quiet = fields.Boolean(required=True, metadata={
        "description": "escalations and SLA warnings reach people in their quiet hours (default false: they wait)"})


class StoreSettingsOut(StoreSettingsIn):
    store_code = fields.String()

