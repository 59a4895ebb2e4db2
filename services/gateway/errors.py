"""Every error the gateway answers with, and the one table that maps them
(and the services' RPC errors) to HTTP. Bodies are JSON with ``title`` and
``description``; a 422 adds ``errors``, naming each bad field."""
import json
import logging

import falcon
from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)


class GatewayError(Exception):
    def __init__(self, description: str, errors: dict | None = None,
                 headers: dict | None = None):
        super().__init__(description)
        self.description, self.errors, self.headers = description, errors, headers or {}


class BadRequest(GatewayError): pass          # noqa: E701
class Unauthorized(GatewayError): pass        # noqa: E701
class Forbidden(GatewayError): pass           # noqa: E701
class NotFound(GatewayError): pass            # noqa: E701
class TooLarge(GatewayError): pass            # noqa: E701
class UnsupportedType(GatewayError): pass     # noqa: E701
class Invalid(GatewayError): pass             # noqa: E701
class InvalidInput(GatewayError): pass        # noqa: E701
class Conflict(GatewayError): pass            # noqa: E701
class RateLimited(GatewayError): pass         # noqa: E701
class Unavailable(GatewayError): pass         # noqa: E701


HTTP_ERRORS = {
    BadRequest: (falcon.HTTP_400, "Bad request"),
    Unauthorized: (falcon.HTTP_401, "Unauthorized"),
    Forbidden: (falcon.HTTP_403, "Forbidden"),
    NotFound: (falcon.HTTP_404, "Not found"),
    TooLarge: (falcon.HTTP_413, "Payload too large"),
    UnsupportedType: (falcon.HTTP_415, "Unsupported media type"),
    Invalid: (falcon.HTTP_422, "Invalid lead"),
    InvalidInput: (falcon.HTTP_422, "Invalid input"),
    Conflict: (falcon.HTTP_409, "Conflict"),
    RateLimited: (falcon.HTTP_429, "Too many requests"),
    Unavailable: (falcon.HTTP_503, "Service unavailable"),
}

# A service's public exception (its exceptions.py), by class name.
REMOTE_ERRORS = {
    "LeadNotFound": NotFound,
    "InvalidQuery": InvalidInput,
    "InvalidChange": InvalidInput,
    "LeadConflict": Conflict,
    "TaskNotFound": NotFound,
    "InvalidFollowup": InvalidInput,
    "AttachmentRefused": InvalidInput,
    "AttachmentTooLarge": TooLarge,
    "AttachmentType": UnsupportedType,
    "CustomerNotFound": NotFound,
    "InvalidCustomer": InvalidInput,
    "NotAllowed": Forbidden,
    "ContactTaken": Conflict,
    "StaleRevision": Conflict,
    "ImportNotReady": Conflict,
    "BookingConflict": Conflict,
    "VehicleTaken": Conflict,
    "NotificationNotFound": NotFound,
    "InvalidNotification": InvalidInput,
}


def from_remote(exc: RemoteError) -> Exception:
    """The gateway's error for a service's public one; other errors as they
    are. A ``contracts.ServiceError``'s text is JSON with its description
    and the fields it names."""
    mapped = REMOTE_ERRORS.get(exc.exc_type)
    if not mapped:
        return exc
    description, errors = exc.value or exc.exc_type, None
    if description.startswith("{"):
        try:
            decoded = json.loads(description)
            description, errors = decoded["description"], decoded.get("errors")
        except (ValueError, KeyError, TypeError):
            pass
    return mapped(description, errors=errors)


def handle_gateway_error(req, resp, exc, params):
    status, title = HTTP_ERRORS[type(exc)]
    resp.status = status
    resp.media = {"title": title, "description": exc.description}
    if exc.errors is not None:
        resp.media["errors"] = exc.errors
    for name, value in exc.headers.items():
        resp.set_header(name, value)


def handle_remote_error(req, resp, exc, params):
    """A service error that is not part of its contract (``RpcPool.call``
    turns those that are into ``REMOTE_ERRORS``' gateway errors)."""
    log.error("unexpected error from a service: %s %s", exc.exc_type, exc.value)
    raise falcon.HTTPInternalServerError(description="A service failed; it was logged.")


def handle_bus_down(req, resp, exc, params):
    log.warning("bus unavailable: %r", exc)
    handle_gateway_error(req, resp, Unavailable(
        "The service cannot be reached right now; try again shortly.",
        headers={"Retry-After": "5"}), params)


def handle_database_down(req, resp, exc, params):
    log.error("gateway database unavailable: %r", exc)
    handle_gateway_error(req, resp, Unavailable(
        "Leads cannot be taken right now; nothing was accepted. Try again shortly.",
        headers={"Retry-After": "5"}), params)


# The gateway's own database is away (not a bug in a query): answer 503.
DATABASE_DOWN = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError,
                 sa_exc.TimeoutError)


# A service cannot be reached or did not answer in time.
BUS_DOWN = (RpcTimeout, UnknownService, KombuError, AMQPError, OSError)


def install(app: falcon.App) -> None:
    app.add_error_handler(GatewayError, handle_gateway_error)
    app.add_error_handler(RemoteError, handle_remote_error)
    for exc_type in BUS_DOWN:
        app.add_error_handler(exc_type, handle_bus_down)
    for exc_type in DATABASE_DOWN:
        app.add_error_handler(exc_type, handle_database_down)
