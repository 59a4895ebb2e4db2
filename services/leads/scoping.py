"""Which leads an actor may see: the one place the leads service turns an
``Actor`` into a query filter.

- a platform's API key: the leads its platform sent to its stores;
- a consultant: their own leads, those they were mentioned on, and the
  claim pool, in their stores;
- a manager or a group admin: every lead of their stores.
"""
from sqlalchemy import and_, false, or_, select

from dealerflow.actor import CONSULTANT, Actor
from services.leads.models import Lead, LeadWatcher


def visible_leads(actor: Actor):
    in_stores = Lead.store_code.in_(actor.stores) if actor.stores else false()
    if not actor.is_user:
        return and_(in_stores, Lead.platform == actor.platform)
    if actor.role == CONSULTANT:
        return and_(in_stores, or_(
            Lead.consultant_id == actor.user_id, Lead.status == "pooled",
            Lead.id.in_(select(LeadWatcher.lead_id).where(LeadWatcher.user_id == actor.user_id))))
    return in_stores
