"""Errors the leads service's RPC callers may see (part of its contract)."""


class LeadNotFound(Exception):
    """No such lead, or not one the caller may see."""
