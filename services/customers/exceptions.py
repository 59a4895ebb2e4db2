"""Errors the customers service's RPC callers may see (part of its contract).
Each is a ``contracts.ServiceError``: a description and, where it helps,
the fields it is about."""
from dealerflow.contracts import ServiceError


class CustomerNotFound(ServiceError):
    """No such customer, or not one the caller may see."""


class InvalidCustomer(ServiceError):
    """Input that does not meet the schema; ``errors`` names each field."""


class NotAllowed(ServiceError):
    """The caller's role may not do this (merge, erase, ...)."""


class ContactTaken(ServiceError):
    """A phone or email given belongs to another customer: nothing is merged
    silently; ``errors`` names each and, if the caller may see it, whose."""


class StaleRevision(ServiceError):
    """The customer changed since the caller read it."""


class ImportNotReady(ServiceError):
    """The import is not in a state where this step can be taken."""
