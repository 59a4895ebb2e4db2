"""A customer's timeline: what happened with them, newest first, from the
other services' events (leads, assignments, tasks; records, stage changes,
test drives and messages as those services announce them) and from actions
here (created, edited, merged, imported, behaviours)."""
from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.paging import BadCursor, keyset_page
from services.customers.exceptions import InvalidCustomer
from services.customers.models import TimelineEntry
from services.customers.profiles import visible_customer


def page(session, actor: Actor, customer_id: str, query: dict) -> dict:
    visible_customer(session, actor, customer_id)
    try:
        entries, next_cursor = keyset_page(
            session, select(TimelineEntry).where(TimelineEntry.customer_id == customer_id),
            TimelineEntry.occurred_at, TimelineEntry.id, True, query["limit"], query.get("cursor"))
    except BadCursor as exc:
        raise InvalidCustomer("The query is not valid; see errors.", errors={"cursor": [str(exc)]})
    return {"items": entries, "next_cursor": next_cursor}
