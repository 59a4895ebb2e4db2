"""services.leads.sla: when the first contact is due."""
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.leads.sla import DEFAULT_RESPONSE_MINUTES, first_contact_due

ASSIGNED = datetime(2026, 11, 26, 1, 30, tzinfo=timezone.utc)


def test_store_response_minutes_set_the_deadline():
    assert first_contact_due(ASSIGNED, 30) == ASSIGNED + timedelta(minutes=30)


@pytest.mark.parametrize("minutes", [None, 0])
def test_default_deadline_when_the_store_sets_none(minutes):
    assert DEFAULT_RESPONSE_MINUTES == 15
    assert first_contact_due(ASSIGNED, minutes) == ASSIGNED + timedelta(minutes=15)


def test_deadline_keeps_the_time_zone_of_the_assignment():
    shanghai = datetime(2026, 11, 26, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    due = first_contact_due(shanghai, 15)
    assert due.tzinfo is shanghai.tzinfo
    assert due == datetime(2026, 11, 26, 1, 45, tzinfo=timezone.utc)


def test_deadline_crosses_midnight():
    late = datetime(2026, 11, 26, 23, 50, tzinfo=timezone.utc)
    assert first_contact_due(late, 20) == datetime(2026, 11, 27, 0, 10, tzinfo=timezone.utc)
