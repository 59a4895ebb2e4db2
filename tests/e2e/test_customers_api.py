"""Customers through HTTP and across services: a lead's customer, search,
create and change with duplicate refusal, possible duplicates, a merge that
re-points the leads, traits and behaviours, the import, and an erasure that
leaves no personal data in any service's database while the counts stay."""
import io
import json
import uuid

import openpyxl
import pytest
import requests

from tests.conftest import make_lead
from tests.e2e.test_lead_intake import assigned
from tests.e2e.test_staff_api import sign_in
from tests.support.people import unique_mobile
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def heads(stack):
    return {name: sign_in(stack, name) for name in ("admin", "manager.sh", "manager.bj", "consultant.sh1",
                                                     "consultant.bj1")}


def lead_customer(stack, lead: dict, key=None) -> str:
    """Post a lead; the id of its customer once the customers service linked it."""
    lead_id = stack.post_lead(lead, key=key).json()["id"]
    assigned(stack, lead_id, key)
    return eventually(lambda: stack.scalar("customers", "SELECT customer_id FROM customer_leads WHERE lead_id = :id",
                                           id=lead_id))


def get(stack, path, headers, **params):
    return requests.get(f"{stack.url}{path}", headers=headers, params=params, timeout=30)


def test_a_lead_makes_a_customer_found_by_initials_phone_fragment_and_email(stack, heads):
    mobile = unique_mobile()
    customer_id = lead_customer(stack, make_lead(customer={
        "name": "王磊", "phone": f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}", "email": f"{mobile}@example.com"},
        comments="想了解比亚迪汉的对比，担心续航，考虑贷款", interest={"brand": "BYD", "model": "Han"}))
    for q in ("wl", "王", mobile[-4:], mobile[:7], f"{mobile}@ex"):
        found = get(stack, "/v1/customers", heads["manager.sh"], q=q).json()["items"]
        assert customer_id in [item["id"] for item in found], q
    profile = get(stack, f"/v1/customers/{customer_id}", heads["manager.sh"], lang="zh-CN").json()
    assert profile["phones"] == [{"e164": f"+86{mobile}", "extension": None}]
    assert profile["store_code"] == "SH-PUDONG" and profile["lifecycle"] == "potential"
    assert profile["preferences"]["models"] == ["Han"]
    traits = {trait["trait"]: trait for trait in profile["traits"]}
    assert {"finance", "concern:range", "competitor:byd"} <= set(traits)
    assert any("贷款" in evidence["text"] for evidence in traits["finance"]["evidence"])
    eventually(lambda: {entry["kind"] for entry in get(
        stack, f"/v1/customers/{customer_id}/timeline", heads["manager.sh"]).json()["items"]} == {"lead", "assigned"})
    # another store's manager sees nothing of it
    assert get(stack, f"/v1/customers/{customer_id}", heads["manager.bj"]).status_code == 404
    assert get(stack, "/v1/customers", heads["manager.bj"], q=mobile[-4:]).json()["items"] == []


def test_the_same_person_typed_three_ways_is_one_customer(stack, heads):
    mobile = unique_mobile()
    ids = {lead_customer(stack, make_lead(customer={"name": "李娜", "phone": typed}))
           for typed in (mobile, f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}", f"86{mobile}")}
    assert len(ids) == 1


def test_staff_create_refuses_anothers_phone_and_keeps_extensions_apart(stack, heads):
    manager = heads["manager.sh"]
    first = requests.post(f"{stack.url}/v1/customers", headers=manager, timeout=30, json={
        "name": "前台 301", "phones": ["021-5888 8888 转 301"]})
    assert first.status_code == 201, first.text
    second = requests.post(f"{stack.url}/v1/customers", headers=manager, timeout=30, json={
        "name": "前台 302", "phones": ["021-5888 8888 转 302"]})
    assert second.status_code == 201, second.text
    taken = requests.post(f"{stack.url}/v1/customers", headers=manager, timeout=30, json={
        "name": "冒名", "phones": ["021 58888888 分机 301"]})
    assert taken.status_code == 409
    assert taken.json()["errors"]["customer_ids"] == [first.json()["id"]]
    invalid = requests.post(f"{stack.url}/v1/customers", headers=manager, timeout=30, json={
        "name": "错号", "phones": ["+86 100 0000 0000"]})
    assert invalid.status_code == 422 and "phones" in invalid.json()["errors"]
    changed = requests.patch(f"{stack.url}/v1/customers/{second.json()['id']}", headers=manager, timeout=30,
                             json={"city": "上海", "tags": ["VIP"], "revision": second.json()["revision"]})
    assert changed.status_code == 200 and changed.json()["city"] == "上海"
    stale = requests.patch(f"{stack.url}/v1/customers/{second.json()['id']}", headers=manager, timeout=30,
                           json={"city": "北京", "revision": second.json()["revision"]})
    assert stale.status_code == 409
    assert second.json()["id"] in [item["id"] for item in get(stack, "/v1/customers", manager, tag="vip").json()["items"]]


def test_phone_and_email_of_two_customers_are_listed_then_merged_and_the_leads_follow(stack, heads):
    manager = heads["manager.sh"]
    phone_owner = lead_customer(stack, make_lead(customer={"name": "张伟", "phone": unique_mobile()}))
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    email_owner = lead_customer(stack, make_lead(customer={"name": "张伟", "email": email}))
    phone = get(stack, f"/v1/customers/{phone_owner}", manager).json()["phones"][0]["e164"]
    third = lead_customer(stack, make_lead(customer={"name": "张伟", "phone": phone, "email": email}))
    assert third == phone_owner  # the phone decides
    pairs = get(stack, "/v1/customers/duplicates", manager).json()["items"]
    pair = next(pair for pair in pairs if {pair["customer"]["id"], pair["other"]["id"]} == {phone_owner, email_owner})
    assert requests.post(f"{stack.url}/v1/customers/merges", headers=heads["consultant.sh1"], timeout=30, json={
        "keep_id": phone_owner, "merge_id": email_owner, "reason": "same person"}).status_code == 403
    merged = requests.post(f"{stack.url}/v1/customers/merges", headers=manager, timeout=30, json={
        "keep_id": phone_owner, "merge_id": email_owner, "reason": "同一人，电话和邮箱对得上"})
    assert merged.status_code == 201, merged.text
    kept = get(stack, f"/v1/customers/{phone_owner}", manager).json()
    assert kept["emails"] == [email] and len(kept["leads"]) == 3
    assert get(stack, f"/v1/customers/{email_owner}", manager).status_code == 404
    assert pair["id"] not in [item["id"] for item in get(stack, "/v1/customers/duplicates", manager).json()["items"]]
    assert stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE customer_id = :id",
                        id=email_owner) == 0
    audit = get(stack, "/v1/customers/merges", manager).json()["items"]
    assert audit[0]["merged_id"] == email_owner and audit[0]["moved"]["leads"] == 1


def test_a_platform_tells_what_a_known_customer_did(stack, heads):
    mobile = unique_mobile()
    customer_id = lead_customer(stack, make_lead(customer={"name": "赵敏", "phone": mobile}))
    answer = requests.post(f"{stack.url}/v1/customers/behaviours", headers={"X-Api-Key": stack.sh_key}, timeout=30,
                           json={"phone": mobile, "kind": "finance_calculator", "occurred_at": "2026-11-28T10:00:00+08:00",
                                 "details": {"down_payment": 50000, "months": 36}})
    assert answer.status_code == 202
    unknown = requests.post(f"{stack.url}/v1/customers/behaviours", headers={"X-Api-Key": stack.sh_key}, timeout=30,
                            json={"phone": unique_mobile(), "kind": "model_viewed",
                                  "occurred_at": "2026-11-28T10:00:00+08:00"})
    assert unknown.status_code == 202  # the answer does not tell who is a customer
    profile = get(stack, f"/v1/customers/{customer_id}", heads["manager.sh"]).json()
    assert "finance" in {trait["trait"] for trait in profile["traits"]}
    removed = requests.put(f"{stack.url}/v1/customers/{customer_id}/traits/finance", headers=heads["manager.sh"],
                           json={"status": "removed"}, timeout=30)
    assert removed.status_code == 204
    assert "finance" not in {trait["trait"] for trait in get(
        stack, f"/v1/customers/{customer_id}", heads["manager.sh"]).json()["traits"]}


def messy_workbook(known_phone: str) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["2025年客户名单"])
    sheet.merge_cells("A1:D1")
    sheet.append(["客户姓名", "手机号", "意向车型", "预算 "])
    sheet.append(["陈晨", 13800138007, "汉", "15-20万"])  # a phone stored as a number
    sheet.append([None, None, None, None])
    sheet.append(["周杰 ", "１３９" + "００１３９００１", "Model Y", "30万"])
    sheet.append(["错号", "12345", "Q5", "40万"])
    sheet.append(["老客户", known_phone, "Han", ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def wait_status(stack, headers, import_id, *statuses):
    return eventually(lambda: (lambda job: job if job["status"] in statuses else None)(
        get(stack, f"/v1/customers/imports/{import_id}", headers).json()), timeout=60)


def test_import_a_messy_workbook_dry_run_then_commit(stack, heads):
    manager = heads["manager.sh"]
    known = unique_mobile()
    known_id = lead_customer(stack, make_lead(customer={"name": "老客户", "phone": known}))
    upload = requests.post(f"{stack.url}/v1/customers/imports", headers=dict(manager, **{
        "Content-Type": "application/octet-stream"}), params={"store_code": "SH-PUDONG", "filename": "客户.xlsx"},
        data=messy_workbook(known), timeout=30)
    assert upload.status_code == 201, upload.text
    job = wait_status(stack, manager, upload.json()["id"], "uploaded", "failed")
    assert job["status"] == "uploaded", job
    assert job["mapping"] == {"0": "name", "1": "phone", "2": "model", "3": "budget"}
    early = requests.post(f"{stack.url}/v1/customers/imports/{job['id']}/commit", headers=manager, json={}, timeout=30)
    assert early.status_code == 409
    started = requests.post(f"{stack.url}/v1/customers/imports/{job['id']}/dry-run", headers=manager,
                            json={"mapping": job["mapping"]}, timeout=30)
    assert started.status_code == 202, started.text
    report = wait_status(stack, manager, job["id"], "checked", "failed")
    assert (report["created"], report["matched"], report["rejected"]) == (2, 1, 1), report
    rows = {row["row"]: row for row in report["rows"]}
    assert rows[6]["outcome"] == "reject" and "phone" in rows[6]["errors"]
    assert rows[7]["customer_id"] == known_id
    refused = requests.post(f"{stack.url}/v1/customers/imports/{job['id']}/commit", headers=manager, json={},
                            timeout=30)
    assert refused.status_code == 409
    requests.post(f"{stack.url}/v1/customers/imports/{job['id']}/commit", headers=manager,
                  json={"skip_rejected": True}, timeout=30).raise_for_status()
    done = wait_status(stack, manager, job["id"], "done", "failed")
    assert done["status"] == "done" and done["created"] == 2, done
    found = get(stack, "/v1/customers", manager, q="zj").json()["items"]
    assert [item["phones"][0]["e164"] for item in found if item["name"] == "周杰"] == ["+8613900139001"]
    assert "陈晨" in [item["name"] for item in get(stack, "/v1/customers", manager, q="138 0013 8007").json()["items"]]


def test_erase_leaves_no_personal_data_anywhere_and_the_counts_stay(stack, heads):
    manager = heads["manager.sh"]
    mobile, name = unique_mobile(), f"欧阳{uuid.uuid4().hex[:4]}"
    lead = make_lead(customer={"name": name, "phone": mobile, "email": f"{mobile}@example.com"},
                     comments=f"call me on {mobile}, 想置换")
    customer_id = lead_customer(stack, lead)
    # what staff wrote about them too: a comment, a follow-up's notes, and a second inquiry of theirs
    lead_id = stack.scalar("customers", "SELECT lead_id FROM customer_leads WHERE customer_id = :id", id=customer_id)
    assigned(stack, lead_id)
    said = requests.post(f"{stack.url}/v1/leads/{lead_id}/comments", headers=manager, timeout=30,
                         json={"body": f"{name} 的手机 {mobile} 打不通"})
    assert said.status_code == 200, said.text
    noted = requests.post(f"{stack.url}/v1/followups/records", headers=manager, timeout=30, json={
        "lead_id": lead_id, "channel": "call", "outcome": "reached", "notes": f"{name} 说换号了，还是 {mobile}"})
    assert noted.status_code == 201, noted.text
    again = stack.post_lead(make_lead(customer={"name": name, "phone": mobile}, comments=f"我是{name}"))
    eventually(lambda: stack.scalar("leads", "SELECT status FROM leads WHERE id = :id",
                                    id=again.json()["id"]) == "joined")
    eventually(lambda: stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE customer_id = :id",
                                    id=customer_id) == 2, message="the inquiry is the customer's too")
    leads_before = stack.scalar("leads", "SELECT count(*) FROM leads")
    exported = get(stack, f"/v1/customers/{customer_id}/export", manager)
    assert exported.status_code == 200 and exported.json()["name"] == name
    assert exported.json()["leads_detail"][0]["customer"]["name"] == name
    assert get(stack, f"/v1/customers/{customer_id}/export", heads["consultant.sh1"]).status_code == 403
    assert requests.delete(f"{stack.url}/v1/customers/{customer_id}", headers=manager, timeout=30).status_code == 204
    assert get(stack, f"/v1/customers/{customer_id}", manager).status_code == 404

    def holding():
        return [f"{service}.{table}" for service, tables in stack.text_tables().items()
                for table, text in tables.items() if mobile in text or name in text]
    try:
        eventually(lambda: not holding(), timeout=30, message="personal data left")
    finally:
        assert holding() == []
    assert stack.scalar("leads", "SELECT count(*) FROM leads") == leads_before
    assert stack.scalar("customers", "SELECT count(*) FROM customer_leads WHERE customer_id = :id",
                        id=customer_id) == 2


def test_the_command_line_import_reports_then_imports(stack, heads, tmp_path):
    known = unique_mobile()
    lead_customer(stack, make_lead(customer={"name": "老客户", "phone": known}))
    sheet = tmp_path / "客户名单.csv"
    fresh = unique_mobile()
    sheet.write_text(f"姓名,手机,来源\n孙悟空,{fresh},车展\n老客户,{known},\n坏号,12345,\n", encoding="gb18030")
    report = json.loads(stack.cli("import-customers", str(sheet), "--store", "SH-PUDONG", "--dry-run", "--json"))
    assert (report["created"], report["matched"], report["rejected"]) == (1, 1, 1)
    assert report["rejected_rows"][0]["row"] == 4 and "phone" in report["rejected_rows"][0]["reasons"]
    assert get(stack, "/v1/customers", heads["manager.sh"], q=fresh).json()["items"] == []
    with pytest.raises(RuntimeError, match="rejected"):
        stack.cli("import-customers", str(sheet), "--store", "SH-PUDONG")
    done = json.loads(stack.cli("import-customers", str(sheet), "--store", "SH-PUDONG", "--skip-rejected",
                                "--json"))
    assert done["status"] == "done" and done["created"] == 1
    [found] = get(stack, "/v1/customers", heads["manager.sh"], q=fresh).json()["items"]
    assert found["name"] == "孙悟空"
