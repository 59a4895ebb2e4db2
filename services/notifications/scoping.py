"""Which messages an actor may see: the one place the notifications service
turns an ``Actor`` into a query filter. Everyone sees only their own inbox,
a manager and a group admin included; a platform's key none."""
from sqlalchemy import false

from dealerflow.actor import Actor
from services.notifications.models import InboxMessage


def visible_messages(actor: Actor):
    return InboxMessage.user_id == actor.user_id if actor.is_user else false()
