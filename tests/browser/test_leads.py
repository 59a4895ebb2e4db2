"""Working leads in the web app (headless Chromium against the whole
running system): a loss and its approval, the claim pool, stage and grade
changes with reasons, a discussion with a mention, and a manager handing
over a consultant's leads. Each test sets up what it needs through the API
and does the part under test in the browser. Screenshots go to the
session's ``screenshots`` directory."""
import json
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, api_token, lead_for, post, sign_in, staff_get
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

# this module's customers (a stack lives for one module)
NAMES = iter(["韩梅梅", "李雷", "王芳", "赵强", "钱进", "孙悦", "周航", "吴迪", "郑爽", "冯伟",
              "陈晨", "褚楠", "卫东", "蒋琴", "沈洁", "韩笑"])


def staff_post(stack, token: str, path: str, body=None) -> requests.Response:
    return requests.post(f"{stack.url}{path}", json=body, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def user_id(stack, username: str) -> str:
    return staff_get(stack, api_token(stack, username), "/v1/me").json()["id"]


def read(stack, token: str, lead_id: str) -> dict | None:
    answer = staff_get(stack, token, f"/v1/leads/{lead_id}")
    return answer.json() if answer.status_code == 200 else None


def stored_with(stack, token: str, lead_id: str, **expected) -> dict:
    """The lead once the leads service has it with these fields (routing is asynchronous)."""
    def check():
        lead = read(stack, token, lead_id)
        return lead if lead and all(lead.get(k) == v for k, v in expected.items()) else None
    return eventually(check, timeout=20, message=f"lead {lead_id} has {expected}")


def lead_of(stack, username: str, **overrides) -> tuple[str, str]:
    """A new lead of ``username`` (routed, then given to them by the manager
    if routing chose someone else): its id and the customer's name."""
    manager = api_token(stack, "manager.sh")
    name = next(NAMES)
    lead_id = post(stack, lead_for(stack, name, **overrides))
    lead = stored_with(stack, manager, lead_id, status="assigned")
    owner = user_id(stack, username)
    if lead["consultant"]["id"] != owner:
        answer = staff_post(stack, manager, f"/v1/leads/{lead_id}/assign",
                            {"consultant_id": owner, "reason": "test set-up"})
        assert answer.status_code == 200, answer.text
    return lead_id, name


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


# --- (a) a consultant loses a lead; the manager approves it in the queue ------------

def test_a_loss_waits_for_the_managers_approval_and_then_counts(stack, open_app, screenshots):
    lead_id, name = lead_of(stack, "consultant.sh1")

    consultant = open_app(PHONE, "zh-CN")
    sign_in(consultant, stack, "consultant.sh1")
    consultant.goto(f"{stack.url}/leads/{lead_id}")
    consultant.get_by_role("button", name="战败", exact=True).click()
    consultant.locator("[data-loss=other]").click()
    consultant.get_by_role("button", name="提交战败").click()
    expect(consultant.get_by_role("alert").filter(has_text="选择“其他”时请写明原因。")).to_be_visible()  # a note for "other"
    consultant.locator("[data-loss=price]").click()
    consultant.fill("#loss-note", "嫌贵，等降价")
    consultant.get_by_role("button", name="提交战败").click()
    expect(consultant.get_by_text("已提交，等待经理审批。")).to_be_visible()
    expect(consultant.locator(".badge--status")).to_have_text("战败待审批")

    manager = open_app(PHONE, "zh-CN")
    sign_in(manager, stack, "manager.sh")
    manager.get_by_role("button", name="战败审批").click()
    queued = manager.locator(".card-box", has_text=name)
    expect(queued.locator(".decision__why")).to_contain_text("价格原因 — 嫌贵，等降价")
    expect(queued).to_contain_text("Pudong Consultant 1")
    shot(manager, screenshots, "approvals-phone-zh-CN")
    queued.get_by_role("button", name=f"批准 {name} 战败").click()
    expect(manager.get_by_text(f"已批准 {name} 战败。")).to_be_visible()
    expect(manager.locator(".card-box", has_text=name)).to_have_count(0)

    # the consultant's page hears of it on the stream
    expect(consultant.locator(".badge--status")).to_have_text("战败")
    expect(consultant.locator(".lead-history")).to_contain_text("战败审批通过：价格原因")
    assert read(stack, api_token(stack, "manager.sh"), lead_id)["status"] == "lost"


# --- (b) a rule made in the app sends leads to the pool; a consultant claims one -----

def test_a_pool_rule_made_in_the_app_and_a_claim_from_the_pool(stack, open_app, screenshots):
    manager = open_app(PHONE, "zh-CN")
    sign_in(manager, stack, "manager.sh")
    manager.get_by_role("link", name="管理").click()
    manager.get_by_role("link", name="新建规则").click()
    manager.fill("#rule-name", "车展线索进公海")
    manager.fill("#rule-priority", "5")
    manager.locator("[data-channel=auto_show]").click()
    manager.select_option("#rule-kind", "pool")
    manager.get_by_role("button", name="保存", exact=True).click()
    rule = manager.locator(".rule", has_text="车展线索进公海")
    expect(rule).to_contain_text("渠道: 车展")
    expect(rule).to_contain_text("进入公海")

    name = next(NAMES)
    lead_id = post(stack, lead_for(stack, name, channel="auto_show"))
    stored_with(stack, api_token(stack, "manager.sh"), lead_id, status="pooled")

    consultant = open_app(PHONE, "zh-CN")
    sign_in(consultant, stack, "consultant.sh2")
    consultant.get_by_role("button", name="公海").click()
    card = consultant.locator(".card-box", has_text=name)
    expect(card).to_contain_text("公海")
    shot(consultant, screenshots, "pool-phone-zh-CN")
    card.get_by_role("button", name=f"认领 {name}").click()
    expect(consultant.get_by_text(f"已认领 {name}，现在归你跟进。")).to_be_visible()
    expect(consultant.locator(".card-box", has_text=name)).to_have_count(0)
    lead = read(stack, api_token(stack, "consultant.sh2"), lead_id)
    assert lead["consultant"]["id"] == user_id(stack, "consultant.sh2")
    assert lead["assignments"][-1]["reason"] == "claim"

    # a second claim of the same lead is told it was too late (409)
    stale = open_app(PHONE, "zh-CN")
    sign_in(stale, stack, "consultant.sh3")
    stale.route(re.compile(r"/v1/leads\?.*status=pooled"), lambda route: route.fulfill(
        status=200, content_type="application/json",
        body='{"items": [%s], "next_cursor": null}' % json.dumps(
            {**lead, "status": "pooled", "consultant": None})))
    stale.get_by_role("button", name="公海").click()
    stale.get_by_role("button", name=f"认领 {name}").click()
    expect(stale.locator(".problem")).to_have_text(f"慢了一步：{name} 已被同事先认领。")

    manager.get_by_role("button", name="删除规则 车展线索进公海").click()  # and the rule goes
    manager.get_by_role("button", name="确认删除").click()
    expect(manager.locator(".rule", has_text="车展线索进公海")).to_have_count(0)


# --- (c) stage and grade: one tap forward; back and re-grading say why --------------

def test_stage_and_grade_changes_with_their_reasons(stack, open_app, screenshots):
    lead_id, name = lead_of(stack, "consultant.sh3")
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh3")
    card = page.locator(".card", has_text=name)
    expect(card.locator(".badge--grade")).to_have_text("H级")
    expect(card.locator(".badge--score")).to_have_text(re.compile(r"^\d+分$"))
    card.click()
    expect(page.locator(".clock")).to_have_text(re.compile(r"^剩 "))

    page.locator("[data-stage=proposal]").click()  # forward: one tap
    expect(page.get_by_text("阶段已改为「方案提供」。")).to_be_visible()
    expect(page.locator("[data-stage=proposal]")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".clock")).to_have_text("已联系")  # a stage change is a first contact
    expect(page.locator("[data-stage=initial_contact]")).to_be_disabled()  # back one stage at a time

    page.locator("[data-stage=needs_confirmed]").click()  # back: asks why
    expect(page.locator("label[for=change-reason]")).to_have_text("为什么退回到「需求确认」？")
    page.fill("#change-reason", "客户还没定配置")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("阶段已改为「需求确认」。")).to_be_visible()

    page.locator("[data-grade=B]").click()
    expect(page.locator("label[for=change-reason]")).to_have_text("为什么改为 B 级？")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_role("alert").filter(has_text="请填写原因。")).to_be_visible()
    page.fill("#change-reason", "下个月才提车")
    page.get_by_role("button", name="保存", exact=True).click()
    expect(page.get_by_text("已改为 B 级。")).to_be_visible()
    expect(page.locator(".lead-state .badge--grade")).to_have_text("B级")

    history = page.locator(".lead-history")
    expect(history).to_contain_text("级别 H → B")
    expect(history).to_contain_text("原因：下个月才提车")
    expect(history).to_contain_text("阶段 方案提供 → 需求确认")
    expect(history).to_contain_text("原因：客户还没定配置")
    expect(history).to_contain_text("Pudong Consultant 3")
    page.evaluate("window.scrollTo(0, 0)")  # the sticky bar at the top of the picture
    shot(page, screenshots, "lead-phone-zh-CN")

    lead = read(stack, api_token(stack, "consultant.sh3"), lead_id)
    assert (lead["grade"], lead["stage"]) == ("B", "needs_confirmed")
    assert lead["first_contact_at"] is not None


# --- (d) a comment with a mention shows the colleague's name -----------------------

def test_a_comment_mentions_a_colleague_by_name(stack, open_app):
    lead_id, name = lead_of(stack, "consultant.sh1")
    page = open_app(PHONE, "en-US")
    sign_in(page, stack, "manager.sh")
    page.goto(f"{stack.url}/leads/{lead_id}")
    page.fill("#comment-body", "Can you call them tonight?")
    page.get_by_role("button", name="Mention a colleague").click()
    page.locator(".picker").get_by_role("button", name="Pudong Consultant 2").click()
    expect(page.locator("#comment-body")).to_have_value("Can you call them tonight? @Pudong Consultant 2 ")
    page.get_by_role("button", name="Send").click()
    note = page.locator(".thread__note").last
    expect(note.locator(".mention")).to_have_text("@Pudong Consultant 2")
    expect(note).to_contain_text("Pudong Sales Manager")
    expect(page.locator("#comment-body")).to_have_value("")

    sh2 = api_token(stack, "consultant.sh2")  # the colleague mentioned may see the lead now
    assert read(stack, sh2, lead_id)["discussion"][-1]["mentions"] == [
        {"id": user_id(stack, "consultant.sh2"), "display_name": "Pudong Consultant 2"}]


# --- (e) a manager hands over all of a consultant's open leads -----------------------

def test_a_manager_hands_over_a_consultants_open_leads_and_their_lists_follow(stack, open_app):
    first, first_name = lead_of(stack, "consultant.sh1")
    second, second_name = lead_of(stack, "consultant.sh1")

    leaving = open_app(PHONE, "zh-CN")
    sign_in(leaving, stack, "consultant.sh1")
    expect(leaving.locator(".card", has_text=first_name)).to_have_count(1)
    expect(leaving.locator(".card", has_text=second_name)).to_have_count(1)
    taking = open_app(PHONE, "zh-CN")
    sign_in(taking, stack, "consultant.sh2")
    expect(taking.locator(".card", has_text=first_name)).to_have_count(0)

    manager = open_app(PHONE, "zh-CN")
    sign_in(manager, stack, "manager.sh")
    manager.goto(f"{stack.url}/manage")
    manager.select_option("#handover-from", label="Pudong Consultant 1")
    manager.select_option("#handover-to", label="Pudong Consultant 2 (顾问)")
    manager.fill("#handover-reason", "休假一周")
    manager.get_by_role("button", name="转交全部未结束线索").click()
    expect(manager.locator(".notice", has_text="已转交")).to_have_text(re.compile(r"^已转交 \d+ 条线索，0 条未转交。$"))

    # live: gone from the old owner's list, in the new owner's with a running clock
    expect(leaving.locator(".card", has_text=first_name)).to_have_count(0)
    expect(leaving.locator(".card", has_text=second_name)).to_have_count(0)
    expect(taking.locator(".card", has_text=first_name).locator(".clock")).to_have_text(re.compile(r"^剩 "))
    expect(taking.locator(".card", has_text=second_name)).to_have_count(1)

    token = api_token(stack, "manager.sh")
    sh2 = user_id(stack, "consultant.sh2")
    for lead_id in (first, second):
        lead = read(stack, token, lead_id)
        assert lead["consultant"]["id"] == sh2
        assert (lead["assignments"][-1]["reason"], lead["assignments"][-1]["note"]) == ("manual", "休假一周")
