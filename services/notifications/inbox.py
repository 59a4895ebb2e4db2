"""The in-app inbox: a user's own messages, newest first, in keyset pages;
the unread count; marking read."""
from sqlalchemy import func, select, update

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from dealerflow.paging import BadCursor, keyset_page
from services.notifications.exceptions import InvalidNotification
from services.notifications.models import InboxMessage
from services.notifications.scoping import visible_messages

MAX_PAGE = 200


def unread(session, actor: Actor) -> int:
    return session.scalar(select(func.count()).select_from(InboxMessage)
                          .where(visible_messages(actor), InboxMessage.read_at.is_(None)))


def page(session, actor: Actor, lead_id: str | None = None, unread_only: bool = False,
         cursor: str | None = None, limit: int = 50) -> dict:
    """A page of the actor's messages (about one lead, or unread only, if
    asked), with the count of all their unread ones."""
    query = select(InboxMessage).where(visible_messages(actor))
    if lead_id is not None:
        query = query.where(InboxMessage.lead_id == lead_id)
    if unread_only:
        query = query.where(InboxMessage.read_at.is_(None))
    try:
        items, next_cursor = keyset_page(session, query, InboxMessage.created_at, InboxMessage.id, True,
                                         max(1, min(int(limit), MAX_PAGE)), cursor)
    except BadCursor as exc:
        raise InvalidNotification(str(exc), {"cursor": [str(exc)]})
    return {"items": items, "unread": unread(session, actor), "next_cursor": next_cursor}


def mark_read(session, actor: Actor, ids: list[str] | None = None) -> dict:
    """Mark these of the actor's messages read (none given: all of them); the unread left."""
    statement = update(InboxMessage).where(visible_messages(actor), InboxMessage.read_at.is_(None))
    if ids is not None:
        statement = statement.where(InboxMessage.id.in_(ids))
    session.execute(statement.values(read_at=utcnow()).execution_options(synchronize_session=False))
    session.commit()
    return {"unread": unread(session, actor)}
