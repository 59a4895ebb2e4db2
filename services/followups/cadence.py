"""When follow-ups fall due."""
from datetime import datetime, timedelta

# DESIGN: a new lead gets its first contact within minutes; a store sets its own.
DEFAULT_RESPONSE_MINUTES = 15


def first_contact_due(assigned_at: datetime, response_minutes: int | None) -> datetime:
    return assigned_at + timedelta(minutes=response_minutes or DEFAULT_RESPONSE_MINUTES)
