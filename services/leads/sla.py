"""The response-time SLA: by when a newly assigned lead must be contacted.
DESIGN: minutes, not hours; each store sets its own (grades and channels
refine it with routing)."""
from datetime import datetime, timedelta

DEFAULT_RESPONSE_MINUTES = 15


def first_contact_due(assigned_at: datetime, response_minutes: int | None) -> datetime:
    return assigned_at + timedelta(minutes=response_minutes or DEFAULT_RESPONSE_MINUTES)
