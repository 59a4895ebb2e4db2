"""Follow-ups in the web app (headless Chromium at a phone's size against
the whole running system): a consultant logs a call on a new lead with a
script filled with the customer's name and a photo (and a file that is no
recording, refused at the file while the record is saved), the lead shows
contacted with the record, its thumbnail and a next task; the Today page lists that task, moves it and
completes it. A manager changes the store's cadence in Manage (a refused
value shown at its field, then one saved). Set-up goes through the API;
the part under test happens in the browser. Screenshots go to the
session's ``screenshots`` directory."""
import re
import struct
import zlib
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import PHONE, api_token, lead_for, post, sign_in, staff_get
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

SHANGHAI = ZoneInfo("Asia/Shanghai")
# this module's customers (a stack lives for one module)
NAMES = iter(["欧阳娜", "司马强", "上官燕"])


def user_id(stack, username: str) -> str:
    return staff_get(stack, api_token(stack, username), "/v1/me").json()["id"]


def lead_of(stack, username: str) -> tuple[str, str]:
    """A new lead of ``username``, assigned (by the manager when routing chose
    someone else) and known to the followups service: its id and the customer's name."""
    manager = api_token(stack, "manager.sh")
    name = next(NAMES)
    lead_id = post(stack, lead_for(stack, name))

    def assigned():
        answer = staff_get(stack, manager, f"/v1/leads/{lead_id}")
        return answer.json() if answer.status_code == 200 and answer.json()["status"] == "assigned" else None
    lead = eventually(assigned, timeout=20, message=f"lead {lead_id} assigned")
    owner = user_id(stack, username)
    if lead["consultant"]["id"] != owner:
        answer = requests.post(f"{stack.url}/v1/leads/{lead_id}/assign", timeout=10,
                               json={"consultant_id": owner, "reason": "test set-up"},
                               headers={"Authorization": f"Bearer {manager}"})
        assert answer.status_code == 200, answer.text
    mine = api_token(stack, username)
    eventually(lambda: staff_get(stack, mine, f"/v1/followups?lead_id={lead_id}&status=open").json() or None,
               timeout=20, message=f"lead {lead_id}'s first-contact task in the followups service")
    return lead_id, name


def open_tasks(stack, token: str, lead_id: str) -> list[dict]:
    answer = staff_get(stack, token, f"/v1/followups?lead_id={lead_id}&status=open")
    assert answer.status_code == 200, answer.text
    return answer.json()


def png() -> bytes:
    """A 1x1 greyscale PNG (as tests/unit/followups/test_blobs.py makes them)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + chunk(b"IEND", b""))


def shot(page, screenshots, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_a_call_logged_with_a_script_then_the_next_task_done_on_today(stack, open_app, screenshots):
    lead_id, name = lead_of(stack, "consultant.sh1")
    token = api_token(stack, "consultant.sh1")
    first_task = open_tasks(stack, token, lead_id)[0]

    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh1")
    page.goto(f"{stack.url}/leads/{lead_id}")
    expect(page.locator(".badge--status")).to_have_text("已分配")
    tasks = page.locator("section", has=page.get_by_role("heading", name="待办跟进"))
    expect(tasks.locator(f"[data-task='{first_task['id']}']")).to_contain_text("首次联系")

    # the hint first, then the scripts for the stage, filled with the customer's name
    expect(page.locator("[data-hint]")).to_contain_text("建议下一步：")
    expect(page.locator("[data-hint] li").first).not_to_be_empty()
    script = page.locator(".script", has_text=name).first
    expect(script.locator(".script__text")).to_contain_text(name)
    script_id = script.get_attribute("data-script")
    title = script.locator(".script__head strong").inner_text()
    assert title and "{" not in title  # a title in the app's language
    script.get_by_role("button", name="使用话术", exact=False).click()
    expect(script.get_by_role("button", name="使用话术", exact=False)).to_have_attribute("aria-pressed", "true")
    expect(page.locator("[data-chosen-script]")).to_contain_text("话术：")

    # log the call: channel, outcome, notes, next step (the cadence schedules the next one)
    form = page.locator("section.followup")
    expect(form.locator("[data-record-channel=call]")).to_have_attribute("aria-pressed", "true")
    form.get_by_role("button", name="保存跟进").click()
    expect(form.get_by_role("alert")).to_have_text("请选择结果。")
    form.locator("[data-outcome=reached]").click()
    form.locator("#record-notes").fill("客户想周末来试驾，关心续航")
    form.locator("#record-next-step").fill("周六邀约到店试驾")
    # a photo of the car (the camera on a phone), and a "call recording" that is no recording
    form.locator("input[data-attach=photo]").set_input_files(
        {"name": "trade-in.png", "mimeType": "image/png", "buffer": png()})
    form.locator("input[data-attach=audio]").set_input_files(
        {"name": "call.mp3", "mimeType": "audio/mpeg", "buffer": b"this is not a recording"})
    expect(form.locator("[data-attachment-file='trade-in.png'] img")).to_be_visible()
    expect(form.locator("[data-attachment-file='call.mp3']")).to_contain_text("录音")
    form.get_by_role("button", name="保存跟进").click()
    expect(form.get_by_role("status").first).to_contain_text("已记录。下次跟进：")
    expect(form.get_by_role("status").first).to_contain_text("1 个文件没能附上")
    refused = form.locator("[data-attachment-file='call.mp3']")
    expect(refused.get_by_role("alert")).to_contain_text("不支持的文件类型")
    expect(form.locator("[data-attachment-file='trade-in.png']")).to_have_count(0)  # sent, so off the list

    # the lead is contacted (its clock stopped), the record is listed, a next task is scheduled
    expect(page.locator(".badge--status")).to_have_text("已联系")
    record = page.locator(".record").first
    expect(record).to_contain_text("电话 · 呼出")
    expect(record).to_contain_text("已接通")
    expect(record).to_contain_text("客户想周末来试驾，关心续航")
    expect(record).to_contain_text("下一步：周六邀约到店试驾")
    expect(record).to_contain_text(f"使用话术：{title}")
    (saved,) = staff_get(stack, token, f"/v1/followups/records?lead_id={lead_id}").json()
    assert (saved["channel"], saved["outcome"], saved["script_id"]) == ("call", "reached", script_id)
    (photo,) = saved["attachments"]
    assert (photo["media_type"], photo["filename"]) == ("image/png", "trade-in.png")
    thumbnail = record.locator(f"img[data-attachment='{photo['id']}']")
    expect(thumbnail).to_have_attribute("src", re.compile(r"^data:image/png;base64,"))
    assert thumbnail.evaluate("image => image.complete && image.naturalWidth") == 1  # read with the token, shown
    (next_task,) = open_tasks(stack, token, lead_id)
    assert next_task["id"] != first_task["id"]
    expect(tasks.locator(f"[data-task='{next_task['id']}']")).to_be_visible()
    expect(tasks.locator(f"[data-task='{first_task['id']}']")).to_have_count(0)
    shot(page, screenshots, "lead-followup-phone-zh-CN")

    # Today: the next task with the customer's name; moved to a time picked, then done
    page.get_by_role("link", name="返回").click()
    page.get_by_role("link", name="今天", exact=True).click()
    item = page.locator(f"[data-task='{next_task['id']}']")
    expect(item).to_contain_text(name)
    expect(item).to_contain_text("到期")
    shot(page, screenshots, "today-phone-zh-CN")
    item.get_by_role("button", name=f"稍后：{name}", exact=False).click()
    later = datetime.now(SHANGHAI).date() + timedelta(days=3)
    item.get_by_label("选时间").fill(f"{later.isoformat()}T15:30")
    item.get_by_role("button", name="改到这个时间").click()

    def moved():
        (task,) = open_tasks(stack, token, lead_id)
        return task if task["due_at"] != next_task["due_at"] else None
    due = datetime.fromisoformat(eventually(moved, timeout=10, message="the task moved")["due_at"])
    assert due.astimezone(SHANGHAI).replace(tzinfo=None) == datetime.combine(later, time(15, 30))

    item = page.locator(f"[data-task='{next_task['id']}']")
    expect(item.locator(".task__due")).to_contain_text("15:30")
    item.get_by_role("button", name=f"完成：{name}", exact=False).click()
    item.locator("[data-outcome=no_answer]").click()
    item.get_by_role("button", name="完成这条跟进").click()
    expect(page.locator(f"[data-task='{next_task['id']}']")).to_have_count(0)
    assert next_task["id"] not in [task["id"] for task in open_tasks(stack, token, lead_id)]


def test_a_manager_changes_the_stores_cadence(stack, open_app, screenshots):
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "manager.sh")
    page.get_by_role("link", name="管理").click()
    cadence = page.locator("section.cadence")
    expect(cadence.get_by_role("heading", name="跟进节奏")).to_be_visible()
    expect(cadence.locator("#cadence-B")).to_have_value("7")

    # B more often than A is refused (422), shown at B's field
    cadence.locator("#cadence-B").fill("1")
    cadence.get_by_role("button", name="保存跟进节奏").click()
    expect(cadence.get_by_role("alert")).to_have_text("有几项需要修改，见各项下方的说明。")
    expect(cadence.locator("#cadence-B")).to_have_attribute("aria-invalid", "true")
    expect(cadence.locator("#cadence-B-error")).not_to_be_empty()

    cadence.locator("#cadence-B").fill("5")
    cadence.locator("#cadence-escalate").fill("90")
    cadence.get_by_role("button", name="保存跟进节奏").click()
    expect(cadence.get_by_role("status")).to_have_text("跟进节奏已保存。")
    expect(cadence.locator("#cadence-B")).to_have_attribute("aria-invalid", "false")
    shot(page, screenshots, "cadence-phone-zh-CN")

    saved = staff_get(stack, api_token(stack, "manager.sh"), "/v1/admin/cadences/SH-PUDONG").json()
    assert saved["plan"]["grades"]["B"]["every_days"] == 5
    assert saved["escalate_minutes"] == 90
    assert saved["inherited"] is False
    page.reload()
    expect(page.locator("#cadence-B")).to_have_value("5")
