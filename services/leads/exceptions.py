"""Errors the leads service's RPC callers may see (part of its contract)."""


class LeadNotFound(Exception):
    """No such lead, or not one the caller may see."""


class InvalidQuery(Exception):
    """A list query that does not meet ``LeadQuery`` (its argument: the errors);
    a cursor this list did not hand out is one too."""
