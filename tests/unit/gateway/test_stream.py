"""services.gateway.stream: who is told what, resuming after Last-Event-ID,
and a slow client dropped instead of growing memory (no broker: events are
published into the hub directly)."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dealerflow.actor import Actor
from services.gateway import stream
from services.gateway.stream import StreamEvent, StreamHub, parse_event_id

T0 = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)
SH1 = Actor(kind="user", user_id="c-sh1", role="consultant", stores=("SH-PUDONG",))
SH_MANAGER = Actor(kind="user", user_id="m-sh", role="manager", stores=("SH-PUDONG",))
BJ_MANAGER = Actor(kind="user", user_id="m-bj", role="manager", stores=("BJ-CHAOYANG",))


def assigned(n: int, store="SH-PUDONG", consultant="c-sh1") -> StreamEvent:
    return StreamEvent.from_payload("lead_assigned", {
        "event_id": str(uuid.UUID(int=n)), "occurred_at": (T0 + timedelta(seconds=n)).isoformat(),
        "lead_id": f"lead-{n}", "store_code": store, "consultant_id": consultant,
        "customer_name": "王磊", "phone": "+8613800138000", "assigned_at": T0.isoformat(),
        "first_contact_due_at": (T0 + timedelta(minutes=15)).isoformat()})


def test_a_new_leads_first_owner_reaches_browsers_as_lead_assigned():
    received = {"event_id": str(uuid.UUID(int=7)), "occurred_at": T0.isoformat(), "lead_id": "lead-7",
                "store_code": "SH-PUDONG", "source": "autohome", "grade": "H",
                "customer": {"name": "王磊", "phone": "+8613800138000"}, "consultant_id": "c-sh1",
                "assigned_at": T0.isoformat(), "first_contact_due_at": (T0 + timedelta(minutes=15)).isoformat()}
    event = StreamEvent.from_bus("lead_received", received)
    assert (event.type, event.event_id, event.data["consultant_id"], event.data["customer_name"]) == (
        "lead_assigned", received["event_id"], "c-sh1", "王磊")
    assert "phone" not in event.data
    assert StreamEvent.from_bus("lead_received", dict(received, consultant_id=None)) is None  # pooled, joined
    assert StreamEvent.from_bus("lead_changed", dict(received, change="pooled")).type == "lead_changed"


def drain(client) -> list[str]:
    leads = []
    while not client.queue.empty():
        leads.append(client.queue.get_nowait().data["lead_id"])
    return leads


def test_each_user_is_told_only_of_their_scope():
    hub = StreamHub()
    clients = {actor.user_id: hub.subscribe(actor)[0] for actor in (SH1, SH_MANAGER, BJ_MANAGER)}
    hub.publish(assigned(1))
    hub.publish(assigned(2, consultant="c-sh2"))
    hub.publish(assigned(3, store="BJ-CHAOYANG", consultant="c-bj1"))
    assert drain(clients["c-sh1"]) == ["lead-1"]
    assert drain(clients["m-sh"]) == ["lead-1", "lead-2"]
    assert drain(clients["m-bj"]) == ["lead-3"]


def changed(n: int, change: str, consultant="c-sh2", **more) -> StreamEvent:
    return StreamEvent.from_payload("lead_changed", {
        "event_id": str(uuid.UUID(int=n)), "occurred_at": (T0 + timedelta(seconds=n)).isoformat(),
        "lead_id": f"lead-{n}", "store_code": "SH-PUDONG", "consultant_id": consultant, "change": change,
        "status": "assigned", "stage": "initial_contact", "grade": "A", "tell": [], **more})


def test_a_consultant_hears_of_a_lead_taken_from_them_their_mentions_and_the_pool():
    hub = StreamHub()
    sh1 = hub.subscribe(SH1)[0]
    hub.publish(assigned(1, consultant="c-sh2"))                       # someone else's
    hub.publish(StreamEvent.from_payload("lead_assigned", dict(       # re-routed away from c-sh1
        assigned(2, consultant="c-sh2").data, event_id=str(uuid.UUID(int=2)),
        occurred_at=T0.isoformat(), previous_consultant_id="c-sh1")))
    hub.publish(changed(3, "comment", tell=["c-sh1"]))                  # mentioned
    hub.publish(changed(4, "pooled", consultant=None, status="pooled"))  # the store's pool
    hub.publish(changed(5, "graded"))                                   # someone else's lead
    assert drain(sh1) == ["lead-2", "lead-3", "lead-4"]


def test_a_reconnecting_client_gets_what_it_missed_and_only_that():
    hub = StreamHub()
    for n in range(1, 6):
        hub.publish(assigned(n))
    _, missed = hub.subscribe(SH1, assigned(2).id)
    assert [event.data["lead_id"] for event in missed] == ["lead-3", "lead-4", "lead-5"]
    _, nothing = hub.subscribe(SH1, None)
    assert nothing == []


def test_the_stream_is_server_sent_events_with_ids():
    hub = StreamHub()
    client, missed = hub.subscribe(SH1, "0-x")
    hub.publish(assigned(1))
    body = hub.events(client, missed)
    assert next(body) == b"retry: 3000\n\n"
    frame = next(body).decode()
    lines = frame.strip().split("\n")
    assert lines[0] == f"id: {assigned(1).id}" and lines[1] == "event: lead_assigned"
    data = json.loads(lines[2].removeprefix("data: "))
    assert set(data) == set(stream.FIELDS) and "phone" not in data
    body.close()
    assert client not in hub.clients


def test_a_slow_client_is_dropped_and_its_stream_ends(monkeypatch):
    monkeypatch.setattr(stream, "CLIENT_QUEUE", 3)
    hub = StreamHub()
    client, missed = hub.subscribe(SH1)
    for n in range(10):
        hub.publish(assigned(n))
    assert client.dropped and client.queue.qsize() == 3
    frames = list(hub.events(client, missed))
    assert frames == [b"retry: 3000\n\n"]  # ends at once; the browser resumes by its last id
    assert client not in hub.clients


def test_a_quiet_stream_sends_heartbeats(monkeypatch):
    monkeypatch.setattr(stream, "HEARTBEAT_S", 0.01)
    hub = StreamHub()
    client, missed = hub.subscribe(SH1)
    body = hub.events(client, missed)
    next(body)
    assert next(body) == b": heartbeat\n\n"
    body.close()


def test_the_recent_buffer_is_bounded(monkeypatch):
    hub = StreamHub()
    for n in range(stream.BUFFER + 50):
        hub.publish(assigned(n))
    assert len(hub.recent) == stream.BUFFER


@given(st.text(max_size=40))
def test_any_last_event_id_is_read_or_ignored(value):
    parsed = parse_event_id(value)
    assert parsed is None or (isinstance(parsed[0], int) and parsed[1])
    hub = StreamHub()
    hub.subscribe(SH1, value)


@pytest.mark.parametrize("value", ["", "abc", "-x", "12-", "1.5-x", "²-x"])
def test_ids_we_did_not_hand_out_replay_nothing(value):
    assert parse_event_id(value) is None


def inbox_message(n: int, user: str) -> StreamEvent:
    """The notifications service's notification_created for ``user``."""
    return StreamEvent.from_payload("notification_created", {
        "event_id": str(uuid.UUID(int=n)), "occurred_at": (T0 + timedelta(seconds=n)).isoformat(),
        "id": f"m-{n}", "user_id": user, "kind": "lead_assigned", "title": "新线索：王磊", "body": "15 分钟内联系",
        "link": "/leads/lead-1", "lead_id": "lead-1", "store_code": "SH-PUDONG", "created_at": T0.isoformat(),
        "read_at": None})


def test_an_inbox_message_reaches_its_own_user_alone_as_a_notification():
    hub = StreamHub()
    clients = {actor.user_id: hub.subscribe(actor)[0] for actor in (SH1, SH_MANAGER, BJ_MANAGER)}
    hub.publish(inbox_message(1, "c-sh1"))
    hub.publish(inbox_message(2, "m-sh"))
    told = {user: [client.queue.get_nowait() for _ in range(client.queue.qsize())]
            for user, client in clients.items()}
    assert [event.data["id"] for event in told["c-sh1"]] == ["m-1"]
    assert [event.data["id"] for event in told["m-sh"]] == ["m-2"]  # not the consultant's, same store
    assert told["m-bj"] == []
    [event] = told["c-sh1"]
    assert event.type == "notification" and set(event.data) == set(stream.NOTIFICATION_FIELDS)
    assert b"event: notification\n" in event.encode()
    _, missed = hub.subscribe(SH1, "0-x")
    assert [event.data["id"] for event in missed] == ["m-1"]


def test_a_stopping_hub_ends_every_stream_with_a_reconnect_event():
    hub = StreamHub()
    streams = [hub.events(*hub.subscribe(SH1)) for _ in range(2)]
    assert [next(body) for body in streams] == [b"retry: 3000\n\n"] * 2
    hub.close()
    for body in streams:
        assert list(body) == [stream.RECONNECT]  # and nothing after it
    late = hub.events(*hub.subscribe(SH_MANAGER))  # opened while stopping: told at once
    assert list(late)[-1] == stream.RECONNECT
    assert hub.clients == set()
