"""Errors the followups service's RPC callers may see (part of its contract)."""
from dealerflow.contracts import ServiceError


class TaskNotFound(ServiceError):
    """No such task or lead, or not one the caller may see."""


class InvalidFollowup(ServiceError):
    """Input that does not meet the schema, or a change the task cannot go
    through now; ``errors`` names each field."""


class NotAllowed(ServiceError):
    """The caller's role may not do this (set a store's cadence, add a vehicle)."""


class BookingConflict(ServiceError):
    """The vehicle or the specialist is booked for an overlapping time
    (``errors`` names ``vehicle_id`` or ``specialist_id``)."""


class VehicleTaken(ServiceError):
    """Another vehicle has this VIN, or this store's stock number."""


class AttachmentRefused(ServiceError):
    """An empty file; ``errors`` names the field."""


class AttachmentTooLarge(AttachmentRefused):
    """A file over its kind's limit (photos 10 MiB, audio 25 MiB)."""


class AttachmentType(AttachmentRefused):
    """A file whose bytes are not a photo or a recording we accept."""
