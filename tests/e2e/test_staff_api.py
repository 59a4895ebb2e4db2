"""The staff API against the running system: who sees what (a table of
every demo role from both stores against leads of both stores, through HTTP
and straight at the services' RPCs), live push, and a schema-driven fuzz of
every documented operation that must never meet a 5xx."""
import json
import socket
import threading

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from dealerflow.actor import Actor
from tests.conftest import make_lead
from tests.e2e.test_lead_intake import assigned
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

PASSWORD = "dealerflow-demo"
USERS = ("admin", "manager.sh", "manager.bj", "consultant.sh1", "consultant.sh2", "consultant.sh3",
         "consultant.bj1", "consultant.bj2", "consultant.bj3")


def sign_in(stack, username: str) -> dict:
    answer = requests.post(f"{stack.url}/v1/auth/token", json={"username": username, "password": PASSWORD},
                           timeout=30)
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.fixture(scope="module")
def staff(stack):
    """Every demo user's headers and id (their /v1/me)."""
    signed = {}
    for username in USERS:
        headers = sign_in(stack, username)
        signed[username] = (headers, requests.get(f"{stack.url}/v1/me", headers=headers, timeout=10).json())
    return signed


@pytest.fixture(scope="module")
def two_leads(stack):
    """One lead in each store, assigned: ``{store: (lead id, consultant's username)}``."""
    leads = {}
    for store, key in (("SH-PUDONG", stack.sh_key), ("BJ-CHAOYANG", stack.bj_key)):
        lead_id = stack.post_lead(make_lead(store_code=store), key=key).json()["id"]
        assigned(stack, lead_id, key)
        consultant = stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id", id=lead_id)
        username = stack.scalar("gateway", "SELECT username FROM users WHERE id = :id", id=consultant)
        leads[store] = (lead_id, username)
    return leads


def may_see(username: str, store: str, owner: str) -> bool:
    if username == "admin":
        return True
    if username.startswith("manager."):
        return store.lower().startswith(username.split(".")[1])
    return username == owner


def test_every_role_sees_exactly_its_scope(stack, staff, two_leads):
    for username, (headers, me) in staff.items():
        listed = {lead["id"] for lead in requests.get(f"{stack.url}/v1/leads?limit=200", headers=headers,
                                                      timeout=10).json()["items"]}
        for store, (lead_id, owner) in two_leads.items():
            expected = may_see(username, store, owner)
            answer = requests.get(f"{stack.url}/v1/leads/{lead_id}", headers=headers, timeout=10)
            assert answer.status_code == (200 if expected else 404), (username, store, answer.text)
            assert (lead_id in listed) == expected, (username, store)
            if expected:
                detail = answer.json()
                assert detail["consultant"]["display_name"] and detail["assignments"]
                assert detail["customer"]["phone"].startswith("139") and detail["grade"] == "H"
                assert detail["unavailable"] == []


def test_the_services_refuse_an_actor_that_does_not_own_the_record(stack, staff, two_leads):
    lead_id, owner = two_leads["SH-PUDONG"]
    _, owner_me = staff[owner]
    other = next(name for name in ("consultant.sh1", "consultant.sh2") if name != owner)
    strangers = [Actor(kind="user", user_id=staff[other][1]["id"], role="consultant", stores=("SH-PUDONG",)),
                 Actor(kind="user", user_id=staff["manager.bj"][1]["id"], role="manager",
                       stores=("BJ-CHAOYANG",)),
                 Actor(kind="api_key", platform="demo", stores=("SH-PUDONG", "BJ-CHAOYANG"))]
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=10) as services:
        for stranger in strangers:
            actor = stranger.dump()
            with pytest.raises(RemoteError) as refused:
                services.leads.get_lead_detail(lead_id, actor)
            assert refused.value.exc_type == "LeadNotFound"
            assert lead_id not in {lead["id"] for lead in services.leads.list_leads(actor, {})["items"]}
            assert services.followups.list_tasks(actor, lead_id) == []
            assert services.notifications.list_inbox(actor, lead_id)["items"] == []
        owner_actor = Actor(kind="user", user_id=owner_me["id"], role="consultant", stores=("SH-PUDONG",))
        assert len(services.followups.list_tasks(owner_actor.dump(), lead_id)) == 1


def test_credentials_of_the_other_kind_are_refused(stack, staff):
    headers, _ = staff["admin"]
    assert requests.get(f"{stack.url}/v1/leads", headers={"X-Api-Key": stack.sh_key}, timeout=10).status_code == 401
    assert requests.post(f"{stack.url}/v1/leads", json=make_lead(), headers=headers,
                         timeout=10).status_code in (401, 403)


def test_a_platforms_lead_reaches_the_signed_in_consultants_stream(stack, staff):
    """Every Pudong consultant listens; the one the lead is assigned to is told."""
    events, streams, done = {}, [], threading.Event()

    def listen(username):
        headers, _ = staff[username]
        ticket = requests.post(f"{stack.url}/v1/stream/tickets", headers=headers, timeout=10).json()["ticket"]
        with requests.get(f"{stack.url}/v1/stream", params={"ticket": ticket}, stream=True,
                          timeout=30) as answer:
            assert answer.status_code == 200
            streams.append(answer)
            try:
                for line in answer.iter_lines(decode_unicode=True):
                    if line.startswith("data: "):
                        events.setdefault(username, []).append(json.loads(line[len("data: "):]))
            except Exception:
                if not done.is_set():  # closed by the test, else a real failure
                    raise

    names = ("consultant.sh1", "consultant.sh2", "consultant.sh3")
    for username in names:
        threading.Thread(target=listen, args=(username,), daemon=True).start()
    eventually(lambda: len(streams) == len(names), message="every stream is open")
    lead_id = stack.post_lead(make_lead()).json()["id"]
    owner_id = eventually(lambda: stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id",
                                               id=lead_id))
    owner = next(name for name in names if staff[name][1]["id"] == owner_id)
    eventually(lambda: any(event["lead_id"] == lead_id for event in events.get(owner, [])),
               timeout=15, message=f"{owner}'s stream carried the lead")
    done.set()
    for answer in streams:  # close() would wait for the listener's read to time out (30 s)
        answer.raw._connection.sock.shutdown(socket.SHUT_RDWR)


EXAMPLES_PER_OPERATION = 10  # per operation and backend: some 150 operations, each example a request through the stack


def test_no_request_the_document_allows_gets_a_server_error(stack, staff):
    """Schemathesis generates requests for every documented operation, signed
    in as the group admin (a platform's key for intake)."""
    schema = schemathesis.openapi.from_url(f"{stack.url}/v1/openapi.json")
    admin, _ = staff["admin"]
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()
        credentials = ({"X-Api-Key": stack.sh_key} if (operation.method, operation.path) == ("POST", "/v1/leads")
                       else admin)

        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case):
            headers = {name: value for name, value in (case.headers or {}).items()
                       if name.lower() not in ("authorization", "x-api-key")}
            response = case.call(base_url=stack.url, headers={**headers, **credentials}, timeout=30)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                f"{response.text[:300]}")

        call()
    assert not failures, "\n".join(failures[:20])
