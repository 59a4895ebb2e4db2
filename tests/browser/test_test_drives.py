"""Test drives in the web app (headless Chromium against the whole running
system): a consultant opens the calendar from their lead's page, picks a
demo vehicle (seed-demo's), books its first free slot with a licence
number, and sees the slot taken on the calendar and the booking on the
lead's list; the manager, whose page (in another browser) still showed the
slot free, books it too and is told someone was first (409), with the
times read again; the consultant checks the customer in and the booking
shows as shown. Set-up goes through the API; the part under test happens
in the browser."""
import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import DESKTOP, PHONE, api_token, lead_for, post, sign_in, staff_get
from tests.support.waiting import eventually

pytestmark = pytest.mark.browser

NAMES = iter(["诸葛亮", "东方明"])


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
    mine = api_token(stack, username)
    owner = staff_get(stack, mine, "/v1/me").json()["id"]
    if lead["consultant"]["id"] != owner:
        answer = requests.post(f"{stack.url}/v1/leads/{lead_id}/assign", timeout=10,
                               json={"consultant_id": owner, "reason": "test set-up"},
                               headers={"Authorization": f"Bearer {manager}"})
        assert answer.status_code == 200, answer.text
    eventually(lambda: staff_get(stack, mine, f"/v1/followups?lead_id={lead_id}&status=open").json() or None,
               timeout=20, message=f"lead {lead_id} in the followups service")
    return lead_id, name


def test_a_consultant_books_a_test_drive_a_second_booking_is_refused_and_check_in_shows_it(
        stack, open_app, screenshots):
    lead_id, name = lead_of(stack, "consultant.sh1")
    token = api_token(stack, "consultant.sh1")
    vehicles = staff_get(stack, token, "/v1/vehicles?store_code=SH-PUDONG").json()
    (han,) = [vehicle for vehicle in vehicles if vehicle["stock_number"] == "SH-PUDONG-HAN-01"]

    # the consultant: from the lead's page to the calendar, the Han's week
    page = open_app(PHONE, "zh-CN")
    sign_in(page, stack, "consultant.sh1")
    page.goto(f"{stack.url}/leads/{lead_id}")
    page.get_by_role("link", name="预约试驾").click()
    expect(page.locator(".test-drives__for")).to_contain_text(name)
    page.locator(f"[data-vehicle='{han['id']}']").click()
    expect(page.locator(f"[data-vehicle='{han['id']}']")).to_have_attribute("aria-pressed", "true")
    first = page.locator("[data-slot]").first
    expect(first).to_be_enabled()
    starts_at = first.get_attribute("data-slot")

    # the manager's page (another browser) shows the same slot free
    other = open_app(DESKTOP, "zh-CN")
    sign_in(other, stack, "manager.sh")
    other.goto(f"{stack.url}/test-drives?lead={lead_id}&vehicle={han['id']}")
    their_slot = other.locator(f"[data-slot='{starts_at}']")
    expect(their_slot).to_be_enabled()

    # the consultant books it: 30 minutes, a licence number
    first.click()
    book = page.locator("section.book")
    expect(book.locator("[data-chosen-slot]")).to_contain_text("Han EV")
    book.get_by_label("驾驶证号").fill("310101199001011234")
    book.get_by_role("button", name="预约这个时段").click()
    expect(book.get_by_role("status")).to_contain_text("已预约：")

    # on the calendar the slot is taken; the lead's list has the booking
    expect(page.locator(f"[data-busy='{starts_at}']")).to_contain_text("已约")
    expect(page.locator(f"[data-slot='{starts_at}']")).to_have_count(0)
    (booking,) = staff_get(stack, token, f"/v1/test-drives?lead_id={lead_id}").json()
    assert (booking["vehicle_id"], booking["status"], booking["licence_last4"]) == (han["id"], "booked", "1234")
    item = page.locator(f"[data-booking='{booking['id']}']")
    expect(item.locator("[data-booking-status]")).to_have_text("已预约")
    expect(item).to_contain_text("尾号 1234")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(screenshots / "test-drive-phone-zh-CN.png"), full_page=True)

    # the manager, still seeing it free, books the same slot: someone was first
    their_slot.click()
    other.locator("section.book").get_by_role("button", name="预约这个时段").click()
    expect(other.locator("section.book").get_by_role("alert")).to_have_text(
        "这个时段刚被别人约了。时段已刷新，请另选一个。")
    expect(other.locator(f"[data-busy='{starts_at}']")).to_be_visible()
    assert len(staff_get(stack, token, f"/v1/test-drives?lead_id={lead_id}").json()) == 1

    # the customer comes: checked in, shown
    item.get_by_role("button", name="到店签到").click()
    item.get_by_role("button", name="客户已到店").click()
    expect(item.locator("[data-booking-status]")).to_have_text("已到店")
    (shown,) = staff_get(stack, token, f"/v1/test-drives?lead_id={lead_id}").json()
    assert shown["status"] == "shown" and shown["checked_in_at"]
