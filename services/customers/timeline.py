"""A customer's timeline: what happened with them, newest first, from the
other services' events (leads and assignments; follow-up records, stage
changes, test drives and messages as those services announce them) and from actions
here (created, edited, merged, imported, behaviours)."""
from sqlalchemy import select

from dealerflow.actor import Actor
from services.customers.inputs import page
from services.customers.models import TimelineEntry
from services.customers.profiles import visible_customer


def entries_of(session, actor: Actor, customer_id: str, query: dict) -> dict:
    visible_customer(session, actor, customer_id)
    entries, next_cursor = page(session, select(TimelineEntry).where(TimelineEntry.customer_id == customer_id),
                                TimelineEntry.occurred_at, query)
    return {"items": entries, "next_cursor": next_cursor}
