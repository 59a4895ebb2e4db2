"""What each consultant did in a range (docs/analytics.md): follow-ups
recorded, and of the tasks that fell due (and are due by now), how many
were done by their due time; cancelled tasks (the lead was won or lost)
are left out. The gateway joins these to the leads service's figures."""
from datetime import datetime

from sqlalchemy import and_, case, func, select

from dealerflow.actor import CONSULTANT, Actor
from dealerflow.analytics_contracts import ActivityQuery
from dealerflow.contracts import schema
from dealerflow.db import utcnow
from services.followups.models import FollowupRecord, Task
from services.followups.scoping import visible_tasks


def activity(session, actor: Actor, query: dict, now: datetime | None = None) -> dict[str, dict]:
    query = schema(ActivityQuery).load(query)
    start, end, now = query["created_from"], query["created_to"], now or utcnow()
    stores = [store for store in query["store_codes"] if store in actor.stores]
    people = [actor.user_id] if actor.role == CONSULTANT else query["consultant_ids"]
    records = select(FollowupRecord.consultant_id, func.count()).where(
        FollowupRecord.store_code.in_(stores), FollowupRecord.created_at >= start, FollowupRecord.created_at < end)
    tasks = select(Task.consultant_id, func.count(), func.count(case((and_(
        Task.status == "done", Task.completed_at <= Task.due_at), 1)))).where(
        visible_tasks(actor), Task.store_code.in_(stores), Task.due_at >= start, Task.due_at < min(end, now),
        Task.status != "cancelled")
    if people is not None:
        records, tasks = records.where(FollowupRecord.consultant_id.in_(people)), tasks.where(
            Task.consultant_id.in_(people))
    answer = {}
    for consultant, done in session.execute(records.group_by(FollowupRecord.consultant_id)):
        answer[consultant] = {"followups_done": done, "tasks_due": 0, "on_time_rate": None}
    for consultant, due, on_time in session.execute(tasks.group_by(Task.consultant_id)):
        answer.setdefault(consultant, {"followups_done": 0})
        answer[consultant].update(tasks_due=due, on_time_rate=round(on_time / due, 4) if due else None)
    return answer
