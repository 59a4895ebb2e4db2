"""Which tasks and leads an actor may follow: the one place the followups
service turns an ``Actor`` into a filter. A consultant sees their own
tasks and leads in their stores; a manager or a group admin every one of
their stores; a platform's key none."""
from sqlalchemy import and_, false

from dealerflow.actor import CONSULTANT, Actor
from services.followups.models import LeadState, Task


def visible_tasks(actor: Actor):
    if not actor.is_user or not actor.stores:
        return false()
    in_stores = Task.store_code.in_(actor.stores)
    return and_(in_stores, Task.consultant_id == actor.user_id) if actor.role == CONSULTANT else in_stores


def follows(actor: Actor, lead: LeadState | None) -> bool:
    """Whether the actor may see and act on this lead's follow-ups."""
    return (lead is not None and actor.is_user and lead.store_code in actor.stores
            and (actor.role != CONSULTANT or lead.consultant_id == actor.user_id))
