"""/v1/stream through the app: tickets, who may open a stream, and what it
carries (events are published into the hub directly; no broker)."""
import json
import uuid
from datetime import datetime, timezone

import falcon.testing
import pytest

from dealerflow.db import utcnow
from services.gateway import auth, org
from services.gateway.app import Gateway, create_app
from services.gateway.clients import Clients
from services.gateway.stream import StreamEvent, StreamHub
from services.gateway.tokens import Tokens
from tests.unit.gateway.test_app import FakePublisher, FakeRpc

SECRET = "unit-test-secret-" + "s" * 32


@pytest.fixture
def hub():
    return StreamHub()


@pytest.fixture
def app(sessions, hub, monkeypatch):
    monkeypatch.setenv("JWT_SECRET", SECRET)
    return create_app(Gateway(sessions, FakePublisher(), Clients(FakeRpc()), hub=hub))


def signed_in(sessions, username: str) -> tuple[dict, str]:
    with sessions() as session:
        user = org.user_named(session, username)
        session_id, _ = auth.start_session(session, user, utcnow())
        session.commit()
        return {"Authorization": f"Bearer {Tokens(SECRET).issue(user.id, session_id)}"}, user.id


def ticket(app, headers) -> str:
    result = falcon.testing.TestClient(app).simulate_post("/v1/stream/tickets", headers=headers)
    assert result.status_code == 200 and result.json["expires_in"] == 60
    return result.json["ticket"]


def open_stream(app, query: str):
    """The first chunks of a stream, read as a browser would, then closed."""
    environ = falcon.testing.create_environ("/v1/stream", query_string=query)
    status = {}
    body = app(environ, lambda code, headers: status.update(code=code, headers=dict(headers)))
    return status, iter(body)


def assigned(store: str, consultant: str) -> StreamEvent:
    return StreamEvent.from_payload("lead_assigned", {
        "event_id": str(uuid.uuid4()), "occurred_at": datetime.now(timezone.utc).isoformat(),
        "lead_id": "lead-1", "store_code": store, "consultant_id": consultant,
        "customer_name": "王磊", "assigned_at": None, "first_contact_due_at": None})


def test_a_consultant_is_pushed_their_new_lead(app, hub, sessions):
    headers, user_id = signed_in(sessions, "consultant.sh1")
    status, body = open_stream(app, f"ticket={ticket(app, headers)}")
    assert status["code"].startswith("200")
    assert status["headers"]["content-type"] == "text/event-stream"
    assert next(body) == b"retry: 3000\n\n"
    hub.publish(assigned("SH-PUDONG", "someone-else"))
    hub.publish(assigned("SH-PUDONG", user_id))
    frame = next(body).decode()
    assert "event: lead_assigned" in frame
    assert json.loads(frame.split("data: ", 1)[1])["consultant_id"] == user_id
    body.close()
    assert not hub.clients


@pytest.mark.parametrize("query", ["", "ticket=", "ticket=not-a-ticket"])
def test_without_a_good_ticket_the_stream_is_401(app, query):
    result = falcon.testing.TestClient(app).simulate_get("/v1/stream", query_string=query)
    assert result.status_code == 401
    assert set(result.json) == {"title", "description"}


def test_an_access_token_is_not_a_ticket_and_a_ticket_is_not_an_access_token(app, sessions):
    headers, _ = signed_in(sessions, "consultant.sh1")
    client = falcon.testing.TestClient(app)
    access = headers["Authorization"].removeprefix("Bearer ")
    assert client.simulate_get("/v1/stream", query_string=f"ticket={access}").status_code == 401
    assert client.simulate_get("/v1/me", headers={"Authorization": f"Bearer {ticket(app, headers)}"}
                               ).status_code == 401


def test_a_ticket_of_a_signed_out_session_opens_nothing(app, sessions):
    headers, _ = signed_in(sessions, "consultant.sh1")
    stream_ticket = ticket(app, headers)
    with sessions() as session:
        user = org.user_named(session, "consultant.sh1")
        user.active = False
        session.commit()
    result = falcon.testing.TestClient(app).simulate_get("/v1/stream", query_string=f"ticket={stream_ticket}")
    assert result.status_code == 401


def test_tickets_need_a_staff_token(app):
    assert falcon.testing.TestClient(app).simulate_post("/v1/stream/tickets").status_code == 401
