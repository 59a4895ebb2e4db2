"""Use cases of the followups service."""
import logging
import uuid

from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.contracts import FOLLOWUP_SCHEDULED
from dealerflow.db import utcnow
from dealerflow.outbox import first_delivery, record, save_copy
from services.followups.models import OutboxMessage, ProcessedMessage, StoreCalendar, Task
from services.followups.scoping import visible_tasks

log = logging.getLogger(__name__)


def save_store_calendar(session, store: dict) -> None:
    if not first_delivery(session, ProcessedMessage, store["event_id"], "save_store_calendar"):
        return
    save_copy(session, StoreCalendar, {"store_code": store["code"]}, store["revision"],
              timezone=store["timezone"], response_minutes=store["response_minutes"])
    session.commit()


def schedule_first_contact(session, assigned: dict) -> Task | None:
    """The task to call a newly assigned lead by the deadline the leads
    service set (it owns the response-time SLA)."""
    if not first_delivery(session, ProcessedMessage, assigned["event_id"], "schedule_first_contact"):
        return None
    existing = session.scalar(select(Task).where(Task.lead_id == assigned["lead_id"],
                                                 Task.kind == "first_contact"))
    if existing is not None:  # re-assigned: the task is the new owner's, due by their clock
        existing.consultant_id = assigned["consultant_id"]
        existing.due_at = assigned["first_contact_due_at"] or existing.due_at
        session.commit()
        return existing
    if assigned["first_contact_due_at"] is None:  # contacted already, or a manager's to decide
        session.commit()
        return None
    task = Task(id=str(uuid.uuid4()), lead_id=assigned["lead_id"],
                consultant_id=assigned["consultant_id"], store_code=assigned["store_code"],
                kind="first_contact", status="open", created_at=utcnow(),
                due_at=assigned["first_contact_due_at"])
    session.add(task)
    record(session, OutboxMessage, FOLLOWUP_SCHEDULED, task_id=task.id, lead_id=task.lead_id,
           consultant_id=task.consultant_id, kind=task.kind, due_at=task.due_at)
    session.commit()
    log.info("lead %s: first contact due %s by %s", task.lead_id, task.due_at.isoformat(),
             task.consultant_id)
    return task


def list_tasks(session, actor: Actor, lead_id: str | None = None, limit: int = 200) -> list[Task]:
    """The actor's tasks (of one lead, if given), soonest due first."""
    query = select(Task).where(visible_tasks(actor))
    if lead_id is not None:
        query = query.where(Task.lead_id == lead_id)
    return session.scalars(query.order_by(Task.due_at).limit(limit)).all()
