"""A lead platform's whole contract, through HTTP, against the running system."""
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests
from nameko.standalone.rpc import ClusterRpcProxy

from dealerflow.actor import Actor
from dealerflow.config import WORKERS
from tests.conftest import make_lead
from tests.support.waiting import eventually

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "adf"

pytestmark = pytest.mark.e2e


def assigned(stack, lead_id, key=None):
    def check():
        answer = stack.get_lead(lead_id, key)
        return answer.json() if answer.status_code == 200 and answer.json()["status"] == "assigned" else None
    return eventually(check, timeout=30, message=f"lead {lead_id} is assigned")


def test_a_json_lead_goes_all_the_way_to_the_consultants_inbox(stack):
    answer = stack.post_lead(make_lead(customer={"name": "王磊", "phone": "138 0013 8000",
                                                 "email": " WL@Example.COM "}))
    assert answer.status_code == 202
    body = answer.json()
    assert body["status"] == "accepted" and body["status_url"] == f"/v1/leads/{body['id']}"
    lead_id = body["id"]

    view = assigned(stack, lead_id)
    assert view["store_code"] == "SH-PUDONG" and view["assigned_at"] and view["first_contact_at"] is None

    consultant = stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id", id=lead_id)
    consultants = {stack.scalar("gateway", "SELECT id FROM users WHERE username = :u", u=f"consultant.sh{i}")
                   for i in (1, 2, 3)}
    assert consultant in consultants
    customer_id = eventually(lambda: stack.scalar(
        "customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id", id=lead_id))
    assert stack.scalar("customers", "SELECT e164 FROM customer_phones WHERE customer_id = :id",
                        id=customer_id) == "+8613800138000"
    assert stack.scalar("customers", "SELECT email FROM customer_emails WHERE customer_id = :id",
                        id=customer_id) == "wl@example.com"
    eventually(lambda: stack.scalar(
        "followups", "SELECT consultant_id FROM tasks WHERE lead_id = :id AND kind = 'first_contact'",
        id=lead_id) == consultant)
    eventually(lambda: stack.scalar(
        "notifications", "SELECT user_id FROM inbox_messages WHERE lead_id = :id", id=lead_id) == consultant)
    # what the services answer about it over RPC (the staff API will ask the same)
    owner = Actor(kind="user", user_id=consultant, role="consultant", stores=("SH-PUDONG",)).dump()
    with ClusterRpcProxy({"AMQP_URI": stack.amqp_uri}, timeout=10) as services:
        [task] = services.followups.list_tasks(owner, lead_id)
        assert (task["kind"], task["status"], task["consultant_id"]) == ("first_contact", "open", consultant)
        assert (datetime.fromisoformat(task["due_at"]) - datetime.fromisoformat(view["assigned_at"])
                == timedelta(minutes=15))  # the store's response deadline
        inbox = services.notifications.list_inbox(owner, lead_id)["items"]
        assert [m["title"] for m in inbox] == ["新线索：王磊"]  # the consultant's language, zh unless they chose
    # the correlation id of the request reached every service's logs
    request_id = answer.headers["X-Request-Id"]
    for service in WORKERS:
        eventually(lambda: request_id in stack.log(service), timeout=10,
                   message=f"{service} logged the request id")


def test_leads_of_a_store_go_round_robin(stack):
    ids = [stack.post_lead(make_lead()).json()["id"] for _ in range(6)]
    for lead_id in ids:
        assigned(stack, lead_id)
    owners = [stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id", id=i) for i in ids]
    # leads may be taken in any order, but six in a row over three consultants is two each
    assert sorted(owners.count(owner) for owner in set(owners)) == [2, 2, 2]


def test_the_same_customer_twice_is_one_customer(stack):
    phone = "13912345678"
    first = stack.post_lead(make_lead(customer={"name": "李娜", "phone": phone})).json()["id"]
    second = stack.post_lead(make_lead(customer={"name": "李娜", "phone": f"+86 {phone}"})).json()["id"]
    ids = [eventually(lambda i=i: stack.scalar(
        "customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id", id=i)) for i in (first, second)]
    assert ids[0] == ids[1]
    assert stack.scalar("customers", "SELECT count(*) FROM customer_phones WHERE e164 = :p", p="+86" + phone) == 1


@pytest.mark.parametrize("fixture", sorted(p.name for p in FIXTURES.glob("*.xml")))
def test_each_adf_fixture_is_accepted_and_assigned(stack, fixture):
    answer = stack.post_lead(data=(FIXTURES / fixture).read_bytes(),
                             headers={"Content-Type": "application/xml"})
    assert answer.status_code in (200, 202), answer.text  # 06 repeats 06's own ids on a rerun
    leads = answer.json()["leads"]
    assert len(leads) == (2 if fixture.startswith("06") else 1)
    for lead in leads:
        assigned(stack, lead["id"])


def test_a_not_well_formed_adf_keeps_every_character(stack):
    body = (FIXTURES / "04_quirky_not_wellformed.xml").read_bytes()
    lead_id = stack.post_lead(data=body, headers={"Content-Type": "text/xml"}).json()["leads"][0]["id"]
    assigned(stack, lead_id)
    assert stack.scalar("leads", "SELECT comments FROM leads WHERE id = :id", id=lead_id) == \
        "Trade & cash offer? Best price < $5,000 please"
    raw = stack.scalar("leads", "SELECT raw FROM leads WHERE id = :id", id=lead_id)
    assert "Trade &amp; cash offer? Best price &lt; $5,000 please" in raw  # the prospect's own XML


def test_the_same_lead_twice_is_one_lead(stack):
    lead = make_lead()
    first = stack.post_lead(lead)
    again = stack.post_lead(lead)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json() == again.json()
    assigned(stack, first.json()["id"])
    assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE external_id = :e",
                        e=lead["external_id"]) == 1


def test_the_same_idempotency_key_twice_is_one_lead(stack):
    headers = {"Idempotency-Key": "retry-7f3a"}
    lead = make_lead(external_id=None)
    lead.pop("external_id")
    first = stack.post_lead(lead, headers=headers)
    again = stack.post_lead(lead, headers=headers)
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["id"] == again.json()["id"]
    assigned(stack, first.json()["id"])
    assert stack.scalar("leads", "SELECT count(*) FROM leads WHERE id = :id", id=first.json()["id"]) == 1


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<adf><prospect><customer><contact><name>&lol3;</name></contact></customer></prospect></adf>"""
EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE adf [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<adf><prospect><customer><comments>&xxe;</comments></customer></prospect></adf>"""


@pytest.mark.parametrize("name, key, headers, body, status", [
    ("unparseable JSON", "sh", {"Content-Type": "application/json"}, b'{"source": ', 400),
    ("neither phone nor email", "sh", {"Content-Type": "application/json"},
     b'{"source": "autohome", "customer": {"name": "x"}}', 422),
    ("missing key", None, {"Content-Type": "application/json"}, b"{}", 401),
    ("wrong key", "dfk_not-a-key", {"Content-Type": "application/json"}, b"{}", 401),
    ("another store's key", "bj", {"Content-Type": "application/json"},
     b'{"source": "autohome", "store_code": "SH-PUDONG", "customer": {"phone": "13800138000"}}', 403),
    ("form-encoded body", "sh", {"Content-Type": "application/x-www-form-urlencoded"}, b"source=x", 415),
    ("billion laughs", "sh", {"Content-Type": "application/xml"}, BILLION_LAUGHS, 400),
    ("external entity", "sh", {"Content-Type": "application/xml"}, EXTERNAL_ENTITY, 400),
    ("20 MiB body", "sh", {"Content-Type": "application/json"}, b" " * (20 * 1024 * 1024), 413),
])
def test_bad_requests_get_the_contracts_answer(stack, name, key, headers, body, status):
    keys = {"sh": stack.sh_key, "bj": stack.bj_key}
    headers = dict(headers)
    if key is not None:
        headers["X-Api-Key"] = keys.get(key, key)
    before = stack.scalar("gateway", "SELECT count(*) FROM intake_leads")
    answer = requests.post(f"{stack.url}/v1/leads", data=body, headers=headers, timeout=30)
    assert answer.status_code == status, answer.text
    assert set(answer.json()) >= {"title", "description"}
    if status == 422:
        assert answer.json()["errors"]["customer"]["phone"]
    assert stack.scalar("gateway", "SELECT count(*) FROM intake_leads") == before
    assert requests.get(f"{stack.url}/readyz", timeout=10).status_code == 200


def test_a_lead_is_visible_only_to_its_platform_and_stores(stack):
    lead_id = stack.post_lead(make_lead()).json()["id"]
    assigned(stack, lead_id)
    assert stack.get_lead(lead_id, stack.bj_key).status_code == 404   # same platform, other store
    assert stack.get_lead(lead_id, stack.api_key).status_code == 404  # the demo platform
    assert stack.get_lead("00000000-0000-0000-0000-000000000000").status_code == 404
    assert requests.get(f"{stack.url}/v1/leads/{lead_id}", timeout=10).status_code == 401


def test_a_lead_waits_for_a_store_without_consultants_then_is_assigned(stack):
    stack.cli("create-store", "GZ-TIANHE", "--name", "Guangzhou Tianhe", "--response-minutes", "10")
    key = stack.cli("create-api-key", "--store", "GZ-TIANHE", "--platform", "autohome",
                    "--rate-limit", "0").strip().splitlines()[-1]
    lead_id = stack.post_lead(make_lead(store_code="GZ-TIANHE"), key=key).json()["id"]
    eventually(lambda: stack.scalar("leads", "SELECT status FROM leads WHERE id = :id", id=lead_id) == "accepted")
    assert stack.get_lead(lead_id, key).json()["status"] == "accepted"

    stack.cli("create-user", "consultant.gz1", "--role", "consultant", "--store", "GZ-TIANHE",
              "--password", "a-long-password")
    view = assigned(stack, lead_id, key)
    assert view["store_code"] == "GZ-TIANHE"
    due = eventually(lambda: stack.scalar("followups", "SELECT due_at FROM tasks WHERE lead_id = :id",
                                          id=lead_id))
    due = datetime.fromisoformat(str(due)).replace(tzinfo=timezone.utc)
    assert due - datetime.fromisoformat(view["assigned_at"]) == timedelta(minutes=10)  # the store's deadline
    eventually(lambda: stack.scalar("notifications", "SELECT count(*) FROM inbox_messages WHERE lead_id = :id",
                                    id=lead_id) == 1)
