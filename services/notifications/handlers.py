"""Use cases of the notifications service."""
import logging
import uuid

from sqlalchemy import select, update

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from dealerflow.outbox import first_delivery
from services.notifications.messages import change_message, new_lead_message, task_message
from services.notifications.models import InboxMessage, ProcessedMessage
from services.notifications.scoping import visible_messages

log = logging.getLogger(__name__)


def notify_new_lead(session, assigned: dict) -> InboxMessage | None:
    """Put the new lead in its consultant's inbox (once per assignment
    event); not when they claimed it themselves."""
    if not first_delivery(session, ProcessedMessage, assigned["event_id"], "notify_new_lead"):
        return None
    if assigned["actor_id"] == assigned["consultant_id"]:
        session.commit()
        return None
    title, body = new_lead_message(assigned)
    message = InboxMessage(id=str(uuid.uuid4()), user_id=assigned["consultant_id"],
                           kind="lead_assigned", title=title, body=body,
                           lead_id=assigned["lead_id"], created_at=utcnow())
    session.add(message)
    session.commit()
    log.info("lead %s: inbox message %s for %s", message.lead_id, message.id, message.user_id)
    return message


def notify_change(session, changed: dict) -> list[InboxMessage]:
    """Tell each user a lead's change names (once per event)."""
    return tell(session, changed, changed["change"], *change_message(changed))


def notify_task(session, event_type: str, task: dict) -> list[InboxMessage]:
    """A task's reminder to its owner, or its escalation to them and the managers (once per event)."""
    return tell(session, task, event_type.removeprefix("followup_"), *task_message(event_type, task))


def tell(session, event: dict, kind: str, title: str, body: str) -> list[InboxMessage]:
    """The same message in the inbox of each user the event names in ``tell``."""
    if not first_delivery(session, ProcessedMessage, event["event_id"], "tell"):
        return []
    messages = [InboxMessage(id=str(uuid.uuid4()), user_id=user_id, kind=kind[:32], title=title, body=body,
                             lead_id=event["lead_id"], created_at=utcnow()) for user_id in event["tell"]]
    session.add_all(messages)
    session.commit()
    return messages


ERASED = "(erased on the customer's request)"


def forget_customer(session, erased: dict) -> None:
    """Messages about the erased customer's leads keep their place, not their words."""
    if not first_delivery(session, ProcessedMessage, erased["event_id"], "forget_customer"):
        return
    for chunk in range(0, len(erased["lead_ids"]), 500):
        session.execute(update(InboxMessage).where(InboxMessage.lead_id.in_(erased["lead_ids"][chunk:chunk + 500]))
                        .values(title=ERASED, body=""))
    session.commit()


def list_inbox(session, actor: Actor, lead_id: str | None = None, limit: int = 50) -> list[InboxMessage]:
    """The actor's own messages (about one lead, if given), newest first."""
    query = select(InboxMessage).where(visible_messages(actor))
    if lead_id is not None:
        query = query.where(InboxMessage.lead_id == lead_id)
    return session.scalars(query.order_by(InboxMessage.created_at.desc()).limit(limit)).all()
