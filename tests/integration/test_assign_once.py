"""A waiting lead is assigned exactly once, even when roster events for its
store are handled at the same time (two replicas of the leads service)."""
import threading
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from dealerflow.contracts import UserSaved, schema
from dealerflow.db import utcnow
from services.leads import handlers
from services.leads.models import Assignment, Lead, OutboxMessage

pytestmark = pytest.mark.integration

WAITING = 30
ROSTER_EVENTS = 6


def waiting_lead(number: int) -> Lead:
    now = utcnow()
    return Lead(id=str(uuid.uuid4()), platform="p1", source="autohome", external_id=f"W-{number}",
                channel="other", format="json", status="accepted", store_code="SH-PUDONG",
                customer={"phone": "13800138000"}, received_at=now, submitted_at=now,
                created_at=now)


def consultant_saved(number: int) -> dict:
    """The event as the service's handler receives it: loaded with its schema."""
    return schema(UserSaved).load({
        "event_id": str(uuid.uuid4()), "occurred_at": datetime.now(timezone.utc).isoformat(),
        "version": 1, "user_id": f"user-{number}", "username": f"c{number}",
        "display_name": f"Consultant {number}", "role": "consultant",
        "stores": ["SH-PUDONG"], "email": None, "active": True, "revision": 1})


def test_concurrent_roster_events_assign_each_waiting_lead_once(leads_db):
    with leads_db() as session:
        session.add_all(waiting_lead(n) for n in range(WAITING))
        session.commit()

    start, failures = threading.Barrier(ROSTER_EVENTS), []

    def handle(number):
        try:
            start.wait(timeout=30)
            with leads_db() as session:
                handlers.save_roster_member(session, consultant_saved(number))
        except Exception as exc:  # reported below, with the thread's own error
            failures.append(exc)

    threads = [threading.Thread(target=handle, args=(n,)) for n in range(ROSTER_EVENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures

    with leads_db() as session:
        per_lead = session.execute(select(Assignment.lead_id, func.count())
                                   .group_by(Assignment.lead_id)).all()
        assert len(per_lead) == WAITING
        assert {count for _, count in per_lead} == {1}, "a waiting lead was assigned twice"
        assert session.scalar(select(func.count()).select_from(Lead)
                              .where(Lead.status == "assigned")) == WAITING
        assert session.scalar(select(func.count()).select_from(OutboxMessage)
                              .where(OutboxMessage.event_type == "lead_assigned")) == WAITING
