"""The notifications routes of the gateway (no broker, a fake service):
what each asks the notifications service with, the bodies and queries it
refuses (422) before asking, the admin routes closed to consultants
(403), and a channel's change that sends only what was given."""
import pytest

from tests.unit.gateway.test_app import make_client
from tests.unit.gateway.test_auth import SECRET, staff_headers


class Notifications:
    """The notifications service: records each call, answers ``answer``."""

    def __init__(self, answer=None):
        self.calls, self.answer = [], answer

    def call(self, service, method, *args):
        self.calls.append((service, method, args))
        return self.answer


@pytest.fixture
def service():
    return Notifications({"ok": True})


@pytest.fixture
def client(sessions, monkeypatch, service):
    monkeypatch.setenv("JWT_SECRET", SECRET)
    return make_client(sessions, rpc=service)


def asked(service) -> tuple[str, tuple]:
    """The one call made: its method and its arguments after the caller
    (every call but the key's, which is everyone's, carries the actor)."""
    [(name, method, args)] = service.calls
    assert name == "notifications"
    if method == "vapid_public_key":
        return method, args
    assert args[0]["kind"] == "user" and args[0]["user_id"]
    return method, args[1:]


@pytest.mark.parametrize("request_, call", [
    (("GET", "/v1/notifications", None), ("list_inbox", (None, False, None, 50))),
    (("GET", "/v1/notifications?unread=true&lead_id=L1&limit=5&cursor=c", None),
     ("list_inbox", ("L1", True, "c", 5))),
    (("GET", "/v1/notifications/unread", None), ("unread_count", ())),
    (("POST", "/v1/notifications/read", None), ("mark_read", (None,))),
    (("POST", "/v1/notifications/read", {"ids": ["m1", "m2"]}), ("mark_read", (["m1", "m2"],))),
    (("PUT", "/v1/me/notification-preferences", {"language": "en", "quiet_start": "22:00",
                                                 "channels": {"reminder": ["inapp", "robot"]}}),
     ("save_preferences", ({"language": "en", "quiet_start": "22:00", "channels": {"reminder": ["inapp", "robot"]}},))),
    (("GET", "/v1/notifications/vapid-key", None), ("vapid_public_key", ())),
    (("DELETE", "/v1/me/push-subscriptions?endpoint=https%3A%2F%2Fpush.example%2Fx", None),
     ("delete_push_subscription", ("https://push.example/x",))),
    (("PATCH", "/v1/admin/channels/ch1", {"name": "店群"}), ("update_channel", ("ch1", {"name": "店群"}))),
    (("GET", "/v1/admin/deliveries?store_code=SH-PUDONG", None), ("list_deliveries", ("SH-PUDONG", "dead", 100))),
    (("POST", "/v1/admin/deliveries/resend", {"ids": ["d1"]}), ("resend", (["d1"],))),
    (("PUT", "/v1/admin/stores/SH-PUDONG/notification-settings", {"urgent_breaks_quiet": True}),
     ("save_store_settings", ("SH-PUDONG", {"urgent_breaks_quiet": True}))),
])
def test_each_route_asks_the_service_with_what_it_was_given(client, sessions, service, request_, call):
    method, path, body = request_
    path, _, query = path.partition("?")
    answer = client.simulate_request(method, path, query_string=query, json=body,
                                     headers=staff_headers(sessions, "manager.sh"))
    assert answer.status_code == 200, answer.text
    assert asked(service) == call


def test_a_new_channel_is_201_with_the_contracts_defaults(client, sessions, service):
    answer = client.simulate_post("/v1/admin/stores/SH-PUDONG/channels", headers=staff_headers(sessions, "admin"),
                                  json={"type": "webhook", "name": "CRM", "url": "http://127.0.0.1:9/hook",
                                        "secret": "s3cret"})
    assert answer.status_code == 201
    method, (store_code, data) = asked(service)
    assert (method, store_code) == ("create_channel", "SH-PUDONG")
    assert data["secret"] == "s3cret" and data["enabled"] is True and "lead_assigned" in data["kinds"]


@pytest.mark.parametrize("method, path, body, field", [
    ("GET", "/v1/notifications?limit=0", None, "limit"),
    ("GET", "/v1/notifications?unread=maybe", None, "unread"),
    ("PUT", "/v1/me/notification-preferences", {"quiet_start": "25:00"}, "quiet_start"),
    ("PUT", "/v1/me/notification-preferences", {"channels": {"lead_assigned": ["pigeon"]}}, "channels"),
    ("PUT", "/v1/me/notification-preferences", {"language": "fr"}, "language"),
    ("POST", "/v1/me/push-subscriptions", {"endpoint": "not a url", "keys": {}}, "endpoint"),
    ("DELETE", "/v1/me/push-subscriptions", None, "endpoint"),
    ("POST", "/v1/admin/stores/SH-PUDONG/channels", {"type": "fax", "name": "x"}, "type"),
    ("PATCH", "/v1/admin/channels/ch1", {"kinds": ["gossip"]}, "kinds"),
    ("GET", "/v1/admin/deliveries?status=lost", None, "status"),
    ("POST", "/v1/admin/deliveries/resend", {"ids": []}, "ids"),
    ("PUT", "/v1/admin/stores/SH-PUDONG/notification-settings", {}, "urgent_breaks_quiet"),
])
def test_bad_input_is_refused_before_the_service_is_asked(client, sessions, service, method, path, body, field):
    path, _, query = path.partition("?")
    answer = client.simulate_request(method, path, query_string=query, json=body,
                                     headers=staff_headers(sessions, "manager.sh"))
    assert answer.status_code == 422, answer.text
    assert field in answer.json["errors"]
    assert service.calls == []


@pytest.mark.parametrize("method, path", [
    ("GET", "/v1/admin/stores/SH-PUDONG/channels"), ("POST", "/v1/admin/stores/SH-PUDONG/channels"),
    ("PATCH", "/v1/admin/channels/ch1"), ("DELETE", "/v1/admin/channels/ch1"),
    ("POST", "/v1/admin/channels/ch1/test"), ("GET", "/v1/admin/deliveries"),
    ("POST", "/v1/admin/deliveries/resend"), ("GET", "/v1/admin/stores/SH-PUDONG/notification-settings"),
    ("PUT", "/v1/admin/stores/SH-PUDONG/notification-settings"),
])
def test_consultants_may_not_manage_channels_or_deliveries(client, sessions, service, method, path):
    answer = client.simulate_request(method, path, json={}, headers=staff_headers(sessions, "consultant.sh1"))
    assert answer.status_code == 403
    assert service.calls == []


def test_signed_out_callers_are_refused(client, service):
    for path in ("/v1/notifications", "/v1/notifications/unread", "/v1/me/notification-preferences"):
        assert client.simulate_get(path).status_code == 401
    assert service.calls == []
