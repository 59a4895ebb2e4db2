"""Follow-ups through HTTP and across services: a consultant's first call
stops the lead's response clock, completes the first-contact task and
schedules the next by the cadence, lands on the customer's timeline and
teaches the customer's traits; hints and scripts for the lead; a store's
cadence set by its manager; reminders and a missed task reaching the
inboxes of the consultant and the manager; a photo attached to a record,
and a file that is no photo refused."""
from datetime import datetime, timedelta, timezone

import pytest
import requests

from tests.conftest import make_lead
from tests.e2e.test_leads_api import inbox_titles, new_lead, post
from tests.e2e.test_staff_api import sign_in
from tests.support.waiting import eventually
from tests.unit.followups.test_blobs import png

pytestmark = pytest.mark.e2e

STORE = "SH-PUDONG"


def get(stack, headers, path):
    return requests.get(f"{stack.url}{path}", headers=headers, timeout=30)


def open_tasks(stack, headers, lead_id):
    return get(stack, headers, f"/v1/followups?lead_id={lead_id}&status=open").json()


def test_a_first_call_stops_the_clock_and_the_cadence_takes_over(stack):
    lead_id, username = new_lead(stack)
    consultant = sign_in(stack, username)
    [first] = eventually(lambda: open_tasks(stack, consultant, lead_id))
    # due in 15 minutes: the new-lead message is its reminder; missed, the manager hears of it
    assert first["kind"] == "first_contact" and first["remind_at"] is None and first["escalate_at"]
    hint = get(stack, consultant, f"/v1/followups/hint?lead_id={lead_id}&lang=zh")
    assert hint.status_code == 200 and hint.json()["action"] in ("call", "wechat", "sms", "invitation")
    assert hint.json()["script_id"] and hint.json()["why"]
    scripts = get(stack, consultant, f"/v1/scripts?lead_id={lead_id}&lang=zh").json()
    assert scripts and any("王" in script["text"] for script in scripts)
    noted = post(stack, consultant, "/v1/followups/records", {
        "lead_id": lead_id, "channel": "call", "outcome": "reached",
        "notes": "客户想贷款，关心续航", "script_id": scripts[0]["id"]})
    assert noted.status_code == 201, noted.text
    assert noted.json()["task_id"] == first["id"]
    photo = requests.post(f"{stack.url}/v1/followups/records/{noted.json()['id']}/attachments?filename=car.png",
                          data=png(), headers={**consultant, "Content-Type": "image/png"}, timeout=30)
    assert photo.status_code == 201, photo.text
    fetched = get(stack, consultant, photo.json()["url"])
    assert fetched.content == png() and fetched.headers["Content-Type"] == "image/png"
    refused = requests.post(f"{stack.url}/v1/followups/records/{noted.json()['id']}/attachments",
                            data=b"%PDF-1.7\n" + b"x" * 64, headers={**consultant, "Content-Type": "image/png"},
                            timeout=30)
    assert refused.status_code == 415 and "photos" in refused.json()["description"]
    [listed] = get(stack, consultant, f"/v1/followups/records?lead_id={lead_id}").json()
    assert [attached["id"] for attached in listed["attachments"]] == [photo.json()["id"]]
    lead = eventually(lambda: (detail := get(stack, consultant, f"/v1/leads/{lead_id}").json())["first_contact_at"]
                      and detail, message="the first record stopped the response clock")
    assert lead["status"] == "contacted"
    [following] = eventually(lambda: [task for task in open_tasks(stack, consultant, lead_id)
                                      if task["source"] == "cadence"])
    assert following["kind"] == "call"
    customer_id = stack.scalar("customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id", id=lead_id)
    eventually(lambda: "followup" in [entry["kind"] for entry in get(
        stack, consultant, f"/v1/customers/{customer_id}/timeline").json()["items"]])
    traits = eventually(lambda: [trait for trait in get(stack, consultant, f"/v1/customers/{customer_id}").json()
                                 ["traits"] if any(e.get("source") == "consultant_note"
                                                   for e in trait.get("evidence", []))])
    assert traits, "the note taught the customer's traits"
    hinted = get(stack, consultant, f"/v1/followups/hint?lead_id={lead_id}&lang=en").json()
    assert any("financ" in why.lower() or "range" in why.lower() or "续航" in why for why in hinted["why"]), hinted
    done = post(stack, consultant, f"/v1/followups/{following['id']}/complete",
                {"outcome": "reached", "next_due_at": (datetime.now(timezone.utc) + timedelta(days=2)).isoformat(),
                 "next_kind": "wechat"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    [manual] = open_tasks(stack, consultant, lead_id)
    assert (manual["kind"], manual["source"]) == ("wechat", "manual")
    assert post(stack, consultant, f"/v1/followups/{manual['id']}/snooze", {}).status_code == 422
    late = (datetime.now(timezone.utc) + timedelta(days=3)).isoformat()
    moved = post(stack, consultant, f"/v1/followups/{manual['id']}/reschedule", {"due_at": late})
    assert moved.status_code == 200 and moved.json()["due_at"][:16] == late[:16]


def test_a_store_cadence_is_its_managers_and_refused_when_wrong(stack):
    manager, consultant = sign_in(stack, "manager.sh"), sign_in(stack, "consultant.sh1")
    cadence = get(stack, manager, f"/v1/admin/cadences/{STORE}").json()
    assert cadence["inherited"] is True and cadence["remind_minutes"] == 15
    changed = requests.put(f"{stack.url}/v1/admin/cadences/{STORE}", headers=manager, timeout=30,
                           json={"plan": {"grades": {"B": {"every_days": 5}}}, "remind_minutes": 30})
    assert changed.status_code == 200, changed.text
    assert changed.json()["remind_minutes"] == 30 and changed.json()["plan"]["grades"]["B"]["every_days"] == 5
    wrong = requests.put(f"{stack.url}/v1/admin/cadences/{STORE}", headers=manager, timeout=30,
                         json={"plan": {"grades": {"H": {"every_days": 0}}}})
    assert wrong.status_code == 422 and "plan.grades.H.every_days" in wrong.json()["errors"]
    assert requests.put(f"{stack.url}/v1/admin/cadences/{STORE}", headers=consultant, timeout=30,
                        json={"remind_minutes": 5}).status_code == 403


def test_a_store_words_a_script_its_own_way_and_sees_how_it_is_used(stack):
    lead_id, username = new_lead(stack)
    manager, consultant = sign_in(stack, "manager.sh"), sign_in(stack, username)
    library = get(stack, consultant, f"/v1/scripts/library?store_code={STORE}")
    assert library.status_code == 200, library.text
    library = library.json()
    first = next(script for script in library if script["situation"] == "first_contact")
    own = {"situation": "first_contact", "stages": ["initial_contact"], "texts": {"zh": "{customer_name}您好，浦东店开放日见！"}}
    assert requests.put(f"{stack.url}/v1/admin/scripts/{STORE}/{first['id']}", json=own, headers=consultant,
                        timeout=30).status_code == 403
    changed = requests.put(f"{stack.url}/v1/admin/scripts/{STORE}/{first['id']}", json=own, headers=manager,
                           timeout=30)
    assert changed.status_code == 200, changed.text
    scripts = {script["id"]: script for script in get(stack, consultant, f"/v1/scripts?lead_id={lead_id}").json()}
    assert scripts[first["id"]]["text"].endswith("您好，浦东店开放日见！")
    assert post(stack, consultant, "/v1/followups/records", {
        "lead_id": lead_id, "channel": "call", "outcome": "reached", "script_id": first["id"]}).status_code == 201
    [entry] = [e for e in get(stack, manager, f"/v1/scripts/library?store_code={STORE}").json() if e["id"] == first["id"]]
    assert entry["changed_by_store"] and entry["used"] == first["used"] + 1  # the module's other tests use it too
    bad = requests.put(f"{stack.url}/v1/admin/scripts/{STORE}/{first['id']}", headers=manager, timeout=30,
                       json=dict(own, texts={"zh": "{nope}"}))
    assert bad.status_code == 422 and "texts.zh" in bad.json()["errors"]
    reverted = requests.delete(f"{stack.url}/v1/admin/scripts/{STORE}/{first['id']}", headers=manager, timeout=30)
    assert reverted.status_code == 200 and not next(e for e in reverted.json() if e["id"] == first["id"])[
        "changed_by_store"]


def test_a_reminder_and_a_missed_task_reach_the_consultant_and_the_manager(stack):
    lead_id, username = new_lead(stack, customer=dict(make_lead()["customer"], name="赵云"))
    consultant = sign_in(stack, username)
    [task] = eventually(lambda: open_tasks(stack, consultant, lead_id))
    assert stack.execute("followups", "UPDATE tasks SET remind_at = :past, escalate_at = :past WHERE id = :id",
                         id=task["id"], past="2026-01-01 00:00:00.000000") == 1
    eventually(lambda: any(title == "待跟进：首次联系 · 赵云"
                           for title in inbox_titles(stack, username, lead_id)))
    eventually(lambda: any(title == "跟进逾期：赵云"
                           for title in inbox_titles(stack, "manager.sh", lead_id)))
    assert stack.scalar("notifications", "SELECT count(*) FROM inbox_messages WHERE lead_id = :id "
                                         "AND kind = 'reminder'", id=lead_id) == 1
