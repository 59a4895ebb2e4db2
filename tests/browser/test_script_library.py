"""The script library (话术库) in the web app (headless Chromium at a phone's
size against the whole running system). A manager goes from Manage to the
store's library, filters it by situation and stage, rewords the group's
first-contact call for the store (a placeholder the API does not know is
refused at the Chinese text's field) and adds a script only the store has
(its id made from the English title; no stage is refused at the stages).
A consultant sees the store's wording in a lead's script list, opens the
library from there read-only, logs a call with that script and moves the
lead on: the library shows it used once and moved on once. In English, a
manager hides a group script and shows it again, and deletes a store-only
script written in Chinese only (shown in Chinese, marked so). Set-up goes
through the API; the part under test happens in the browser. Screenshots
go to the session's ``screenshots`` directory."""
import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, api_token, lead_for, post, sign_in, staff_get
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

STORE = "SH-PUDONG"
OWN_WORDING = "{customer_title}您好，我是{store_name}的{consultant_name}。本周六店里有试驾开放日，想请您来试试{model}，您看方便吗？"


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def consultants_lead(stack, username: str, name: str) -> str:
    """A new lead of ``username`` (given by the manager when routing chose
    someone else), known to the followups service."""
    manager = api_token(stack, "manager.sh")
    lead_id = post(stack, lead_for(stack, name))

    def assigned():
        answer = staff_get(stack, manager, f"/v1/leads/{lead_id}")
        return answer.json() if answer.status_code == 200 and answer.json()["status"] == "assigned" else None
    lead = eventually(assigned, timeout=20, message=f"lead {lead_id} assigned")
    owner = staff_get(stack, api_token(stack, username), "/v1/me").json()["id"]
    if lead["consultant"]["id"] != owner:
        answer = requests.post(f"{stack.url}/v1/leads/{lead_id}/assign", timeout=10,
                               json={"consultant_id": owner, "reason": "test set-up"},
                               headers={"Authorization": f"Bearer {manager}"})
        assert answer.status_code == 200, answer.text
    mine = api_token(stack, username)
    eventually(lambda: staff_get(stack, mine, f"/v1/followups?lead_id={lead_id}&status=open").json() or None,
               timeout=20, message=f"lead {lead_id}'s first-contact task in the followups service")
    return lead_id


def library(stack, username: str = "manager.sh") -> dict[str, dict]:
    answer = staff_get(stack, api_token(stack, username), f"/v1/scripts/library?store_code={STORE}")
    assert answer.status_code == 200, answer.text
    return {script["id"]: script for script in answer.json()}


def test_a_store_words_its_scripts_and_sees_how_they_do(stack, open_app, screenshots):
    name = "欧阳雪"
    lead_id = consultants_lead(stack, "consultant.sh1", name)

    # the manager: Manage -> the script library, filtered to first contact
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.get_by_role("link", name="管理").click()
    page.get_by_role("link", name="打开话术库").click()
    page.wait_for_url(f"{stack.url}/scripts?store={STORE}")
    expect(page.get_by_role("heading", name="话术库", exact=True)).to_be_visible()
    page.locator(".library__filters [data-situation=first_contact]").click()
    page.locator(".library__filters [data-stage=initial_contact]").click()
    expect(page).to_have_url(f"{stack.url}/scripts?store={STORE}&situation=first_contact&stage=initial_contact")
    expect(page.locator(".library__group")).to_have_count(1)
    call = page.locator("[data-script=first_contact_call]")
    expect(call.locator(".script__head strong")).to_have_text("首次来电")
    expect(call.locator(".script__head strong")).to_have_attribute("lang", "zh-CN")
    expect(call.locator("[data-origin]")).to_have_text("集团话术")
    expect(call.locator("[data-usage]")).to_have_text("还没用过")
    expect(call.locator(".script__text")).to_contain_text("【客户称呼】您好")  # placeholders in words
    expect(call.locator(".placeholders__list")).to_contain_text("对客户的称呼")

    # reword it for the store: an unknown placeholder is refused at the Chinese text
    call.get_by_role("button", name="编辑话术：首次来电").click()
    text = call.locator("#script-first_contact_call-text-zh")
    expect(text).to_have_value(re.compile(r"^\{customer_title\}您好"))  # the group's wording to start from
    text.fill("{nope}您好")
    call.get_by_role("button", name="保存措辞").click()
    expect(call.get_by_role("alert").first).to_contain_text("有几项需要修改")
    expect(text).to_have_attribute("aria-invalid", "true")
    expect(call.locator("#script-first_contact_call-text-zh-error")).to_contain_text("nope")
    call.screenshot(path=str(screenshots / "script-form-phone-zh-CN.png"))
    text.fill(OWN_WORDING)
    call.get_by_role("button", name="保存措辞").click()
    expect(page.locator(".notice[role=status]")).to_contain_text("话术已保存")
    call = page.locator("[data-script=first_contact_call]")
    expect(call.locator("[data-origin]")).to_have_text("本店改过")
    expect(call.locator(".script__text")).to_contain_text("本周六店里有试驾开放日")
    expect(call.locator("form")).to_have_count(0)

    # a script only the store has: its id from the English title; no stage is refused
    page.get_by_role("button", name="添加本店话术").click()
    form = page.locator("form.script-form")
    form.get_by_label("标题（中文）").fill("周末开放日邀约")
    form.get_by_label("标题（英文）").fill("Weekend open day")
    expect(form.get_by_label("编号")).to_have_value("weekend_open_day")
    form.get_by_label("场景").select_option("store_invitation")
    form.get_by_label("话术（中文）").fill("{customer_name}您好，这周六店里有开放日，{model}可以试驾，给您留个名额？")
    form.get_by_role("button", name="添加话术").click()
    expect(form.locator("[data-error=stages]")).not_to_be_empty()
    form.locator("[data-stage=initial_contact]").click()
    form.get_by_role("button", name="添加话术").click()
    expect(page.locator(".notice[role=status]")).to_have_text("本店话术已添加。")
    expect(page).to_have_url(f"{stack.url}/scripts?store={STORE}")  # the filters cleared to show it
    own = page.locator("[data-script=weekend_open_day]")
    expect(own.locator("[data-origin]")).to_have_text("本店自有")
    expect(own.locator(".script__head strong")).to_have_text("周末开放日邀约")
    page.locator(".library__filters [data-situation=first_contact]").click()
    shot(page, screenshots, "script-library-manager-phone-zh-CN")
    saved = library(stack)
    assert saved["first_contact_call"]["changed_by_store"] and saved["first_contact_call"]["texts"]["zh"] == OWN_WORDING
    assert (saved["weekend_open_day"]["origin"], saved["weekend_open_day"]["stages"]) == ("store", ["initial_contact"])

    # the consultant: the lead's scripts in the store's wording, filled with the customer's name
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh1")
    page.goto(f"{stack.url}/leads/{lead_id}")
    scripts = page.locator(".scripts")
    show_all = scripts.get_by_role("button", name="显示全部", exact=False)
    expect(scripts.locator(".script").first).to_be_visible()
    if show_all.count():
        show_all.click()
    mine = scripts.locator("[data-script=first_contact_call]")
    expect(mine.locator(".script__text")).to_contain_text(f"{name}您好")
    expect(mine.locator(".script__text")).to_contain_text("本周六店里有试驾开放日")
    expect(scripts.locator("[data-script=weekend_open_day] .script__text")).to_contain_text(f"{name}您好，这周六")

    # ... the library from there, read-only, and back to the lead
    scripts.get_by_role("link", name="话术库").click()
    page.wait_for_url(f"{stack.url}/scripts?store={STORE}&lead={lead_id}")
    call = page.locator("[data-script=first_contact_call]")
    expect(call.locator("[data-origin]")).to_have_text("本店改过")
    expect(page.get_by_role("button", name="编辑", exact=False)).to_have_count(0)
    expect(page.get_by_role("button", name="添加本店话术")).to_have_count(0)
    page.get_by_role("link", name="返回").click()
    page.wait_for_url(f"{stack.url}/leads/{lead_id}")

    # log a call with the store's script, then move the lead on a stage
    expect(scripts.locator(".script").first).to_be_visible()
    if show_all.count():
        show_all.click()
    mine.get_by_role("button", name="使用话术", exact=False).click()
    form = page.locator("section.followup")
    form.locator("[data-outcome=reached]").click()
    form.get_by_role("button", name="保存跟进").click()
    expect(form.get_by_role("status").first).to_contain_text("已记录")
    page.locator("[data-stage=needs_confirmed]").click()
    expect(page.locator("[data-stage=needs_confirmed]")).to_have_attribute("aria-pressed", "true")

    eventually(lambda: library(stack, "consultant.sh1")["first_contact_call"]["moved_forward"] == 1 or None,
               timeout=20, message="the stage change reached the followups service")
    scripts.get_by_role("link", name="话术库").click()
    page.locator(".library__filters [data-situation=first_contact]").click()
    expect(page.locator("[data-script=first_contact_call] [data-usage]")).to_have_text("用过 1 次 · 1 次推进 (100%)")
    expect(page.locator("[data-script=first_contact_wechat] [data-usage]")).to_have_text("还没用过")
    shot(page, screenshots, "script-library-consultant-phone-zh-CN")


def test_a_manager_hides_a_group_script_and_deletes_a_store_one_in_english(stack, open_app, screenshots):
    manager = api_token(stack, "manager.sh")
    chinese_only = requests.put(f"{stack.url}/v1/admin/scripts/{STORE}/spring_service_check", timeout=10,
                                headers={"Authorization": f"Bearer {manager}"},
                                json={"situation": "after_sales", "stages": ["after_sales"],
                                      "texts": {"zh": "{customer_name}您好，春季免费检测开始了，欢迎回店。"},
                                      "title": {"zh": "春季检测"}})
    assert chinese_only.status_code == 200, chinese_only.text

    page = open_app(PHONE, "en")
    sign_in(page, stack, "manager.sh")
    page.goto(f"{stack.url}/scripts?store={STORE}&situation=after_sales")
    expect(page.get_by_role("heading", name="Script library", exact=True)).to_be_visible()

    # a store script in Chinese only: shown in Chinese, marked so, its placeholder explained in English
    own = page.locator("[data-script=spring_service_check]")
    expect(own.locator(".script__head strong")).to_have_text("春季检测")
    expect(own.locator(".script__head strong")).to_have_attribute("lang", "zh-CN")
    expect(own.locator(".script__text")).to_have_attribute("lang", "zh-CN")
    expect(own.locator(".script__text mark")).to_have_attribute("lang", "en")
    expect(own.locator(".placeholders__list")).to_contain_text("the customer's name")
    expect(own.locator("[data-origin]")).to_have_text("This store's own")
    expect(own.locator("[data-usage]")).to_have_text("Not used yet")

    # hide a group script of the store's, then show it again
    page.get_by_role("button", name="All situations").click()
    page.locator(".library__filters [data-situation=nurture]").click()
    group = page.locator(".library-script--group").first
    script_id = group.get_attribute("data-script")
    title = group.locator(".script__head strong").inner_text()
    expect(group.locator(".script__head strong")).to_have_attribute("lang", "en")
    group.get_by_role("button", name=f"Hide script: {title}").click()
    expect(page.locator(".notice[role=status]")).to_have_text(f"Hidden: {title}. Consultants no longer see it.")
    hidden = page.locator(f"[data-script={script_id}]")
    expect(hidden.locator("[data-hidden]")).to_have_text("Hidden")
    assert library(stack)[script_id]["hidden"] is True
    shot(page, screenshots, "script-library-phone-en")
    hidden.get_by_role("button", name=f"Show script again: {title}").click()
    expect(page.locator(f"[data-script={script_id}] [data-hidden]")).to_have_count(0)
    assert library(stack)[script_id]["hidden"] is False

    # delete the store's own script: asked once more
    page.goto(f"{stack.url}/scripts?store={STORE}&situation=after_sales")
    own = page.locator("[data-script=spring_service_check]")
    own.get_by_role("button", name="Delete the store's script: 春季检测").click()
    own.get_by_role("button", name="Yes, delete").click()
    expect(page.locator(".notice[role=status]")).to_have_text("Deleted: 春季检测.")
    expect(page.locator("[data-script=spring_service_check]")).to_have_count(0)
    assert "spring_service_check" not in library(stack)
