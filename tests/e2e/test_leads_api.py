"""The leads staff API through HTTP and across services: a consultant works
a lead and a manager approves its loss (the manager's inbox hears of it);
routing rules and policies; the claim pool; a duplicate inquiry; a mention;
and an SLA breach re-routed exactly once with two replicas of the leads
service running, the follow-up task and the inboxes following it."""
import pytest
import requests

from tests.conftest import make_lead
from tests.e2e.test_lead_intake import assigned
from tests.e2e.test_staff_api import sign_in
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

STORE = "SH-PUDONG"


def post(stack, headers, path, body=None):
    return requests.post(f"{stack.url}{path}", json=body, headers=headers, timeout=30)


def owner_of(stack, lead_id: str) -> str:
    consultant = stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id", id=lead_id)
    return stack.scalar("gateway", "SELECT username FROM users WHERE id = :id", id=consultant)


def new_lead(stack, **overrides) -> tuple[str, str]:
    """A lead assigned by routing: its id and its consultant's username."""
    lead_id = stack.post_lead(make_lead(**overrides)).json()["id"]
    assigned(stack, lead_id)
    return lead_id, owner_of(stack, lead_id)


def lifecycle(stack, lead_id: str) -> str | None:
    """The lead's customer's lifecycle, as the customers service keeps it."""
    return stack.scalar("customers", "SELECT lifecycle FROM customers JOIN customer_leads "
                                     "ON customers.id = customer_id WHERE lead_id = :id", id=lead_id)


def inbox_titles(stack, username: str, lead_id: str) -> list[str]:
    """The titles of the user's messages about the lead, in their language (the demo's staff read Chinese)."""
    detail = requests.get(f"{stack.url}/v1/leads/{lead_id}", headers=sign_in(stack, username), timeout=30)
    return [message["title"] for message in detail.json()["notifications"] or []]


def test_a_consultant_works_a_lead_and_the_manager_approves_its_loss(stack):
    lead_id, username = new_lead(stack)
    consultant, manager = sign_in(stack, username), sign_in(stack, "manager.sh")
    moved = post(stack, consultant, f"/v1/leads/{lead_id}/stage", {"stage": "proposal"})
    assert moved.status_code == 200, moved.text
    assert moved.json()["status"] == "contacted" and moved.json()["first_contact_at"]
    refused = post(stack, consultant, f"/v1/leads/{lead_id}/stage", {"stage": "initial_contact"})
    assert refused.status_code == 422 and "stage" in refused.json()["errors"]
    regraded = post(stack, consultant, f"/v1/leads/{lead_id}/grade", {"grade": "A", "reason": "下个月提车"})
    assert regraded.json()["grade"] == "A"
    lost = post(stack, consultant, f"/v1/leads/{lead_id}/loss",
                {"lost_reason": "bought_competitor", "note": "买了特斯拉"})
    assert lost.json()["status"] == "loss_pending"
    assert post(stack, consultant, f"/v1/leads/{lead_id}/loss-decision", {"approve": True}).status_code == 403
    eventually(lambda: "战败待审批：王磊" in inbox_titles(stack, "manager.sh", lead_id),
               message="the manager is told of the loss to approve")
    queue = requests.get(f"{stack.url}/v1/leads?status=loss_pending", headers=manager, timeout=30).json()
    assert lead_id in [lead["id"] for lead in queue["items"]]
    approved = post(stack, manager, f"/v1/leads/{lead_id}/loss-decision", {"approve": True})
    assert approved.status_code == 200 and approved.json()["status"] == "lost" and approved.json()["grade"] == "F"
    history = [entry["change"] for entry in approved.json()["history"]]
    assert history == ["graded", "first_contact", "stage_changed", "graded", "loss_requested", "lost"]
    assert approved.json()["history"][-1]["actor"]["display_name"] == "Pudong Sales Manager"
    eventually(lambda: lifecycle(stack, lead_id) == "lost", message="the customer's only lead is lost")
    reopened = post(stack, consultant, f"/v1/leads/{lead_id}/reopen", {"reason": "客户又来电"})
    assert (reopened.json()["status"], reopened.json()["grade"]) == ("contacted", "A")
    eventually(lambda: lifecycle(stack, lead_id) == "intended", message="a worked lead again")
    won = post(stack, consultant, f"/v1/leads/{lead_id}/win", {"deal_value": 23_980_000, "currency": "CNY"})
    assert won.json()["status"] == "won" and won.json()["deal_value"] == 23_980_000
    eventually(lambda: lifecycle(stack, lead_id) == "won", message="the customer bought")
    customer_id = stack.scalar("customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id",
                               id=lead_id)
    timeline = requests.get(f"{stack.url}/v1/customers/{customer_id}/timeline", headers=manager, timeout=30)
    kinds = [entry["kind"] for entry in timeline.json()["items"]]
    assert {"lead_stage_changed", "lead_lost", "lead_reopened", "lead_won"} <= set(kinds), kinds


def test_rules_and_policy_send_leads_to_the_pool_and_the_first_claim_wins(stack):
    manager, admin = sign_in(stack, "manager.sh"), sign_in(stack, "admin")
    policy = requests.get(f"{stack.url}/v1/admin/lead-policies/{STORE}", headers=manager, timeout=30).json()
    assert policy["inherited"] is True and policy["loss_needs_approval"] is True
    changed = requests.put(f"{stack.url}/v1/admin/lead-policies/{STORE}", headers=manager, timeout=30,
                           json={"daily_claim_limit": 5, "response_minutes": {"H": 5}})
    assert changed.status_code == 200 and changed.json()["inherited"] is False
    group = requests.put(f"{stack.url}/v1/admin/lead-policies/*", headers=manager, timeout=30, json={})
    assert group.status_code == 403
    bad = post(stack, manager, "/v1/admin/routing-rules", {"store_code": STORE, "priority": 1, "name": "x",
                                                           "target": {"kind": "moon"}, "strategy": "round_robin"})
    assert bad.status_code == 422, bad.text
    rule = post(stack, manager, "/v1/admin/routing-rules", {
        "store_code": STORE, "priority": 1, "name": "Auto show leads to the pool",
        "conditions": {"sources": ["show-*"]}, "target": {"kind": "pool"}, "strategy": "round_robin"})
    assert rule.status_code == 201, rule.text
    assert post(stack, manager, "/v1/admin/routing-rules", dict(rule.json(), store_code=None, id=None,
                                                                 revision=None)).status_code == 422
    lead_id = stack.post_lead(make_lead(source="show-2026-shanghai")).json()["id"]
    eventually(lambda: stack.scalar("leads", "SELECT status FROM leads WHERE id = :id", id=lead_id) == "pooled")
    one, two = sign_in(stack, "consultant.sh1"), sign_in(stack, "consultant.sh2")
    pool = requests.get(f"{stack.url}/v1/leads?status=pooled", headers=one, timeout=30).json()["items"]
    assert lead_id in [lead["id"] for lead in pool]
    claimed = post(stack, one, f"/v1/leads/{lead_id}/claim")
    assert claimed.status_code == 200 and claimed.json()["consultant"]["display_name"] == "Pudong Consultant 1"
    assert post(stack, two, f"/v1/leads/{lead_id}/claim").status_code == 409
    assert requests.delete(f"{stack.url}/v1/admin/routing-rules/{rule.json()['id']}", headers=one,
                           timeout=30).status_code == 403
    assert requests.delete(f"{stack.url}/v1/admin/routing-rules/{rule.json()['id']}", headers=admin,
                           timeout=30).status_code == 204


def test_a_second_inquiry_answers_the_platform_with_the_open_lead(stack):
    first = make_lead()
    first_id, username = new_lead(stack, customer=first["customer"])
    second_id = stack.post_lead(make_lead(customer=first["customer"], comments="周六能试驾吗")).json()["id"]
    view = eventually(lambda: stack.get_lead(second_id).json() if stack.get_lead(second_id).json()["id"]
                      == first_id else None, message="the inquiry answers with the open lead")
    assert view["status"] == "assigned" and view["store_code"] == STORE
    detail = requests.get(f"{stack.url}/v1/leads/{first_id}", headers=sign_in(stack, username), timeout=30)
    assert [inquiry["id"] for inquiry in detail.json()["inquiries"]] == [second_id]
    eventually(lambda: "客户再次询价：王磊" in inbox_titles(stack, username, first_id))


def test_a_mentioned_colleague_sees_the_lead_and_hears_of_it(stack):
    lead_id, username = new_lead(stack)
    colleague = "consultant.sh2" if username != "consultant.sh2" else "consultant.sh3"
    colleague_id = stack.scalar("gateway", "SELECT id FROM users WHERE username = :u", u=colleague)
    mine = requests.get(f"{stack.url}/v1/me/colleagues?store_code={STORE}", headers=sign_in(stack, username),
                        timeout=30)
    assert colleague_id in [person["id"] for person in mine.json()["items"]]  # whom a consultant can mention
    assert requests.get(f"{stack.url}/v1/me/colleagues?store_code=BJ-CHAOYANG", headers=sign_in(stack, username),
                        timeout=30).status_code == 422
    headers = sign_in(stack, colleague)
    assert requests.get(f"{stack.url}/v1/leads/{lead_id}", headers=headers, timeout=30).status_code == 404
    said = post(stack, sign_in(stack, username), f"/v1/leads/{lead_id}/comments",
                {"body": "置换价格你怎么看？", "mentions": [colleague_id]})
    assert said.status_code == 200, said.text
    assert said.json()["discussion"][-1]["mentions"][0]["display_name"].startswith("Pudong Consultant")
    assert requests.get(f"{stack.url}/v1/leads/{lead_id}", headers=headers, timeout=30).status_code == 200
    eventually(lambda: "有人@了你：王磊" in inbox_titles(stack, colleague, lead_id))  # a mention, not a mere comment


def test_a_breach_is_rerouted_once_by_two_replicas_and_the_task_follows(stack):
    stack.start_process("leads", replica="2")
    try:
        lead_id, first_owner = new_lead(stack)
        eventually(lambda: stack.scalar("followups", "SELECT count(*) FROM tasks WHERE lead_id = :id",
                                        id=lead_id) == 1)
        assert stack.execute("leads", "UPDATE leads SET first_contact_due_at = :past, first_contact_warn_at = NULL "
                                      "WHERE id = :id", id=lead_id, past="2026-01-01 00:00:00.000000") == 1
        rerouted = eventually(lambda: stack.scalar(
            "leads", "SELECT count(*) FROM assignments WHERE lead_id = :id AND reason = 'reroute'", id=lead_id))
        assert rerouted == 1
        new_owner = owner_of(stack, lead_id)
        assert new_owner != first_owner
        new_owner_id = stack.scalar("leads", "SELECT consultant_id FROM leads WHERE id = :id", id=lead_id)
        eventually(lambda: stack.scalar("followups", "SELECT consultant_id FROM tasks WHERE lead_id = :id",
                                        id=lead_id) == new_owner_id, message="the task follows the lead")
        eventually(lambda: "超时未联系：王磊" in inbox_titles(stack, "manager.sh",
                                                                                          lead_id))
        assert stack.scalar("leads", "SELECT count(*) FROM lead_events WHERE lead_id = :id "
                                     "AND change = 'sla_breached'", id=lead_id) == 1
        assert stack.scalar("leads", "SELECT count(*) FROM assignments WHERE lead_id = :id", id=lead_id) == 2
    finally:
        stack.kill("leads-2")
