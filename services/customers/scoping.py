"""Which customers an actor may see: the one place the customers service
turns an ``Actor`` into a query filter.

- a consultant: the customers they own, and those of a lead assigned to them;
- a manager or a group admin: the customers of their stores (the customer's
  own store, or a store one of its leads went to);
- a platform's API key: none (it may only tell what a known customer did).

An erased or merged customer is nobody's: its tombstone is not shown.
"""
from sqlalchemy import and_, exists, false, or_, select

from dealerflow.actor import CONSULTANT, Actor
from services.customers.models import Customer, CustomerLead


def visible_customers(actor: Actor):
    alive = and_(Customer.merged_into.is_(None), Customer.erased_at.is_(None))
    if not actor.is_user or not actor.stores:
        return false()
    if actor.role == CONSULTANT:
        theirs = or_(Customer.owner_id == actor.user_id, exists(select(CustomerLead.lead_id).where(
            CustomerLead.customer_id == Customer.id, CustomerLead.consultant_id == actor.user_id)))
    else:
        theirs = or_(Customer.store_code.in_(actor.stores), exists(select(CustomerLead.lead_id).where(
            CustomerLead.customer_id == Customer.id, CustomerLead.store_code.in_(actor.stores))))
    return and_(alive, theirs)
