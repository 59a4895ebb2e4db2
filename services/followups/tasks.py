"""Tasks: created by the response SLA (first contact), by the cadence
(``cadence.py``) and by hand; completed, snoozed and rescheduled by their
consultant; reminded before they are due and escalated to the store's
managers when missed.

- A task's ``remind_at`` is ``due_at`` minus the store's reminder minutes
  (15 by default), its ``escalate_at`` ``due_at`` plus the escalation
  minutes (60). Moving a task moves both and re-arms them.
- The timer runs every half second in every replica and takes what is due
  in batches with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (SQLite's
  transactions begin IMMEDIATE: one writer at a time); marking a reminder
  sent and recording its event happen in one transaction, so each fires
  once, and a replica that restarts picks up what came due meanwhile.
- The cadence: after the first contact and after each completed task the
  next one is due by the lead's grade and stage unless the consultant
  set one; a grade or stage change brings the open cadence task forward
  (never later: a promised call stays promised); won and lost close what
  is open, and a win starts the after-sales care plan.
"""
import logging
import uuid
from datetime import timedelta
from functools import partial
from types import SimpleNamespace

from prometheus_client import Counter, Histogram
from sqlalchemy import bindparam, select
from sqlalchemy.orm import make_transient_to_detached

from dealerflow.actor import Actor
from dealerflow.contracts import FOLLOWUP_DONE, FOLLOWUP_OVERDUE, FOLLOWUP_REMINDER, FOLLOWUP_SCHEDULED
from dealerflow.db import utcnow
from dealerflow.hours import Calendar, calendar_for
from dealerflow.metrics import WAIT_BUCKETS, count_on_commit
from dealerflow.outbox import record
from services.followups import cadence
from services.followups.exceptions import InvalidFollowup, NotAllowed, TaskNotFound
from services.followups.models import (
    CadencePolicy,
    LeadState,
    OutboxMessage,
    StoreCalendar,
    StoreManager,
    Task,
)
from services.followups.scoping import follows, visible_tasks

log = logging.getLogger(__name__)

GROUP = "*"
DEFAULTS = {"remind_minutes": 15, "escalate_minutes": 60}
BATCH = 500  # tasks one timer transaction takes at most
TASK_COLUMNS = tuple(Task.__table__.columns)
INSERT_TASK = Task.__table__.insert()

# dealerflow.metrics lists them all; both count when the firing transaction commits
REMINDERS_FIRED = Counter("dealerflow_reminders_fired", "Reminders (before a task is due) and escalations "
                          "(once it is missed) fired", ["kind"])
REMINDER_LATENESS = Histogram("dealerflow_reminder_lateness_seconds", "From the moment a reminder or an "
                              "escalation was due to fire to the commit that fired it", buckets=WAIT_BUCKETS)


# the store's cadence policy and the group's, those that exist
STORE_AND_GROUP_POLICIES = select(
    CadencePolicy.store_code, CadencePolicy.plan, CadencePolicy.remind_minutes, CadencePolicy.escalate_minutes,
    CadencePolicy.revision).where(CadencePolicy.store_code.in_((bindparam("store_code"), GROUP)))


def policy_of(session, store_code: str):
    """The store's cadence policy, else the group's, else the defaults."""
    rows = {row.store_code: row for row in session.connection().execute(STORE_AND_GROUP_POLICIES,
                                                                        {"store_code": store_code})}
    row = rows.get(store_code) or rows.get(GROUP)
    if row is None:
        return SimpleNamespace(plan=cadence.DEFAULT_PLAN, inherited=True, revision=0, **DEFAULTS)
    return SimpleNamespace(plan=row.plan, remind_minutes=row.remind_minutes, inherited=store_code not in rows,
                           escalate_minutes=row.escalate_minutes, revision=row.revision)


def may_set(actor: Actor, store_code: str, what: str = "a store's cadence") -> None:
    if not actor.is_user or actor.role == "consultant":
        raise NotAllowed(f"Only managers change {what}.")
    if store_code == GROUP and actor.role != "group_admin":
        raise NotAllowed("Only a group admin sets the group's cadence.")
    if store_code != GROUP and store_code not in actor.stores:
        raise TaskNotFound(f"No store {store_code} of yours.")


def get_policy(session, actor: Actor, store_code: str):
    if store_code != GROUP and store_code not in actor.stores:
        raise TaskNotFound(f"No store {store_code} of yours.")
    return policy_of(session, store_code)


def save_policy(session, actor: Actor, store_code: str, data: dict):
    """Change the store's (or the group's) cadence; fields not given keep what applies now."""
    may_set(actor, store_code)
    current = policy_of(session, store_code)
    try:
        plan = cadence.validate_plan(data["plan"]) if "plan" in data else current.plan
    except cadence.PlanError as exc:
        raise InvalidFollowup(str(exc), {f"plan.{exc.field}" if exc.field else "plan": [str(exc)]})
    row = session.get(CadencePolicy, store_code, with_for_update=True)
    if row is None:
        row = CadencePolicy(store_code=store_code, revision=0, plan=current.plan,
                            remind_minutes=current.remind_minutes, escalate_minutes=current.escalate_minutes)
        session.add(row)
    row.plan = plan
    for name in DEFAULTS:
        if data.get(name) is not None:
            setattr(row, name, data[name])
    row.revision += 1
    row.updated_at = utcnow()
    session.commit()
    return policy_of(session, store_code)


def calendar_of(session, store_code: str) -> Calendar:
    store = session.get(StoreCalendar, store_code)
    if store is None:
        return calendar_for("Asia/Shanghai", {})
    return calendar_for(store.timezone, store.business_hours or {}, store.holidays or ())


def arm(task: Task, policy, now) -> None:
    """Set the task's reminder and escalation from its due time."""
    remind = task.due_at - timedelta(minutes=policy.remind_minutes)
    task.remind_at = remind if remind > now else None  # a task due within the reminder time is its own
    task.reminded_at = None
    task.escalate_at = task.due_at + timedelta(minutes=policy.escalate_minutes)
    task.escalated_at = None


def add_task(session, lead, kind: str, due_at, source: str, actor_id: str | None = None,
             note: str | None = None, now=None) -> Task:
    """A new task for the consultant of ``lead`` (a ``LeadState``, or any
    object with its ``lead_id``, ``consultant_id`` and ``store_code``),
    armed and announced. Its row
    is written by a Core INSERT on the session's connection, and the task
    joins the session as that row (the unit of work's flush of one new row
    cost more than the rest of a new lead)."""
    now = now or utcnow()
    task = Task(id=str(uuid.uuid4()), lead_id=lead.lead_id, consultant_id=lead.consultant_id,
                store_code=lead.store_code, kind=kind, status="open", source=source, due_at=due_at,
                created_at=now, note=note, created_by=actor_id, completed_at=None, outcome=None)
    arm(task, policy_of(session, lead.store_code), now)
    session.connection().execute(INSERT_TASK, {column.key: getattr(task, column.key) for column in TASK_COLUMNS})
    make_transient_to_detached(task)
    session.add(task)  # persistent, every column loaded: nothing to flush, nothing to read back
    announce_scheduled(session, task, actor_id)
    return task


def announce_scheduled(session, task: Task, actor_id: str | None) -> None:
    record(session, OutboxMessage, FOLLOWUP_SCHEDULED, task_id=task.id, lead_id=task.lead_id,
           consultant_id=task.consultant_id, kind=task.kind, due_at=task.due_at, store_code=task.store_code,
           source=task.source, actor_id=actor_id)


def open_tasks(session, lead_id: str) -> list[Task]:
    return list(session.scalars(select(Task).where(Task.lead_id == lead_id, Task.status == "open")
                                .order_by(Task.due_at)))


def close(session, task: Task, status: str, outcome: str | None, actor_id: str | None, now) -> None:
    task.status, task.outcome, task.completed_at = status, outcome, now
    record(session, OutboxMessage, FOLLOWUP_DONE, task_id=task.id, lead_id=task.lead_id,
           store_code=task.store_code, consultant_id=task.consultant_id, kind=task.kind, status=status,
           outcome=outcome, actor_id=actor_id)


def schedule_next(session, lead: LeadState, after, actor_id: str | None = None, due_at=None,
                  kind: str | None = None, note: str | None = None) -> Task | None:
    """The lead's next follow-up: when the consultant said, else by the
    cadence; none for a lead that is closed or has an open task already."""
    if lead.status in ("won", "lost", "joined") or lead.consultant_id is None:
        return None
    if due_at is None and any(task.source != "after_sales" for task in open_tasks(session, lead.lead_id)):
        return None
    if due_at is None:
        following = cadence.next_due(after, lead.grade, lead.stage, policy_of(session, lead.store_code).plan,
                                     calendar_of(session, lead.store_code))
        if following is None:  # won, lost, or in after-sales care (its own plan)
            return None
        due_at, kind = following
    return add_task(session, lead, kind or "call", due_at, "manual" if actor_id else "cadence", actor_id, note)


def follow_lead_change(session, lead: LeadState, changed: dict) -> None:
    """What a change of the lead does to its tasks."""
    change, now = changed["change"], changed["occurred_at"]
    if change in ("won", "lost"):
        for task in open_tasks(session, lead.lead_id):
            close(session, task, "cancelled", change, changed["actor_id"], now)
        if change == "won":
            for kind, due_at, label in cadence.after_sales_plan(now, None, calendar_of(session, lead.store_code),
                                                                policy_of(session, lead.store_code).plan):
                add_task(session, lead, kind, due_at, "after_sales", None, label, now)
    elif change in ("graded", "stage_changed"):
        plan, calendar = policy_of(session, lead.store_code).plan, calendar_of(session, lead.store_code)
        for task in open_tasks(session, lead.lead_id):
            if task.source == "cadence":
                due = cadence.reschedule(task.due_at, now, lead.grade, lead.stage, plan, calendar)
                if due is not None and due != task.due_at:
                    task.due_at = due
                    arm(task, policy_of(session, lead.store_code), now)
                    announce_scheduled(session, task, changed["actor_id"])
    elif change == "first_contact":
        for task in open_tasks(session, lead.lead_id):
            if task.kind == "first_contact":
                close(session, task, "done", "contacted", changed["actor_id"], now)
        schedule_next(session, lead, now)
    elif change in ("reopened", "loss_refused"):
        schedule_next(session, lead, now)


# -- the timer ---------------------------------------------------------------------

def due(session, column, now) -> list[Task]:
    done = Task.reminded_at if column is Task.remind_at else Task.escalated_at
    return list(session.scalars(select(Task).where(Task.status == "open", column <= now, done.is_(None))
                                .order_by(column).limit(BATCH).with_for_update(skip_locked=True)))


def fire_due(session, now=None) -> dict:
    """Send the reminders that are due and escalate the tasks missed; how
    many of each. One transaction per batch; call again while a batch is full."""
    now = now or utcnow()
    fired = {"reminded": 0, "escalated": 0}
    for column, event, key, kind in ((Task.remind_at, FOLLOWUP_REMINDER, "reminded", "reminder"),
                                     (Task.escalate_at, FOLLOWUP_OVERDUE, "escalated", "escalation")):
        while True:
            batch = due(session, column, now)
            names = {state.lead_id: state.customer_name for state in session.scalars(
                select(LeadState).where(LeadState.lead_id.in_({task.lead_id for task in batch})))} if batch else {}
            for task in batch:
                tell = [task.consultant_id]
                if key == "reminded":
                    task.reminded_at = now
                else:
                    task.escalated_at = now
                    tell += managers_of(session, task.store_code)
                record(session, OutboxMessage, event, task_id=task.id, lead_id=task.lead_id,
                       consultant_id=task.consultant_id, kind=task.kind, due_at=task.due_at,
                       store_code=task.store_code, source=task.source, customer_name=names.get(task.lead_id),
                       tell=tell)
            if batch:
                count_on_commit(session, partial(fired_late, kind, [getattr(task, column.key) for task in batch]))
            session.commit()
            fired[key] += len(batch)
            if len(batch) < BATCH:
                break
    return fired


def fired_late(kind: str, moments: list) -> None:
    """Count reminders of ``kind`` fired now that were due to fire at ``moments``."""
    now = utcnow()
    REMINDERS_FIRED.labels(kind).inc(len(moments))
    for moment in moments:
        REMINDER_LATENESS.observe(max(0.0, (now - moment).total_seconds()))


def managers_of(session, store_code: str) -> list[str]:
    return list(session.scalars(select(StoreManager.user_id).where(StoreManager.store_code == store_code)
                                .order_by(StoreManager.user_id)))


# -- what consultants do -------------------------------------------------------------

def task_to_change(session, actor: Actor, task_id: str) -> Task:
    task = session.scalar(select(Task).where(Task.id == task_id, visible_tasks(actor)).with_for_update())
    if task is None:
        raise TaskNotFound(f"No task {task_id}.")
    return task


def check_due(due_at, now, field: str = "due_at"):
    if due_at is None or due_at.tzinfo is None:
        raise InvalidFollowup("A time with its zone is needed.", {field: ["an ISO 8601 time with its zone"]})
    if due_at < now - timedelta(minutes=5) or due_at > now + timedelta(days=366):
        raise InvalidFollowup("A task is due from now to a year ahead.", {field: ["from now to a year ahead"]})
    return due_at


def complete(session, actor: Actor, task_id: str, outcome: str, next_due_at=None, next_kind=None,
             note=None) -> Task:
    """Done, with its outcome; the next follow-up is the one given, else the cadence's."""
    now = utcnow()
    task = task_to_change(session, actor, task_id)
    if task.status != "open":
        raise InvalidFollowup(f"The task is {task.status} already.", {"task_id": [task.status]})
    if next_due_at is not None:
        check_due(next_due_at, now, "next_due_at")
    close(session, task, "done", outcome, actor.user_id, now)
    lead = session.get(LeadState, task.lead_id)
    if lead is not None:
        schedule_next(session, lead, now, actor.user_id if next_due_at else None, next_due_at, next_kind, note)
    session.commit()
    return task


def reschedule(session, actor: Actor, task_id: str, due_at) -> Task:
    """Snooze or move a task: a new due time, its reminder re-armed."""
    now = utcnow()
    task = task_to_change(session, actor, task_id)
    if task.status != "open":
        raise InvalidFollowup(f"The task is {task.status}: it cannot move.", {"task_id": [task.status]})
    task.due_at = check_due(due_at, now)
    arm(task, policy_of(session, task.store_code), now)
    announce_scheduled(session, task, actor.user_id)
    session.commit()
    return task


def create(session, actor: Actor, lead_id: str, kind: str, due_at, note: str | None) -> Task:
    """A task by hand, on a lead the actor follows (a consultant: their own)."""
    lead = session.get(LeadState, lead_id)
    if not follows(actor, lead):
        raise TaskNotFound(f"No lead {lead_id} of yours.")
    if lead.consultant_id is None or lead.status in ("won", "lost", "joined"):
        raise InvalidFollowup(f"The lead is {lead.status}: it takes no new task.", {"lead_id": [lead.status]})
    task = add_task(session, lead, kind, check_due(due_at, utcnow()), "manual", actor.user_id, note)
    session.commit()
    return task
