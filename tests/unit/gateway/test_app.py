"""The gateway's HTTP app without a broker: a real SQLite gateway database,
a fake publisher and a fake RPC, driven through falcon's TestClient."""
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import falcon.testing
import pytest
from nameko.exceptions import RpcTimeout
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from dealerflow.actor import Actor
from dealerflow.config import WORKERS
from dealerflow.db import make_engine
from services.gateway.app import Gateway, create_app
from services.gateway.clients import Clients
from services.gateway.errors import NotFound, Unavailable
from services.gateway.models import ApiKey, IntakeRecord
from services.gateway.org import revoke_api_key
from services.gateway.ratelimit import RateLimiter
from tests.unit.gateway.conftest import LEAD, make_lead

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "adf"
MAX_BODY = 64 * 1024


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE adf [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<adf><prospect><customer><contact><name part="full">&lol4;</name>
<phone>13800138000</phone></contact></customer></prospect></adf>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE adf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<adf><prospect><customer><contact><name part="full">&xxe;</name>
<phone>13800138000</phone></contact></customer></prospect></adf>"""


# --- fakes ----------------------------------------------------------------------

class FakePublisher:
    """Records what would have gone to the intake queue."""

    def __init__(self):
        self.messages = []

    def publish(self, message: dict) -> None:
        self.messages.append(json.loads(json.dumps(message)))  # as the broker would get it

    def ping(self) -> None:
        pass


class DownPublisher(FakePublisher):
    """Cannot make a lead safe (as IntakePublisher says it) until ``up``."""

    def __init__(self):
        super().__init__()
        self.up = False

    def publish(self, message: dict) -> None:
        if not self.up:
            raise Unavailable("The lead could not be made safe; it was not accepted.",
                              headers={"Retry-After": "5"})
        super().publish(message)

    def ping(self) -> None:
        if not self.up:
            raise ConnectionRefusedError()


class FakeRpc:
    """The services: ``leads.get_lead`` answers from ``leads`` (lead id ->
    (platform, view)); every other call answers ``pong``."""

    def __init__(self):
        self.leads, self.calls = {}, []

    def call(self, service, method, *args):
        self.calls.append((service, method, args))
        if (service, method) == ("leads", "get_lead"):
            lead_id, actor = args
            platform, view = self.leads.get(lead_id, (None, None))
            if platform != actor["platform"]:
                raise NotFound("x")  # what RpcPool.call makes of the service's LeadNotFound
            return view
        return "pong"


# --- helpers ----------------------------------------------------------------------

def make_client(sessions, publisher=None, rpc=None, limiter=None, max_body=MAX_BODY):
    app = create_app(Gateway(sessions, publisher or FakePublisher(), Clients(rpc or FakeRpc()),
                             limiter or RateLimiter(), max_body))
    return falcon.testing.TestClient(app)


def post_json(client, key, document, **headers):
    return client.simulate_post("/v1/leads", json=document,
                                headers=dict({"X-Api-Key": key}, **headers))


def post_xml(client, key, body: bytes, content_type="application/xml", **params):
    return client.simulate_post("/v1/leads", body=body, params=params or None,
                                headers={"X-Api-Key": key, "Content-Type": content_type})


def ledger_size(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(IntakeRecord))


class FrozenClock:
    def __call__(self) -> float:
        return 500.0


@pytest.fixture
def publisher():
    return FakePublisher()


@pytest.fixture
def rpc():
    return FakeRpc()


@pytest.fixture
def client(sessions, publisher, rpc):
    return make_client(sessions, publisher, rpc)


@pytest.fixture
def key(make_key):
    return make_key(["SH-PUDONG"], platform="p1", rate_limit=0)


# --- POST /v1/leads: accepted -------------------------------------------------------

def test_json_lead_is_accepted_and_published_once(client, publisher, key, sessions):
    result = post_json(client, key, make_lead())
    assert result.status_code == 202
    lead_id = result.json["id"]
    assert result.json == {"id": lead_id, "status": "accepted",
                           "status_url": f"/v1/leads/{lead_id}"}
    [message] = publisher.messages
    with sessions() as session:
        key_id = session.scalar(select(ApiKey.id).where(ApiKey.platform == "p1"))
    assert message["id"] == lead_id
    assert message["platform"] == "p1"
    assert message["api_key_id"] == key_id
    assert message["store_code"] == "SH-PUDONG"
    assert message["format"] == "json"
    assert message["raw"] is None
    assert message["submitted_at"].endswith("+00:00")
    lead = message["lead"]
    assert lead["source"] == "autohome"
    assert lead["external_id"] == "AH-2026-000123"
    assert lead["channel"] == "third_party"
    assert lead["received_at"] == "2026-11-26T09:30:00+08:00"
    assert lead["customer"] == LEAD["customer"]
    assert lead["interest"] == LEAD["interest"]
    assert lead["comments"] == LEAD["comments"]
    assert "store_code" not in lead


def test_the_lead_goes_to_the_keys_only_store_when_it_names_none(client, publisher, key):
    document = make_lead()
    del document["store_code"]
    assert post_json(client, key, document).status_code == 202
    assert publisher.messages[0]["store_code"] == "SH-PUDONG"


def test_every_response_carries_a_request_id(client, key):
    result = post_json(client, key, make_lead(), **{"X-Request-Id": "req-7"})
    assert result.headers["X-Request-Id"] == "req-7"
    assert client.simulate_get("/healthz").headers["X-Request-Id"]


def test_same_idempotency_key_twice_is_one_lead(client, publisher, key):
    document = make_lead()
    del document["external_id"]
    first = post_json(client, key, document, **{"Idempotency-Key": "req-1"})
    again = post_json(client, key, document, **{"Idempotency-Key": "req-1"})
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json == first.json
    assert len(publisher.messages) == 1


def test_another_idempotency_key_is_another_lead(client, publisher, key):
    document = make_lead()
    del document["external_id"]
    first = post_json(client, key, document, **{"Idempotency-Key": "req-1"})
    other = post_json(client, key, document, **{"Idempotency-Key": "req-2"})
    assert other.status_code == 202
    assert other.json["id"] != first.json["id"]
    assert len(publisher.messages) == 2


def test_same_idempotency_key_with_another_body_is_422(client, publisher, key):
    first = post_json(client, key, make_lead(), **{"Idempotency-Key": "req-1"})
    other = post_json(client, key, make_lead(external_id="AH-other"), **{"Idempotency-Key": "req-1"})
    assert first.status_code == 202
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json["errors"]
    assert len(publisher.messages) == 1


def test_an_idempotency_key_belongs_to_its_platform(client, publisher, key, make_key):
    other_platform = make_key(["SH-PUDONG"], platform="p2")
    first = post_json(client, key, make_lead(), **{"Idempotency-Key": "req-1"})
    other = post_json(client, other_platform, make_lead(external_id="AH-other"),
                      **{"Idempotency-Key": "req-1"})
    assert (first.status_code, other.status_code) == (202, 202)
    assert other.json["id"] != first.json["id"]


def test_one_lead_under_two_idempotency_keys_gets_one_id(client, publisher, key):
    first = post_json(client, key, make_lead(), **{"Idempotency-Key": "req-1"})
    again = post_json(client, key, make_lead(), **{"Idempotency-Key": "req-2"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json["id"] == first.json["id"]
    assert len(publisher.messages) == 1


def test_a_store_repeating_another_stores_external_id_gets_a_lead_of_its_own(
        client, publisher, key, make_key):
    bj_key = make_key(["BJ-CHAOYANG"], platform="p1")
    sh = post_json(client, key, make_lead())
    bj = post_json(client, bj_key, make_lead(store_code="BJ-CHAOYANG"))
    assert (sh.status_code, bj.status_code) == (202, 202)
    assert bj.json["id"] != sh.json["id"]
    assert client.simulate_get(f"/v1/leads/{sh.json['id']}",
                               headers={"X-Api-Key": bj_key}).status_code == 404


def test_same_source_and_external_id_twice_is_one_lead(client, publisher, key):
    first = post_json(client, key, make_lead())
    again = post_json(client, key, make_lead(comments="sent again"))
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json["id"] == first.json["id"]
    assert len(publisher.messages) == 1


def test_without_any_key_each_submission_is_new(client, publisher, key):
    document = make_lead()
    del document["external_id"]
    first, second = post_json(client, key, document), post_json(client, key, document)
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json["id"] != second.json["id"]
    assert len(publisher.messages) == 2


# --- POST /v1/leads: refused -------------------------------------------------------

def test_unparseable_json_is_400(client, publisher, key):
    result = client.simulate_post("/v1/leads", body=b'{"source": ',
                                  headers={"X-Api-Key": key, "Content-Type": "application/json"})
    assert result.status_code == 400
    assert set(result.json) >= {"title", "description"}
    assert publisher.messages == []


def test_json_array_is_422(client, key):
    result = post_json(client, key, [make_lead()])
    assert result.status_code == 422
    assert "errors" in result.json


def test_neither_phone_nor_email_is_422_naming_the_field(client, publisher, key, sessions):
    result = post_json(client, key, make_lead(customer={"name": "王磊"}))
    assert result.status_code == 422
    assert set(result.json) == {"title", "description", "errors"}
    assert "phone" in result.json["errors"]["customer"]
    assert publisher.messages == []
    assert ledger_size(sessions) == 0


def test_several_bad_fields_are_all_named(client, key):
    document = make_lead(channel="fax", interest={"year": 1066})
    del document["source"]
    errors = post_json(client, key, document).json["errors"]
    assert set(errors) == {"source", "channel", "interest"}


def nested(depth: int) -> dict:
    document = {}
    for _ in range(depth):
        document = {"a": document}
    return document


# Each value parses but some backend could not store it: refused at the door.
UNSTORABLE = [
    ({"comments": "call me\x00"}, ["comments"]),
    ({"customer": {"phone": "13800138000", "address": {"street": "no\x00where"}}},
     ["customer", "address", "street"]),
    ({"customer": {"phone": "13800138000", "address": {"bad\x00key": "x"}}}, ["customer", "address"]),
    ({"trade_in": [{"odometer": 2**60}]}, ["trade_in", "0", "odometer"]),
    ({"customer": {"phone": "13800138000", "phones": [{"number": "\ud800"}]}},
     ["customer", "phones", "0", "number"]),
    ({"received_at": "0001-01-01T00:00:00+14:00"}, ["received_at"]),
    ({"received_at": "9999-12-31T23:59:59-12:00"}, ["received_at"]),
    ({"received_at": "1999-12-31T23:59:59+00:00"}, ["received_at"]),
    ({"customer": {"email": "İ" * 200 + "@example.com"}}, ["customer", "email"]),
    ({"interest": {"budget_max": 10**16}}, ["interest", "budget_max"]),
]


@pytest.mark.parametrize("overrides,path", UNSTORABLE)
def test_what_no_service_could_store_is_422_naming_the_field(client, publisher, key, overrides, path):
    body = json.dumps(make_lead(**overrides)).encode()  # json.dumps keeps "\ud800" as an escape
    result = client.simulate_post("/v1/leads", body=body,
                                  headers={"X-Api-Key": key, "Content-Type": "application/json"})
    assert result.status_code == 422, result.json
    node = result.json["errors"]
    for part in path:
        node = node[part]
    assert node
    assert publisher.messages == []


@pytest.mark.parametrize("body", [
    b'{"source": "x", "customer": {"phone": "1"}, "interest": {"budget_max": NaN}}',
    b'{"source": "x", "customer": {"phone": "1"}, "trade_in": [{"odometer": Infinity}]}',
    json.dumps(make_lead(trade_in=[nested(40)])).encode(),
    b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
    b"[" * 30_000 + b"]" * 30_000,
])
def test_non_finite_numbers_and_deep_nesting_are_400(client, publisher, key, body):
    result = client.simulate_post("/v1/leads", body=body,
                                  headers={"X-Api-Key": key, "Content-Type": "application/json"})
    assert result.status_code == 400, result.json
    assert set(result.json) == {"title", "description"}
    assert publisher.messages == []


def test_a_received_at_within_a_day_ahead_is_accepted(client, key):
    tomorrow = (datetime.now(timezone.utc) + timedelta(hours=20)).isoformat()
    assert post_json(client, key, make_lead(received_at=tomorrow)).status_code == 202


@pytest.mark.parametrize("headers", [{}, {"X-Api-Key": ""},
                                     {"X-Api-Key": "dfk_not-a-key-we-issued"}])
def test_missing_or_wrong_key_is_401(client, publisher, headers):
    result = client.simulate_post("/v1/leads", json=make_lead(), headers=headers)
    assert result.status_code == 401
    assert set(result.json) == {"title", "description"}
    assert publisher.messages == []


def test_revoked_key_is_401(client, publisher, key, sessions):
    assert post_json(client, key, make_lead(external_id="before")).status_code == 202
    with sessions() as session:
        revoke_api_key(session, key)
        session.commit()
    assert post_json(client, key, make_lead(external_id="after")).status_code == 401
    assert len(publisher.messages) == 1


def test_store_outside_the_key_is_403(client, publisher, key, sessions):
    result = post_json(client, key, make_lead(store_code="BJ-CHAOYANG"))
    assert result.status_code == 403
    assert publisher.messages == []
    assert ledger_size(sessions) == 0


def test_unknown_store_is_refused(client, publisher, make_key):
    key = make_key(["SH-PUDONG", "BJ-CHAOYANG"])
    assert post_json(client, key, make_lead(store_code="NOWHERE")).status_code == 403
    assert publisher.messages == []


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "text/plain"])
def test_other_content_types_are_415(client, publisher, key, content_type):
    result = client.simulate_post(
        "/v1/leads", body=b"source=autohome&phone=13800138000",
        headers={"X-Api-Key": key, "Content-Type": content_type})
    assert result.status_code == 415
    assert publisher.messages == []


def test_body_over_the_limit_is_413(sessions, publisher, key):
    client = make_client(sessions, publisher, max_body=1024)
    result = post_json(client, key, make_lead(comments="长" * 2000))
    assert result.status_code == 413
    assert publisher.messages == []


def test_body_at_the_limit_is_read(sessions, publisher, key):
    body = json.dumps(make_lead()).encode()
    client = make_client(sessions, publisher, max_body=len(body))
    result = client.simulate_post("/v1/leads", body=body, headers={
        "X-Api-Key": key, "Content-Type": "application/json"})
    assert result.status_code == 202


@pytest.mark.parametrize("body", [BILLION_LAUGHS, EXTERNAL_ENTITY],
                         ids=["billion-laughs", "external-entity"])
def test_entity_tricks_in_xml_are_400(client, publisher, key, body):
    result = post_xml(client, key, body)
    assert result.status_code == 400
    assert "root:" not in result.text
    assert publisher.messages == []


def test_xml_that_is_not_an_adf_document_is_400(client, key):
    assert post_xml(client, key, b"<lead><phone>13800138000</phone></lead>").status_code == 400


# --- ADF --------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_every_adf_fixture_is_accepted(client, publisher, key, name):
    body = (FIXTURES / name).read_bytes()
    result = post_xml(client, key, body)
    assert result.status_code == 202, result.json
    answers = result.json["leads"]
    assert len(answers) == len(publisher.messages) >= 1
    for answer, message in zip(answers, publisher.messages):
        assert answer == {"id": message["id"], "status": "accepted",
                          "status_url": f"/v1/leads/{message['id']}"}
        assert message["format"] == "adf"
        assert message["store_code"] == "SH-PUDONG"
        assert message["raw"].lower().startswith("<prospect")


@pytest.mark.parametrize("content_type", ["text/xml", "application/xml; charset=utf-8"])
def test_adf_under_other_xml_types(client, key, content_type):
    body = (FIXTURES / "02_minimal_fullname_phone_only.xml").read_bytes()
    assert post_xml(client, key, body, content_type).status_code == 202


def test_two_prospects_are_two_leads(client, publisher, key):
    result = post_xml(client, key, (FIXTURES / "06_resend_two_prospects_latin1.xml").read_bytes())
    assert result.status_code == 202
    assert len(result.json["leads"]) == 2
    assert [m["lead"]["external_id"] for m in publisher.messages] == ["WEB-55120", "WEB-55121"]
    assert publisher.messages[0]["lead"]["customer"]["email"] == "jose.munoz@example.com"
    assert "José" in publisher.messages[0]["raw"]


def test_resent_adf_is_recognised(client, publisher, key):
    body = (FIXTURES / "06_resend_two_prospects_latin1.xml").read_bytes()
    first, again = post_xml(client, key, body), post_xml(client, key, body)
    assert again.status_code == 200
    assert again.json == first.json
    assert len(publisher.messages) == 2


def adf_document(*prospects: str) -> bytes:
    return ('<?xml version="1.0"?><adf>' + "".join(prospects) + "</adf>").encode()


def prospect(name: str, external_id: str | None = None) -> str:
    ident = f'<id source="autohome">{external_id}</id>' if external_id else ""
    return (f"<prospect>{ident}<customer><contact><name part=\"full\">{name}</name>"
            f"<phone>13800138000</phone></contact></customer></prospect>")


def test_prospects_sharing_an_id_get_one_lead_that_answers(client, publisher, key, rpc):
    result = post_xml(client, key, adf_document(prospect("Li Na", "X-1"), prospect("Li Na 2", "X-1")))
    assert result.status_code == 202
    first, second = result.json["leads"]
    assert first["id"] == second["id"]
    assert len(publisher.messages) == 1
    assert client.simulate_get(first["status_url"], headers={"X-Api-Key": key}).status_code == 200


def test_a_resent_document_with_some_prospects_in_another_order_stores_each_once(
        client, publisher, key):
    a, b, c = prospect("Li Na"), prospect("Wang Lei"), prospect("Zhang Wei")
    first = post_xml(client, key, adf_document(a, b, c))
    again = post_xml(client, key, adf_document(c, a))
    ids = {answer["id"] for answer in first.json["leads"]}
    assert again.status_code == 200
    assert {answer["id"] for answer in again.json["leads"]} <= ids
    assert [answer["id"] for answer in again.json["leads"]] == [first.json["leads"][2]["id"],
                                                                first.json["leads"][0]["id"]]
    assert len(publisher.messages) == 3


def test_adf_to_a_key_of_several_stores_names_the_store(client, publisher, make_key):
    key = make_key(["SH-PUDONG", "BJ-CHAOYANG"])
    body = (FIXTURES / "01_full_buy_with_tradein.xml").read_bytes()
    unsaid = post_xml(client, key, body)
    assert unsaid.status_code == 422
    assert "store_code" in unsaid.json["errors"]
    said = post_xml(client, key, body, store_code="BJ-CHAOYANG")
    assert said.status_code == 202
    assert [m["store_code"] for m in publisher.messages] == ["BJ-CHAOYANG"]


def test_adf_store_code_outside_the_key_is_403(client, publisher, key):
    body = (FIXTURES / "01_full_buy_with_tradein.xml").read_bytes()
    assert post_xml(client, key, body, store_code="BJ-CHAOYANG").status_code == 403
    assert publisher.messages == []


# --- safety: 503 and 429 ---------------------------------------------------------

def test_publisher_down_is_503_and_nothing_is_remembered(sessions, key):
    publisher = DownPublisher()
    client = make_client(sessions, publisher)
    refused = post_json(client, key, make_lead())
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "5"
    assert set(refused.json) == {"title", "description"}
    assert ledger_size(sessions) == 0
    publisher.up = True
    retried = post_json(client, key, make_lead())
    assert retried.status_code == 202
    assert len(publisher.messages) == 1
    assert ledger_size(sessions) > 0


def test_broker_error_leaking_from_the_publisher_is_503(sessions, key):
    class BrokenPublisher(FakePublisher):
        def publish(self, message):
            raise ConnectionResetError("broker went away")

    client = make_client(sessions, BrokenPublisher())
    result = post_json(client, key, make_lead())
    assert result.status_code == 503
    assert result.headers["Retry-After"] == "5"
    assert ledger_size(sessions) == 0


def test_over_the_rate_limit_is_429_with_retry_after(sessions, publisher, make_key):
    key = make_key(rate_limit=1)
    client = make_client(sessions, publisher, limiter=RateLimiter(clock=FrozenClock()))
    assert post_json(client, key, make_lead(external_id="1")).status_code == 202
    limited = post_json(client, key, make_lead(external_id="2"))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert len(publisher.messages) == 1


def test_rate_limit_is_per_key(sessions, publisher, make_key):
    first, second = make_key(rate_limit=1), make_key(rate_limit=1)
    client = make_client(sessions, publisher, limiter=RateLimiter(clock=FrozenClock()))
    assert post_json(client, first, make_lead(external_id="1")).status_code == 202
    assert post_json(client, second, make_lead(external_id="2")).status_code == 202


# --- GET /v1/leads/{id} -----------------------------------------------------------

def test_get_returns_what_the_leads_service_says(client, rpc, key):
    view = {"id": "l-1", "status": "assigned", "store_code": "SH-PUDONG",
            "assigned_at": "2026-11-26T01:31:00+00:00", "first_contact_at": None}
    rpc.leads["l-1"] = ("p1", view)
    result = client.simulate_get("/v1/leads/l-1", headers={"X-Api-Key": key})
    assert result.status_code == 200
    assert result.json == view
    assert rpc.calls[-1] == ("leads", "get_lead",
                             ("l-1", Actor(kind="api_key", platform="p1", stores=("SH-PUDONG",)).dump()))


def test_get_unknown_lead_is_404(client, key):
    result = client.simulate_get("/v1/leads/no-such-lead", headers={"X-Api-Key": key})
    assert result.status_code == 404
    assert set(result.json) == {"title", "description"}


def test_get_needs_a_valid_key(client, rpc):
    rpc.leads["l-1"] = ("p1", {"id": "l-1"})
    assert client.simulate_get("/v1/leads/l-1").status_code == 401
    assert client.simulate_get("/v1/leads/l-1",
                               headers={"X-Api-Key": "dfk_wrong"}).status_code == 401
    assert rpc.calls == []


def test_another_platforms_key_gets_404(client, key, make_key):
    lead_id = post_json(client, key, make_lead()).json["id"]
    other = make_key(["SH-PUDONG"], platform="p2")
    assert client.simulate_get(f"/v1/leads/{lead_id}",
                               headers={"X-Api-Key": other}).status_code == 404


# --- health ----------------------------------------------------------------------

def test_healthz(client):
    result = client.simulate_get("/healthz")
    assert result.status_code == 200
    assert result.json == {"status": "ok"}


def test_readyz_asks_only_what_intake_needs(client, rpc):
    result = client.simulate_get("/readyz")
    assert result.status_code == 200
    assert result.json == {"status": "ready", "checks": {"broker": "ok", "database": "ok"}}
    assert rpc.calls == []


def test_full_readiness_also_asks_every_service(client, rpc):
    result = client.simulate_get("/readyz", params={"full": "1"})
    assert result.status_code == 200
    assert set(result.json["checks"]) == {"broker", "database", "customers", "leads",
                                          "followups", "notifications"}
    assert {call[:2] for call in rpc.calls} == {(service, "ping") for service in WORKERS}


class SilentService(FakeRpc):
    def call(self, service, method, *args):
        if service == "notifications":
            raise RpcTimeout()
        return super().call(service, method, *args)


def test_a_silent_service_leaves_the_gateway_ready_for_intake(sessions):
    client = make_client(sessions, rpc=SilentService())
    assert client.simulate_get("/readyz").status_code == 200
    full = client.simulate_get("/readyz", params={"full": "1"})
    assert full.status_code == 503
    assert full.json["checks"]["notifications"] == "no answer: RpcTimeout"
    assert full.json["checks"]["leads"] == "ok"


def test_readyz_without_the_broker(sessions):
    result = make_client(sessions, DownPublisher()).simulate_get("/readyz")
    assert result.status_code == 503
    assert result.json["checks"]["broker"].startswith("unreachable")


def missing_database():
    """Sessions on a database that cannot be opened: its folder does not exist."""
    return sessionmaker(make_engine("sqlite:////nonexistent-dealerflow/gateway.db", immediate=False))


def test_readyz_without_the_database():
    result = make_client(missing_database()).simulate_get("/readyz")
    assert result.status_code == 503
    assert result.json["checks"]["database"] == "unreachable: OperationalError"


def test_intake_without_its_database_answers_503_with_retry_after(sessions, key):
    """The key was checked against a database that then went away."""
    client = make_client(sessions)
    assert post_json(client, key, make_lead()).status_code == 202
    client = make_client(missing_database())
    result = post_json(client, key, make_lead(external_id="another"))
    assert result.status_code == 503
    assert result.headers["Retry-After"] == "5"
    assert result.json["title"] == "Service unavailable"


@pytest.mark.parametrize("query", ["q=a%00b", "na%00me=x", "status=assigned&status=%00"])
def test_a_query_no_database_could_take_is_400(client, query):
    result = client.simulate_get("/v1/leads", query_string=query)
    assert result.status_code == 400
    assert set(result.json) == {"title", "description"}


def test_an_idempotency_key_with_nul_is_400(client, publisher, key):
    result = post_json(client, key, make_lead(), **{"Idempotency-Key": "a\x00b"})
    assert result.status_code == 400
    assert publisher.messages == []
