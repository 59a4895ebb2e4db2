"""Which tasks an actor may see: the one place the followups service turns
an ``Actor`` into a query filter. A consultant sees their own tasks in their
stores; a manager or a group admin every task of their stores; a
platform's key none."""
from sqlalchemy import and_, false

from dealerflow.actor import CONSULTANT, Actor
from services.followups.models import Task


def visible_tasks(actor: Actor):
    if not actor.is_user or not actor.stores:
        return false()
    in_stores = Task.store_code.in_(actor.stores)
    return and_(in_stores, Task.consultant_id == actor.user_id) if actor.role == CONSULTANT else in_stores
