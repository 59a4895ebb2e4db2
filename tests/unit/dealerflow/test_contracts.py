"""dealerflow.contracts: every event schema round-trips and tolerates the unknown."""
import copy
import uuid
from datetime import datetime, timezone

import pytest
from marshmallow import ValidationError

from dealerflow import contracts
from dealerflow.contracts import SCHEMAS

NOW = datetime(2026, 11, 26, 1, 30, tzinfo=timezone.utc)


def envelope() -> dict:
    return {"event_id": str(uuid.uuid4()), "occurred_at": NOW, "version": 1}


SAMPLES = {
    contracts.STORE_SAVED: dict(code="SH-PUDONG", name="Shanghai Pudong",
                                timezone="Asia/Shanghai", response_minutes=15,
                                business_hours={"mon": ["09:00-12:00", "13:00-18:00"]},
                                holidays=["2026-10-01"], active=True, revision=2),
    contracts.USER_SAVED: dict(user_id="u-1", username="consultant.sh1",
                               display_name="Pudong Consultant 1", role="consultant",
                               stores=["SH-PUDONG"], email=None, team_id="t-1",
                               languages=["zh", "en"], shift={"sat": ["00:00-24:00"]},
                               leave=[{"start": "2026-12-01", "end": "2026-12-05"}],
                               daily_capacity=20, active=True, revision=1),
    contracts.LEAD_RECEIVED: dict(lead_id="l-1", store_code="SH-PUDONG", source="autohome",
                                  channel="third_party",
                                  customer={"name": "王磊", "phone": "13800138000"},
                                  phone_e164="+8613800138000", phone_extension=None,
                                  interest={"brand": "BYD", "model": "Han"}, comments="想置换", grade="H",
                                  joined_lead_id=None, consultant_id="u-1", assigned_at=NOW,
                                  first_contact_due_at=NOW),
    contracts.LEAD_ASSIGNED: dict(lead_id="l-1", store_code="SH-PUDONG", consultant_id="u-1",
                                  assigned_at=NOW, first_contact_due_at=NOW, customer_name="王磊",
                                  phone="+8613800138000", source="autohome",
                                  interest={"brand": "BYD", "model": "Han EV"}, reason="reroute",
                                  previous_consultant_id="u-2", grade="H", actor_id=None),
    contracts.LEAD_CHANGED: dict(lead_id="l-1", store_code="SH-PUDONG", change="loss_requested",
                                 actor_id="u-1", reason="bought elsewhere", status="loss_pending",
                                 stage="negotiation", grade="A", consultant_id="u-1",
                                 customer_name="王磊", details={"lost_reason": "bought_competitor"},
                                 tell=["m-1"]),
    contracts.CUSTOMERS_MERGED: dict(kept_id="c-1", merged_id="c-2", lead_ids=["l-1", "l-2"]),
    contracts.CUSTOMER_ERASED: dict(customer_id="c-1", lead_ids=["l-1"]),
    contracts.FOLLOWUP_SCHEDULED: dict(task_id="t-1", lead_id="l-1", consultant_id="u-1",
                                       kind="first_contact", due_at=NOW, store_code="SH-PUDONG", source="sla",
                                       actor_id=None),
    contracts.FOLLOWUP_REMINDER: dict(task_id="t-1", lead_id="l-1", consultant_id="u-1", kind="call", due_at=NOW,
                                      store_code="SH-PUDONG", source="cadence", actor_id=None,
                                      customer_name="王磊", tell=["u-1"]),
    contracts.FOLLOWUP_OVERDUE: dict(task_id="t-1", lead_id="l-1", consultant_id="u-1", kind="call", due_at=NOW,
                                     store_code="SH-PUDONG", source="cadence", actor_id=None,
                                     customer_name="王磊", tell=["u-1", "m-1"]),
    contracts.FOLLOWUP_DONE: dict(task_id="t-1", lead_id="l-1", store_code="SH-PUDONG", consultant_id="u-1",
                                  kind="call", status="done", outcome="reached", actor_id="u-1"),
    contracts.FOLLOWUP_RECORDED: dict(record_id="r-1", lead_id="l-1", store_code="SH-PUDONG", consultant_id="u-1",
                                      channel="call", direction="outbound", outcome="reached",
                                      notes="关心续航", first=True, recorded_at=NOW),
    contracts.TEST_DRIVE_BOOKED: dict(booking_id="b-1", lead_id="l-1", store_code="SH-PUDONG", vehicle_id="v-1",
                                      vehicle="BYD Han EV (SH-HAN-01)", consultant_id="u-1", specialist_id=None,
                                      starts_at=NOW, ends_at=NOW, customer_name="王磊", customer_email=None,
                                      language="zh", ics="BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", actor_id="u-1",
                                      booked_at=NOW),
    contracts.TEST_DRIVE_SHOWN: dict(booking_id="b-1", lead_id="l-1", store_code="SH-PUDONG", vehicle_id="v-1",
                                     consultant_id="u-1", specialist_id=None, starts_at=NOW, status="shown",
                                     actor_id="u-1", at=NOW, reason=None),
    contracts.TEST_DRIVE_NO_SHOW: dict(booking_id="b-1", lead_id="l-1", store_code="SH-PUDONG", vehicle_id="v-1",
                                       consultant_id="u-1", specialist_id=None, starts_at=NOW, status="no_show",
                                       actor_id=None, at=NOW, reason=None),
    contracts.TEST_DRIVE_CANCELLED: dict(booking_id="b-1", lead_id="l-1", store_code="SH-PUDONG",
                                         vehicle_id="v-1", consultant_id="u-1", specialist_id=None, starts_at=NOW,
                                         status="cancelled", actor_id="u-1", at=NOW, reason="客户改期"),
    contracts.NOTIFICATION_CREATED: dict(id="n-1", user_id="u-1", kind="lead_assigned", title="新线索：王磊",
                                         body="来源：autohome", link="/leads/l-1", lead_id="l-1", created_at=NOW,
                                         read_at=None),
}


def make_event(event_type: str, **overrides) -> dict:
    event = dict(envelope(), **copy.deepcopy(SAMPLES[event_type]))
    event.update(overrides)
    return event


def test_every_schema_has_a_sample():
    assert set(SAMPLES) == set(SCHEMAS)


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_dump_then_load_gives_the_same_fields(event_type):
    schema = SCHEMAS[event_type]()
    event = make_event(event_type)
    dumped = schema.dump(event)
    assert isinstance(dumped["occurred_at"], str)
    assert schema.load(dumped) == event


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_an_unknown_field_is_tolerated_and_dropped(event_type):
    schema = SCHEMAS[event_type]()
    dumped = schema.dump(make_event(event_type))
    loaded = schema.load(dict(dumped, added_by_a_newer_publisher={"x": 1}))
    assert "added_by_a_newer_publisher" not in loaded
    assert loaded == schema.load(dumped)


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_the_envelope_is_required(event_type):
    dumped = SCHEMAS[event_type]().dump(make_event(event_type))
    del dumped["event_id"]
    with pytest.raises(ValidationError) as caught:
        SCHEMAS[event_type]().load(dumped)
    assert "event_id" in caught.value.messages


def test_version_defaults_to_one():
    dumped = SCHEMAS[contracts.CUSTOMERS_MERGED]().dump(make_event(contracts.CUSTOMERS_MERGED))
    del dumped["version"]
    assert SCHEMAS[contracts.CUSTOMERS_MERGED]().load(dumped)["version"] == 1


def test_event_times_must_be_aware():
    dumped = SCHEMAS[contracts.LEAD_ASSIGNED]().dump(make_event(contracts.LEAD_ASSIGNED))
    dumped["assigned_at"] = "2026-11-26T09:30:00"
    with pytest.raises(ValidationError) as caught:
        SCHEMAS[contracts.LEAD_ASSIGNED]().load(dumped)
    assert "assigned_at" in caught.value.messages


def test_lead_submitted_round_trips_with_its_lead():
    message = {"id": "l-1", "platform": "p1", "api_key_id": "k-1", "store_code": "SH-PUDONG",
               "submitted_at": NOW, "format": "adf", "raw": "<prospect/>",
               "lead": {"source": "autohome", "channel": "third_party",
                        "customer": {"phone": "13800138000"}}}
    schema = contracts.LeadSubmitted()
    dumped = schema.dump(message)
    assert schema.load(dict(dumped, unknown_extra=1)) == message


def test_lead_submitted_refuses_an_unknown_format():
    schema = contracts.LeadSubmitted()
    dumped = schema.dump({"id": "l-1", "platform": "p1", "api_key_id": "k-1",
                          "store_code": "SH-PUDONG", "submitted_at": NOW, "format": "json",
                          "raw": None, "lead": {"source": "a", "channel": "other",
                                                "customer": {"email": "a@b.cn"}}})
    with pytest.raises(ValidationError) as caught:
        schema.load(dict(dumped, format="csv"))
    assert set(caught.value.messages) == {"format"}


@pytest.mark.parametrize("event_type, added", [
    (contracts.STORE_SAVED, {"business_hours": {}, "holidays": []}),
    (contracts.USER_SAVED, {"team_id": None, "languages": [], "shift": {}, "leave": [],
                            "daily_capacity": None}),
])
def test_organisation_events_from_before_routing_fields_still_load(event_type, added):
    dumped = SCHEMAS[event_type]().dump(make_event(event_type))
    for name in added:
        del dumped[name]
    loaded = SCHEMAS[event_type]().load(dumped)
    assert {name: loaded[name] for name in added} == added


@pytest.mark.parametrize("event_type", sorted(SCHEMAS))
def test_an_event_of_a_newer_major_version_is_refused(event_type):
    schema = SCHEMAS[event_type]()
    newer = schema.dump(make_event(event_type, version=schema.VERSION + 1))
    with pytest.raises(ValidationError) as refused:
        schema.load(newer)
    assert "version" in refused.value.messages


def test_a_lead_received_with_an_owner_stands_for_its_lead_assigned():
    received = make_event(contracts.LEAD_RECEIVED)
    assigned = contracts.assignment_of(received)
    # what every consumer of lead_assigned reads, under the lead_received's own event id
    lead_assigned = contracts.LeadAssigned()
    assert lead_assigned.load(lead_assigned.dump(assigned)) == assigned
    assert assigned["event_id"] == received["event_id"] and assigned["consultant_id"] == "u-1"
    assert (assigned["reason"], assigned["customer_name"], assigned["phone"]) == ("routing", "王磊", "13800138000")


def test_a_lead_received_without_an_owner_stands_for_no_assignment():
    assert contracts.assignment_of(make_event(contracts.LEAD_RECEIVED, consultant_id=None)) is None
