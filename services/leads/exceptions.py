"""Errors the leads service's RPC callers may see (part of its contract).
The newer ones are ``contracts.ServiceError``: a description and, where it
helps, the fields it is about."""
from dealerflow.contracts import ServiceError


class LeadNotFound(Exception):
    """No such lead, or not one the caller may see."""


class InvalidQuery(ServiceError):
    """A query that does not meet ``LeadQuery`` or ``AnalyticsQuery`` (its
    argument: the errors, by field); a cursor this list did not hand out is one too."""

    def __init__(self, errors: dict):
        super().__init__("The query is not valid; see errors.", errors)


class InvalidChange(ServiceError):
    """Input that does not meet the schema, or a change the lead cannot go
    through in its state (a stage skipped back, a loss without a reason, a
    consultant who is not the store's); ``errors`` names each field."""


class NotAllowed(ServiceError):
    """The caller's role may not do this (assign, approve a loss, edit rules)."""


class LeadConflict(ServiceError):
    """The lead changed meanwhile (claimed by someone else, re-routed): read it again."""
