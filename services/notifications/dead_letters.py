"""Deliveries as admins see them: the dead letters (given up on, with the
receiver's last answer), what is pending or sent, and resending.

Resending makes a dead delivery pending again now, with its attempts back
to zero: it goes through the rate limit and the circuit like any other.
A delivery of a channel deleted since stays dead (there is nowhere to send it).
"""
from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from services.notifications.models import Delivery, StoreChannel, UserCopy
from services.notifications.scoping import managed_store, visible_deliveries

STATUSES = ("pending", "sending", "sent", "dead")
MAX_LIST = 500


def listed(session, actor: Actor, store_code: str | None = None, status: str = "dead", limit: int = 100) -> list:
    """The deliveries in the actor's stores with this status, newest first,
    named: the channel's name, the recipient's (or the channel's) name."""
    query = select(Delivery).where(visible_deliveries(actor))
    if store_code is not None:
        query = query.where(Delivery.store_code == managed_store(actor, store_code))
    if status in STATUSES:
        query = query.where(Delivery.status == status)
    rows = session.scalars(query.order_by(Delivery.created_at.desc(), Delivery.id.desc())
                           .limit(max(1, min(int(limit), MAX_LIST)))).all()
    names = dict(session.execute(select(StoreChannel.id, StoreChannel.name).where(
        StoreChannel.id.in_({row.channel_id for row in rows if row.channel_id}))).all()) if rows else {}
    people = dict(session.execute(select(UserCopy.user_id, UserCopy.display_name).where(
        UserCopy.user_id.in_({row.user_id for row in rows if row.user_id}))).all()) if rows else {}
    return [dict(vars(row), channel_name=names.get(row.channel_id),
                 recipient=people.get(row.user_id) or row.address or names.get(row.channel_id)) for row in rows]


def resend(session, actor: Actor, ids: list[str]) -> dict:
    """Dead letters of the actor's stores pending again; how many."""
    rows = session.scalars(select(Delivery).where(visible_deliveries(actor), Delivery.id.in_(ids),
                                                  Delivery.status == "dead").with_for_update()).all()
    live = set(session.scalars(select(StoreChannel.id).where(
        StoreChannel.id.in_({row.channel_id for row in rows if row.channel_id})))) if rows else set()
    now, resent = utcnow(), 0
    for row in rows:
        if row.channel_id is not None and row.channel_id not in live:
            continue
        row.status, row.attempts, row.next_attempt_at, row.lease_owner = "pending", 0, now, None
        resent += 1
    session.commit()
    return {"resent": resent}
