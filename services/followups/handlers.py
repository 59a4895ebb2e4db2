"""What the followups service does with other services' events: its copies
of the stores' calendars, the stores' managers and each lead's grade and
stage, and the tasks that follow from a lead's assignment and changes
(``tasks.py``). Each handler is idempotent (``first_delivery``)."""
import logging
from types import SimpleNamespace

from sqlalchemy import delete, select, update

from dealerflow.actor import Actor
from dealerflow.db import utcnow
from dealerflow.once import forget_replies
from dealerflow.outbox import first_delivery, forget_sent, insert_or_ignore, save_copy
from services.followups import attachments, tasks, test_drives
from services.followups.models import (
    FollowupRecord,
    LeadState,
    OutboxMessage,
    ProcessedMessage,
    StoreCalendar,
    StoreManager,
    Task,
)
from services.followups.scoping import visible_tasks

log = logging.getLogger(__name__)


def save_store_calendar(session, store: dict) -> None:
    if not first_delivery(session, ProcessedMessage, store["event_id"], "save_store_calendar"):
        return
    save_copy(session, StoreCalendar, {"store_code": store["code"]}, store["revision"],
              timezone=store["timezone"], response_minutes=store["response_minutes"],
              business_hours=store["business_hours"], holidays=store["holidays"])
    session.commit()


def save_managers(session, user: dict) -> None:
    """Keep who manages which store (they hear of missed tasks)."""
    if not first_delivery(session, ProcessedMessage, user["event_id"], "save_managers"):
        return
    known = session.scalar(select(StoreManager.revision).where(StoreManager.user_id == user["user_id"]).limit(1))
    if known is None or known < user["revision"]:
        session.execute(delete(StoreManager).where(StoreManager.user_id == user["user_id"]))
        if user["role"] == "manager" and user["active"]:
            session.add_all(StoreManager(user_id=user["user_id"], store_code=store, revision=user["revision"])
                            for store in user["stores"])
    session.commit()


NEW_LEAD = {"grade": "N", "stage": "initial_contact", "status": "assigned", "recorded": 0}


def said(event: dict, values: dict) -> dict:
    """What the event says of its lead: the values it carries, and the store."""
    return {name: value for name, value in dict(values, store_code=event["store_code"]).items() if value is not None}


def lead_state(session, event: dict, **values) -> LeadState:
    """The copy of the lead the event is about, brought up to date."""
    lead = session.get(LeadState, event["lead_id"], with_for_update=True)
    if lead is None:
        lead = LeadState(lead_id=event["lead_id"], **NEW_LEAD)
        session.add(lead)
    for name, value in said(event, values).items():
        setattr(lead, name, value)
    return lead


def new_lead_state(session, event: dict, **values) -> SimpleNamespace | None:
    """The copy of a lead the service has not heard of, made by one Core
    INSERT that does nothing if the lead is known (no read first, no ORM
    object to make and flush): the row as inserted, its columns as
    attributes; None for a known lead (``lead_state`` then)."""
    row = dict(NEW_LEAD, lead_id=event["lead_id"], **said(event, values))
    return SimpleNamespace(**row) if insert_or_ignore(session, LeadState, **row) else None


def schedule_first_contact(session, assigned: dict) -> Task | None:
    """A lead got its owner: its open tasks are theirs, and the task to
    call it is due by the deadline the leads service set (it owns the
    response SLA); none once the lead was contacted or a manager has it."""
    if not first_delivery(session, ProcessedMessage, assigned["event_id"], "schedule_first_contact"):
        return None
    values = dict(consultant_id=assigned["consultant_id"], grade=assigned["grade"],
                  customer_name=assigned["customer_name"], interest=assigned["interest"])
    lead = new_lead_state(session, assigned, **values)  # almost always: a lead's first owner
    known = lead is None  # every task belongs to a known lead: a new one has none to look for
    first = None
    if known:
        lead = lead_state(session, assigned, **values)
        session.flush()
        for task in tasks.open_tasks(session, lead.lead_id):
            task.consultant_id = lead.consultant_id
            if task.kind == "first_contact" and assigned["first_contact_due_at"]:
                task.due_at = assigned["first_contact_due_at"]  # the new owner's clock
                tasks.arm(task, tasks.policy_of(session, lead.store_code), utcnow())
                first = task
    if first is None and assigned["first_contact_due_at"] is not None and not (known and session.scalar(
            select(Task.id).where(Task.lead_id == lead.lead_id, Task.kind == "first_contact").limit(1))):
        first = tasks.add_task(session, lead, "first_contact", assigned["first_contact_due_at"], "sla")
    session.commit()
    if first is not None:
        log.info("lead %s: first contact due %s by %s", lead.lead_id, first.due_at.isoformat(), lead.consultant_id)
    return first


def follow_lead_change(session, changed: dict) -> None:
    if not first_delivery(session, ProcessedMessage, changed["event_id"], "follow_lead_change"):
        return
    lead = lead_state(session, changed, consultant_id=changed["consultant_id"], grade=changed["grade"],
                      stage=changed["stage"], status=changed["status"], customer_name=changed["customer_name"])
    session.flush()
    tasks.follow_lead_change(session, lead, changed)
    session.commit()


def forget_customer(session, erased: dict) -> None:
    """The customer's words in these leads' records go, their attachments
    (photos, voice recordings), and the licence number and email of their
    test drives; the records' facts stay."""
    if not first_delivery(session, ProcessedMessage, erased["event_id"], "forget_customer"):
        return
    for chunk in range(0, len(erased["lead_ids"]), 500):
        leads = erased["lead_ids"][chunk:chunk + 500]
        session.execute(update(FollowupRecord).where(FollowupRecord.lead_id.in_(leads))
                        .values(notes=None, next_step=None))
        session.execute(update(Task).where(Task.lead_id.in_(leads)).values(note=None))
        session.execute(update(LeadState).where(LeadState.lead_id.in_(leads)).values(customer_name=None,
                                                                                     interest=None))
        test_drives.forget(session, leads)  # the driving licence number and the email of the bookings
        attachments.forget(session, leads)
    forget_sent(session, OutboxMessage, erased["lead_ids"])
    forget_replies(session)  # RPC replies may quote them
    session.commit()


def list_tasks(session, actor: Actor, lead_id: str | None = None, limit: int = 200,
               status: str | None = None) -> list[Task]:
    """The actor's tasks (of one lead, of one status, if given), soonest due first."""
    query = select(Task).where(visible_tasks(actor))
    if lead_id is not None:
        query = query.where(Task.lead_id == lead_id)
    if status is not None:
        query = query.where(Task.status == status)
    return session.scalars(query.order_by(Task.due_at).limit(limit)).all()
