"""Errors the notifications service's RPC callers may see (part of its
contract; the gateway maps them to HTTP by name in ``errors.REMOTE_ERRORS``)."""
from dealerflow.contracts import ServiceError


class NotificationNotFound(ServiceError):
    """No such message, channel, delivery or store, or not one the caller may see (404)."""


class InvalidNotification(ServiceError):
    """Input that does not meet the schema; ``errors`` names each field (422)."""


class NotAllowed(ServiceError):
    """The caller's role may not do this: manage a store's channels, see or
    resend dead letters (managers and group admins), or have preferences
    (an API key) (403)."""
