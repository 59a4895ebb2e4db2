"""Follow-up records: what a consultant did (a call, a WeChat, an SMS, a
visit, an email), which way, what came of it, the notes and the next step.

Saving one completes the task it answers (the one named, else the lead's
earliest open task), and schedules the next follow-up: the one the
consultant set, else the cadence's. The lead's first record is announced
with ``first``: the leads service stops the response clock on it. Every
record is announced (``followup_recorded``), with its notes, for the
customer's timeline and traits.
"""
import uuid

from sqlalchemy import select

from dealerflow.actor import Actor
from dealerflow.contracts import FOLLOWUP_RECORDED
from dealerflow.db import utcnow
from dealerflow.outbox import record
from services.followups import tasks
from services.followups.exceptions import InvalidFollowup, TaskNotFound
from services.followups.models import FollowupRecord, LeadState, OutboxMessage, Task
from services.followups.scoping import follows


def lead_of(session, actor: Actor, lead_id: str, lock: bool = False) -> LeadState:
    """The lead, if the actor follows it (a consultant: their own)."""
    lead = session.get(LeadState, lead_id, with_for_update=lock)
    if not follows(actor, lead):
        raise TaskNotFound(f"No lead {lead_id} of yours.")
    return lead


def add(session, actor: Actor, data: dict) -> FollowupRecord:
    """Keep a follow-up done (``data``: a loaded ``RecordIn``)."""
    now = utcnow()
    lead = lead_of(session, actor, data["lead_id"], lock=True)
    if data.get("next_due_at") is not None:
        tasks.check_due(data["next_due_at"], now, "next_due_at")
    task = None
    if data.get("task_id"):
        task = session.scalar(select(Task).where(Task.id == data["task_id"], Task.lead_id == lead.lead_id))
        if task is None:
            raise InvalidFollowup("The task is not one of this lead's.", {"task_id": ["not this lead's"]})
    else:
        task = next(iter(tasks.open_tasks(session, lead.lead_id)), None)
    note = FollowupRecord(id=str(uuid.uuid4()), lead_id=lead.lead_id, task_id=task.id if task else None,
                          consultant_id=actor.user_id, store_code=lead.store_code, channel=data["channel"],
                          direction=data["direction"], outcome=data["outcome"], notes=data.get("notes"),
                          next_step=data.get("next_step"), script_id=data.get("script_id"), stage_at=lead.stage,
                          created_at=now)
    session.add(note)
    lead.recorded += 1
    record(session, OutboxMessage, FOLLOWUP_RECORDED, record_id=note.id, lead_id=lead.lead_id,
           store_code=lead.store_code, consultant_id=actor.user_id, channel=note.channel,
           direction=note.direction, outcome=note.outcome, notes=note.notes, first=lead.recorded == 1,
           recorded_at=now)
    if task is not None and task.status == "open":
        tasks.close(session, task, "done", note.outcome, actor.user_id, now)
    tasks.schedule_next(session, lead, now, actor.user_id if data.get("next_due_at") else None,
                        data.get("next_due_at"), data.get("next_kind"), data.get("next_step"))
    session.commit()
    return note


def of_lead(session, actor: Actor, lead_id: str) -> list[FollowupRecord]:
    lead_of(session, actor, lead_id)
    return list(session.scalars(select(FollowupRecord).where(FollowupRecord.lead_id == lead_id)
                                .order_by(FollowupRecord.created_at.desc())))
