"""Notifications through HTTP against the running system, on SQLite and
PostgreSQL: a new lead in its consultant's inbox and on their live stream
as a ``notification`` (and on nobody else's); unread counts, keyset pages
and marking read; preferences saved and refused (422), and Web Push to a
subscribed device through a local push service that decrypts what it got;
store channels closed to consultants and to other stores' managers, a
webhook channel whose test answers what the local receiver really said; a
delivery the receiver refused listed as dead and sent again."""
import http.client
import json
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.test_followups_api import get
from tests.e2e.test_leads_api import new_lead, post
from tests.e2e.test_staff_api import sign_in
from tests.support.fake_receivers import receivers  # noqa: F401 (a fixture)
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

STORE = "SH-PUDONG"
CONSULTANTS = ("consultant.sh1", "consultant.sh2", "consultant.sh3")


class Stream:
    """One user's live stream, read in a thread: ``events`` holds each
    ``(event name, data)`` as it arrives. A plain HTTP connection, so that
    closing it is shutting its socket, which ends the reader's wait at once
    (closing a streamed ``requests`` answer waits for the next heartbeat)."""

    def __init__(self, stack, headers):
        self.events, self.closing = [], threading.Event()
        ticket = requests.post(f"{stack.url}/v1/stream/tickets", headers=headers, timeout=10).json()["ticket"]
        address = urlsplit(stack.url)
        self.connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        self.connection.request("GET", f"/v1/stream?ticket={ticket}")
        answer = self.connection.getresponse()
        assert answer.status == 200
        self.reader = threading.Thread(target=self.read, args=(answer,), daemon=True)
        self.reader.start()

    def read(self, answer) -> None:
        name = None
        try:
            for raw in iter(answer.readline, b""):
                line = raw.decode().rstrip("\r\n")
                if line.startswith("event: "):
                    name = line[len("event: "):]
                elif line.startswith("data: "):
                    self.events.append((name, json.loads(line[len("data: "):])))
        except (OSError, http.client.HTTPException):  # the socket shut: a chunk cut short
            if not self.closing.is_set():  # closed by the test, else a real failure
                raise

    def notifications(self, lead_id: str) -> list[dict]:
        return [data for name, data in self.events if name == "notification" and data.get("lead_id") == lead_id]

    def close(self) -> None:
        self.closing.set()
        self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.reader.join(timeout=10)  # the reader sees the end, then the connection goes
        self.connection.close()


def me(stack, headers) -> dict:
    return get(stack, headers, "/v1/me").json()


def inbox(stack, headers, **query) -> dict:
    answer = requests.get(f"{stack.url}/v1/notifications", params=query, headers=headers, timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()


def put(stack, headers, path, body):
    return requests.put(f"{stack.url}{path}", json=body, headers=headers, timeout=30)


def lead_for(stack, username: str) -> str:
    """A new lead of ``username``'s: routed to them, or given to them by the
    store's manager when routing chose someone else (told either way)."""
    lead_id, owner = new_lead(stack)
    if owner != username:
        consultant_id = me(stack, sign_in(stack, username))["id"]
        answer = post(stack, sign_in(stack, "manager.sh"), f"/v1/leads/{lead_id}/assign",
                      {"consultant_id": consultant_id, "reason": "e2e"})
        assert answer.status_code == 200, answer.text
    return lead_id


def test_a_new_lead_reaches_its_consultants_inbox_and_stream_as_a_notification(stack):
    people = {name: sign_in(stack, name) for name in CONSULTANTS}
    streams = {name: Stream(stack, headers) for name, headers in people.items()}
    try:
        lead_id, owner = new_lead(stack)
        [note] = eventually(lambda: streams[owner].notifications(lead_id), timeout=20,
                            message=f"{owner}'s stream carried the new lead's message")
        assert note["user_id"] == me(stack, people[owner])["id"]
        assert note["kind"] == "lead_assigned" and note["read_at"] is None
        assert note["link"].endswith(f"/leads/{lead_id}") and note["title"]
        page = inbox(stack, people[owner], lead_id=lead_id)
        assert [message["id"] for message in page["items"]] == [note["id"]] and page["unread"] >= 1
        for other in set(CONSULTANTS) - {owner}:
            assert streams[other].notifications(lead_id) == []
            assert inbox(stack, people[other], lead_id=lead_id)["items"] == []
    finally:
        for stream in streams.values():
            stream.close()


def test_unread_counts_pages_and_marking_read(stack):
    headers = sign_in(stack, "consultant.sh3")
    leads = [lead_for(stack, "consultant.sh3") for _ in range(3)]
    eventually(lambda: all(inbox(stack, headers, lead_id=lead_id)["items"] for lead_id in leads), timeout=20,
               message="each lead's message in the inbox")
    unread = get(stack, headers, "/v1/notifications/unread").json()["unread"]
    assert unread >= 3 and inbox(stack, headers)["unread"] == unread

    # newest first, in keyset pages that neither repeat nor skip
    first = inbox(stack, headers, limit=2)
    second = inbox(stack, headers, limit=2, cursor=first["next_cursor"])
    assert len(first["items"]) == 2 and first["next_cursor"] and second["items"]
    every = first["items"] + second["items"]
    assert len({message["id"] for message in every}) == len(every)
    assert [m["created_at"] for m in every] == sorted((m["created_at"] for m in every), reverse=True)
    assert [m["id"] for m in every] == [m["id"] for m in inbox(stack, headers, limit=len(every))["items"]]

    # one read: counted and filtered out; nobody else can mark mine; then all
    newest = first["items"][0]["id"]
    assert post(stack, headers, "/v1/notifications/read", {"ids": [newest]}).json() == {"unread": unread - 1}
    assert newest not in {m["id"] for m in inbox(stack, headers, unread="true", limit=100)["items"]}
    [read] = [m for m in inbox(stack, headers, limit=2)["items"] if m["id"] == newest]
    assert read["read_at"]
    other = post(stack, sign_in(stack, "consultant.sh1"), "/v1/notifications/read", {"ids": [first["items"][1]["id"]]})
    assert other.status_code == 200
    assert get(stack, headers, "/v1/notifications/unread").json() == {"unread": unread - 1}
    assert post(stack, headers, "/v1/notifications/read", {"ids": "all"}).status_code == 422
    assert post(stack, headers, "/v1/notifications/read", {}).json() == {"unread": 0}
    assert inbox(stack, headers, unread="true")["items"] == []


def test_preferences_round_trip_and_web_push_reaches_a_subscribed_device(stack, receivers):  # noqa: F811
    headers = sign_in(stack, "consultant.sh2")
    before = get(stack, headers, "/v1/me/notification-preferences")
    assert before.status_code == 200 and before.json()["push_devices"] == 0
    wanted = {"language": "en", "channels": {"lead_assigned": ["inapp", "email"], "reminder": ["inapp"]},
              "quiet_start": "22:00", "quiet_end": "07:30", "mention": "13800138000"}
    saved = put(stack, headers, "/v1/me/notification-preferences", wanted)
    assert saved.status_code == 200, saved.text
    again = get(stack, headers, "/v1/me/notification-preferences").json()
    assert {name: again[name] for name in ("language", "quiet_start", "quiet_end", "mention")} == {
        name: wanted[name] for name in ("language", "quiet_start", "quiet_end", "mention")}
    assert set(again["channels"]["lead_assigned"]) == {"inapp", "email"}
    assert again["channels"]["reminder"] == ["inapp"]
    for bad, field in (({"quiet_start": "7pm"}, "quiet_start"), ({"language": "fr"}, "language"),
                       ({"channels": {"gossip": ["inapp"]}}, "channels"),
                       ({"channels": {"reminder": ["pigeon"]}}, "channels")):
        refused = put(stack, headers, "/v1/me/notification-preferences", bad)
        assert refused.status_code == 422 and field in refused.json()["errors"], refused.text
    assert get(stack, headers, "/v1/me/notification-preferences").json() == again

    # this "device" subscribes; a lead given to its user is pushed, readable by it alone
    assert get(stack, headers, "/v1/notifications/vapid-key").json()["public_key"]
    device = receivers.push_subscription()
    subscribed = post(stack, headers, "/v1/me/push-subscriptions", json.loads(device.subscription))
    assert subscribed.status_code == 200 and subscribed.json() == {"push_devices": 1}
    put(stack, headers, "/v1/me/notification-preferences", {"quiet_start": None, "quiet_end": None,
                                                             "channels": {"lead_assigned": ["inapp", "webpush"]}})
    lead_id = lead_for(stack, "consultant.sh2")
    pushed = eventually(lambda: [r.json for r in device.received if r.json["link"].endswith(f"/leads/{lead_id}")],
                        timeout=30, message="the lead pushed to the device")
    assert pushed[0]["title"] and pushed[0]["kind"] == "lead_assigned"
    gone = requests.delete(f"{stack.url}/v1/me/push-subscriptions", params={"endpoint": device.url},
                           headers=headers, timeout=30)
    assert gone.status_code == 200 and gone.json() == {"push_devices": 0}


def test_channels_are_managers_and_a_test_answers_what_the_receiver_said(stack, receivers):  # noqa: F811
    admin, consultant = sign_in(stack, "admin"), sign_in(stack, "consultant.sh1")
    channels = f"/v1/admin/stores/{STORE}/channels"
    assert get(stack, consultant, channels).status_code == 403
    assert post(stack, consultant, channels, {"type": "webhook", "name": "x", "url": "http://127.0.0.1:9/"}
                ).status_code == 403
    assert get(stack, sign_in(stack, "manager.bj"), channels).status_code == 404

    hook = receivers.webhook(secret="whsec-e2e")
    made = post(stack, admin, channels, {"type": "webhook", "name": "经销商 CRM", "url": hook.url,
                                         "secret": "whsec-e2e", "kinds": ["daily_digest"]})
    assert made.status_code == 201, made.text
    channel = made.json()
    assert channel["has_secret"] is True and "secret" not in channel and channel["store_code"] == STORE
    assert channel["id"] in {c["id"] for c in get(stack, sign_in(stack, "manager.sh"), channels).json()}

    tested = post(stack, admin, f"/v1/admin/channels/{channel['id']}/test")
    assert tested.status_code == 200, tested.text
    assert tested.json()["ok"] is True and tested.json()["outcome"] == "sent"
    assert "200" in tested.json()["answer"] and len(hook.received) == 1  # signed right: the receiver checks

    hook.answer_next(status=503, message="维护中，10:00 恢复")
    down = post(stack, admin, f"/v1/admin/channels/{channel['id']}/test").json()
    assert down["ok"] is False and down["outcome"] == "retry" and "维护中，10:00 恢复" in down["answer"]

    renamed = requests.patch(f"{stack.url}/v1/admin/channels/{channel['id']}", json={"name": "CRM"},
                             headers=admin, timeout=30)
    assert renamed.status_code == 200 and renamed.json()["name"] == "CRM" and renamed.json()["has_secret"]
    assert requests.patch(f"{stack.url}/v1/admin/channels/{channel['id']}", json={"kinds": ["gossip"]},
                          headers=admin, timeout=30).status_code == 422
    assert requests.delete(f"{stack.url}/v1/admin/channels/{channel['id']}", headers=admin,
                           timeout=30).status_code == 204
    assert channel["id"] not in {c["id"] for c in get(stack, admin, channels).json()}
    assert post(stack, admin, f"/v1/admin/channels/{channel['id']}/test").status_code == 404


def test_a_refused_delivery_is_listed_dead_and_sent_again(stack, receivers):  # noqa: F811
    manager = sign_in(stack, "manager.sh")
    hook = receivers.webhook()
    hook.answer_next(status=400, message="hook disabled by IT")
    made = post(stack, manager, f"/v1/admin/stores/{STORE}/channels",
                {"type": "webhook", "name": "refusing", "url": hook.url, "kinds": ["lead_assigned"]})
    assert made.status_code == 201, made.text
    channel_id = made.json()["id"]
    new_lead(stack)

    def dead():
        answer = get(stack, manager, f"/v1/admin/deliveries?status=dead&store_code={STORE}")
        assert answer.status_code == 200, answer.text
        return [d for d in answer.json() if d["channel_id"] == channel_id]
    letters = eventually(dead, timeout=30, message="the refused delivery is dead")
    assert "hook disabled by IT" in letters[0]["last_answer"] and letters[0]["status"] == "dead"
    assert get(stack, sign_in(stack, "consultant.sh1"), "/v1/admin/deliveries").status_code == 403

    resent = post(stack, manager, "/v1/admin/deliveries/resend", {"ids": [d["id"] for d in letters]})
    assert resent.status_code == 200 and resent.json() == {"resent": len(letters)}
    eventually(lambda: {r.headers["X-Dealerflow-Id"] for r in hook.received} and not dead(), timeout=30,
               message="the dead delivery sent again")
    assert requests.delete(f"{stack.url}/v1/admin/channels/{channel_id}", headers=manager,
                           timeout=30).status_code == 204
