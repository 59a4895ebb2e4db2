"""What an actor may see and manage: the one place the notifications service
turns an ``Actor`` into a query filter.

- Everyone sees only their own inbox, preferences and devices, a manager
  and a group admin included; a platform's key none.
- A store's channels, settings and deliveries: its managers and the group's
  admins (whose actor lists every store). A consultant is refused (403); a store outside the actor's stores
  is answered as if it did not exist (404).
"""
from sqlalchemy import false

from dealerflow.actor import CONSULTANT, Actor
from services.notifications.exceptions import NotAllowed, NotificationNotFound
from services.notifications.models import Delivery, InboxMessage


def visible_messages(actor: Actor):
    return InboxMessage.user_id == actor.user_id if actor.is_user else false()


def may_manage(actor: Actor) -> None:
    """Managers and group admins manage stores' channels; nobody else."""
    if not actor.is_user or actor.role == CONSULTANT:
        raise NotAllowed("Only a store's managers and the group's admins manage its notifications.")


def managed_store(actor: Actor, store_code: str) -> str:
    """The store, if the actor manages it (404 as if it did not exist otherwise)."""
    may_manage(actor)
    if store_code not in actor.stores:
        raise NotificationNotFound(f"No store {store_code} of yours.")
    return store_code


def visible_deliveries(actor: Actor):
    """The deliveries of the stores the actor manages (a group admin's
    stores are every store; they also see those of no store)."""
    may_manage(actor)
    in_stores = Delivery.store_code.in_(actor.stores)
    return in_stores | Delivery.store_code.is_(None) if actor.is_group_admin else in_stores
